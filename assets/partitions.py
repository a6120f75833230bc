# The "shops" partitions: one per connected shop, keyed <platform>-<shop_id>, read from the database.
"""Shop partitions.

A partition key is a `syncstore.shops.keys.ShopKey` written out (`<platform>-<shop_id>`), the same
shop key `syncstore.plan.reconcile` uses. The set of keys is the connected rows of
`platform_connections`: `shop_partitions(keys)` is a *static* partitions definition of those keys,
which the code location builds when it loads (`pipelines.shops`) and puts on the per-shop assets
(`with_shop_partitions`). The assets declare `SHOPS`, an empty placeholder of the same kind, so an
asset used outside the code location has no shop at all rather than a made-up one.

Why not Dagster's dynamic partitions (what this was until issue 18): for a
`DynamicPartitionsDefinition` the Launchpad and the Materialize dialog always offer "Add new
partition" (dagster-webserver 1.13 shows it for every dynamic partitions definition; only a
read-only webserver hides it, and that hides Launch too), so anyone could create a partition for
a shop that does not exist and launch runs that can only fail. Static keys cannot be added from
the UI: what the dialogs offer is exactly the connected shops. Whatever key a run still carries
(an old run re-executed, a GraphQL call by hand), Dagster refuses a key that is not in the set
("Could not find a partition with key ..."), and `connection_id_for` refuses a shop that is not
connected, both before any connector is built.
"""

from collections.abc import Iterable, Sequence
from typing import Final

import dagster as dg
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.errors import InvalidInput, NotFoundError
from syncstore.shops import connections
from syncstore.shops.keys import ShopKey

SHOPS_NAME: Final = "shops"
SHOP_TAG: Final = "syncstore/shop"


def shop_partitions(keys: Iterable[str]) -> dg.StaticPartitionsDefinition:
    """The static partitions definition of these shop keys (sorted, each once)."""
    return dg.StaticPartitionsDefinition(sorted(set(keys)))


# The placeholder the assets declare; the code location replaces it with the connected shops' keys.
SHOPS: Final = shop_partitions(())


def with_shop_partitions(
    assets: Sequence[dg.AssetsDefinition], partitions: dg.StaticPartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """The per-shop assets partitioned by `partitions` (everything else about them unchanged)."""
    return [
        asset.map_asset_specs(
            lambda spec: spec.replace_attributes(partitions_def=partitions) if spec.partitions_def is not None else spec
        )
        for asset in assets
    ]


def connected_shops(engine: sa.Engine) -> dict[str, int]:
    """Partition key -> connection id, for every connected shop."""
    with transaction(engine) as session:
        rows = connections.list_connections(session)
        return {str(ShopKey(row.platform, row.shop_id)): row.id for row in rows if row.status == "connected"}


def connection_id_for(engine: sa.Engine, key: str) -> int:
    """The connection of a partition key (any status: a disconnected shop's runs say so clearly)."""
    try:
        wanted = ShopKey.parse(key)
    except InvalidInput:
        raise NotFoundError(f"no connected shop has the partition key {key}") from None
    with transaction(engine) as session:
        for row in connections.list_connections(session):
            if ShopKey(row.platform, row.shop_id) == wanted:
                if row.status != "connected":
                    raise NotFoundError(f"shop {key} is {row.status}, not connected: connect it again to sync it")
                return row.id
    raise NotFoundError(f"no connected shop has the partition key {key}")
