# The "shops" dynamic partitions: one per connected shop, keyed <platform>-<shop_id>.
"""Shop partitions.

A partition key is a `syncstore.shops.keys.ShopKey` written out (`<platform>-<shop_id>`), the same
shop key `syncstore.plan.reconcile` uses. The `shop_partitions` sensor keeps the set in step with the connected
rows of `platform_connections`; assets turn their key back into a connection id here.
"""

import dagster as dg
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.errors import InvalidInput, NotFoundError
from syncstore.shops import connections
from syncstore.shops.keys import ShopKey

SHOPS = dg.DynamicPartitionsDefinition(name="shops")
SHOP_TAG = "syncstore/shop"


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
