# Asks the Dagster webserver to reload the code location, as the UI's "Reload" button does (GraphQL).
"""`reload_code_location`: the code location imported again by the webserver, so it reads the shops again.

Used by the `shop_partitions` sensor (`pipelines.sensors`) when a shop is connected or disconnected,
and by the demo before its first sync. Imports nothing that reads the database.
"""

from typing import Final

import httpx

LOCATION: Final = "syncstore"  # workspace.yaml's location_name
RELOAD_TIMEOUT_S: Final = 120.0

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
