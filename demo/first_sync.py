# The first reconcile of newly connected shops, asked of the running Dagster (so its UI shows the runs).
"""Kick off the first sync of the demo shops.

Dagster reconciles every shop on a 15-minute schedule; a shop connected a moment ago should not
wait for it. The shops are connected before Dagster starts, so the code location loads with their
partitions (`pipelines.shops`; if one is missing, the code location is reloaded first, as the
`shop_partitions` sensor would within 30 s). The demo submits one `reconcile` run per shop through
the Dagster webserver's GraphQL API, tagged like the schedule's runs, so the runs, their assets and
their logs show in the Dagster UI like any other.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import dagster as dg
import httpx
from dagster_graphql import DagsterGraphQLClient

from demo.processes import DemoError
from pipelines.reload import ReloadFailed, reload_code_location

RECONCILE_JOB: Final = "reconcile"
SHOP_TAG: Final = "syncstore/shop"  # the tag deploy/dagster.yaml limits to one run per shop
LOCATION: Final = "syncstore"  # workspace.yaml's location_name
_LOCATIONS_QUERY: Final = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


def shop_key(platform: str, shop_id: str) -> str:
    """The `shops` partition key (assets/partitions.py)."""
    return f"{platform}-{shop_id}"


def wait_for_code_location(host: str, port: int, timeout_s: float = 180.0) -> None:
    """Block until the webserver has loaded the `syncstore` code location; DemoError if it failed to load."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=f"http://{host}:{port}", timeout=10) as client:
        while True:
            entry = _location_entry(client)
            if entry is not None and entry.get("loadStatus") == "LOADED":
                loaded = entry.get("locationOrLoadError") or {}
                if loaded.get("__typename") == "PythonError":
                    first = str(loaded.get("message", "")).strip().splitlines()[:1]
                    raise DemoError(
                        f"Dagster could not load the code location ({first[0] if first else 'unknown error'}); "
                        "see the dagster log"
                    )
                if loaded.get("__typename") == "RepositoryLocation":
                    return
            if time.monotonic() > deadline:
                raise DemoError(f"Dagster did not load the code location within {timeout_s:.0f} s")
            time.sleep(1)


def _location_entry(client: httpx.Client) -> dict[str, Any] | None:
    try:
        answer = client.post("/graphql", json={"query": _LOCATIONS_QUERY}).json()
    except (httpx.HTTPError, ValueError):
        return None
    workspace = (answer.get("data") or {}).get("workspaceOrError") or {}
    entries: list[dict[str, Any]] = workspace.get("locationEntries") or []
    return next((e for e in entries if e.get("name") == LOCATION), None)


def wait_for_runs(dagster_home: Path, timeout_s: float) -> int:
    """Wait (at most `timeout_s`) until no run is starting or running; how many were still running then."""
    in_flight = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
    deadline = time.monotonic() + timeout_s
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        while True:
            running = instance.get_runs_count(filters=in_flight)
            if running == 0 or time.monotonic() > deadline:
                return running
            time.sleep(0.5)


_PARTITIONS_QUERY: Final = """
query Keys {
  assetNodes(assetKeys: [{path: ["shop_snapshot"]}]) { partitionKeys }
}
"""


def _partition_keys(host: str, port: int) -> list[str]:
    """The `shops` partition keys the webserver's code location has (those of `shop_snapshot`)."""
    answer = httpx.post(f"http://{host}:{port}/graphql", json={"query": _PARTITIONS_QUERY}, timeout=30).json()
    nodes = (answer.get("data") or {}).get("assetNodes") or []
    return [key for node in nodes for key in node.get("partitionKeys") or []]


def request_first_sync(dagster_home: Path, host: str, port: int, shops: Iterable[tuple[str, str]]) -> list[str]:
    """Submit one reconcile run per shop (reloading the code location first if it lacks a shop); the run ids."""
    keys = sorted(shop_key(platform, shop_id) for platform, shop_id in shops)
    wait_for_code_location(host, port)
    if not set(keys) <= set(_partition_keys(host, port)):
        try:
            reload_code_location(f"http://{host}:{port}", LOCATION)
        except ReloadFailed as error:
            raise DemoError(f"Dagster has no partition for a connected shop and did not reload: {error}") from error
    client = DagsterGraphQLClient(host, port_number=port, timeout=60)
    return [
        client.submit_job_execution(
            RECONCILE_JOB,
            repository_location_name=LOCATION,
            tags={"dagster/partition": key, SHOP_TAG: key, "syncstore/started_by": "demo"},
        )
        for key in keys
    ]
