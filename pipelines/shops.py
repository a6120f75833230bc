# The code location's shop partitions: the connected shops when it loaded, and the reload that follows new ones.
"""The `shops` partitions of this code location.

`LOADED_SHOPS` is read from the database once, when the code location loads (the webserver's and
the daemon's code servers, and every run process): the connected shops' keys. `SHOP_PARTITIONS`
is the static partitions definition of those keys that `pipelines.definitions` puts on the
per-shop assets (see `assets.partitions` for why they are not dynamic partitions: the UI offers
"Add new partition" for those, and a made-up shop could be added).

A shop connected or disconnected later changes the database, not the loaded keys: the
`shop_partitions` sensor (`pipelines.sensors`) notices the difference and asks the Dagster
webserver (`SYNCSTORE_DAGSTER_URL`) to reload the code location through its GraphQL API
(`pipelines.reload`), as the UI's "Reload" button does. The reload imports the code again,
so the keys are read again. Under `dagster dev` the webserver and the daemon share the code server,
so both see the new keys at once; with a separate `dagster-daemon`, the daemon reloads its own
code servers every 60 s anyway. Until then the reconcile schedules keep to the loaded keys that
are still connected (a run for a key Dagster does not know would fail the whole tick).

A database that does not answer when the code location loads gives no shop (logged), not a
code location that fails to load: the sensor asks for a reload once the database answers.

Migration from the dynamic partitions: the keys are the same strings, so the assets'
materializations and the runs of every shop keep their history. The instance's old dynamic
`shops` partitions are no longer read; the sensor deletes them (`LEGACY_DYNAMIC_SHOPS`).
"""

import logging
from typing import Final

import dagster as dg
from sqlalchemy.exc import SQLAlchemyError

from assets.partitions import SHOPS_NAME, connected_shops, shop_partitions
from syncstore.db.engine import get_engine

LEGACY_DYNAMIC_SHOPS: Final = SHOPS_NAME  # the dynamic partitions definition's name before issue 18

_log = logging.getLogger(__name__)


def read_connected_keys() -> tuple[str, ...]:
    """The connected shops' partition keys in the configured database; none (logged) if it does not answer."""
    try:
        return tuple(sorted(connected_shops(get_engine())))
    except SQLAlchemyError as error:
        _log.warning("the shops partitions are empty: the database did not answer (%s)", type(error).__name__)
        return ()


LOADED_SHOPS: Final = read_connected_keys()
SHOP_PARTITIONS: Final = shop_partitions(LOADED_SHOPS)


def legacy_dynamic_shops(instance: dg.DagsterInstance) -> list[str]:
    """The dynamic `shops` partitions an instance still holds from before issue 18."""
    return list(instance.get_dynamic_partitions(LEGACY_DYNAMIC_SHOPS))
