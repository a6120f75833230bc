# deploy/dagster.yaml loads: PostgreSQL storage, the queued coordinator and the run limits the jobs rely on.
from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.run_coordinator import QueuedRunCoordinator
from sqlalchemy.engine import make_url

from pipelines.definitions import defs

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_the_production_instance_config_loads_with_one_run_per_shop_and_queue(
    empty_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(empty_postgres_url)
    for name, value in {"HOST": url.host, "PORT": url.port or 5432, "DB": url.database, "USER": url.username,
                        "PASSWORD": url.password or ""}.items():  # fmt: skip
        monkeypatch.setenv(f"DAGSTER_PG_{name}", str(value))
    shutil.copy(ROOT / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, QueuedRunCoordinator)
        limits = {(limit["key"], limit["limit"]) for limit in coordinator.get_run_queue_config().tag_concurrency_limits}
        assert limits == {("syncstore/shop", 1), ("syncstore/queue", 1)}
    repo = defs.get_repository_def()
    assert repo.get_job("push_changes").tags["syncstore/queue"] == "push"
