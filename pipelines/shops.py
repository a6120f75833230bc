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
(`reloadRepositoryLocation`), as the UI's "Reload" button does. The reload imports the code again,
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
import httpx
from sqlalchemy.exc import SQLAlchemyError

from assets.partitions import SHOPS_NAME, connected_shops, shop_partitions
from syncstore.db.engine import get_engine

LOCATION: Final = "syncstore"  # workspace.yaml's location_name
RELOAD_TIMEOUT_S: Final = 120.0
LEGACY_DYNAMIC_SHOPS: Final = SHOPS_NAME  # the dynamic partitions definition's name before issue 18

_log = logging.getLogger(__name__)

RELOAD_MUTATION: Final = """
mutation Reload($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry {
      locationOrLoadError { __typename ... on PythonError { message } }
    }
    ... on ReloadNotSupported { message }
    ... on RepositoryLocationNotFound { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}
"""


def read_connected_keys() -> tuple[str, ...]:
    """The connected shops' partition keys in the configured database; none (logged) if it does not answer."""
    try:
        return tuple(sorted(connected_shops(get_engine())))
    except SQLAlchemyError as error:
        _log.warning("the shops partitions are empty: the database did not answer (%s)", type(error).__name__)
        return ()


LOADED_SHOPS: Final = read_connected_keys()
SHOP_PARTITIONS: Final = shop_partitions(LOADED_SHOPS)


class ReloadFailed(Exception):
    """The webserver did not reload the code location (unreachable, refused, or the new code failed to load)."""


def reload_code_location(dagster_url: str, location: str = LOCATION, timeout_s: float = RELOAD_TIMEOUT_S) -> None:
    """Ask the Dagster webserver at `dagster_url` to reload `location` (its code imported again), or ReloadFailed."""
    try:
        response = httpx.post(
            f"{dagster_url.rstrip('/')}/graphql",
            json={"query": RELOAD_MUTATION, "variables": {"name": location}},
            timeout=timeout_s,
        )
        response.raise_for_status()
        answer = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise ReloadFailed(f"the Dagster webserver at {dagster_url} did not answer: {error}") from error
    if answer.get("errors"):
        raise ReloadFailed(f"the Dagster webserver refused the reload: {answer['errors'][0].get('message')}")
    result = (answer.get("data") or {}).get("reloadRepositoryLocation") or {}
    kind = result.get("__typename")
    if kind != "WorkspaceLocationEntry":
        raise ReloadFailed(f"the Dagster webserver did not reload {location}: {kind}: {result.get('message', '')}")
    loaded = result.get("locationOrLoadError") or {}
    if loaded.get("__typename") == "PythonError":
        first = str(loaded.get("message", "")).strip().splitlines()[:1]
        raise ReloadFailed(f"the code location {location} failed to load again: {first[0] if first else '?'}")


def legacy_dynamic_shops(instance: dg.DagsterInstance) -> list[str]:
    """The dynamic `shops` partitions an instance still holds from before issue 18."""
    return list(instance.get_dynamic_partitions(LEGACY_DYNAMIC_SHOPS))
