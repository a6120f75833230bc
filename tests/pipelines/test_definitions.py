# The Dagster code location loads: jobs, sensors, schedules and resources as the deployment expects them.
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs
from pipelines.shops import LOADED_SHOPS

ROOT = Path(__file__).resolve().parents[2]


def test_the_definitions_validate_and_hold_every_job_sensor_and_schedule() -> None:
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    assert {job.name for job in repo.get_all_jobs()} >= {
        "push_changes", "apply_events", "recover_orders", "reconcile", "refresh_tokens", "retention",
        "refresh_categories", "low_stock_digest_job",
    }  # fmt: skip
    assert {sensor.name for sensor in repo.sensor_defs} == {
        "outbox_sensor", "events_sensor", "shop_partitions", "run_failure_alert", "alerts_sensor",
    }  # fmt: skip
    assert {schedule.name for schedule in repo.schedule_defs} == {
        "reconcile_every_15_minutes", "full_reconcile_nightly", "token_refresh_hourly", "retention_daily",
        "catalog_overview_hourly", "recover_orders_schedule", "category_refresh_daily", "low_stock_digest_daily",
    }  # fmt: skip
    recover = repo.get_schedule_def("recover_orders_schedule")
    assert recover.cron_schedule == "*/2 * * * *"  # W9: every 2 minutes by default
    # The demo expects them on.
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in repo.sensor_defs)
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in repo.schedule_defs)
    assert {"database", "marketplaces"} <= set(defs.resources or {})


def test_the_shop_assets_are_partitioned_by_shop_and_described() -> None:
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    for name in ("shop_snapshot", "catalog_diff", "listing_sync"):
        node = graph.get(dg.AssetKey(name))
        # Static keys (the connected shops when the code location loaded): the UI offers no "Add new partition".
        assert isinstance(node.partitions_def, dg.StaticPartitionsDefinition)
        assert node.partitions_def.get_partition_keys() == list(LOADED_SHOPS)
    assert graph.get(dg.AssetKey("master_catalog")).partitions_def is None
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, f"{key} has no description"
    assert {check.name for check in graph.asset_check_keys} == {
        "sync_failure_rate_under_10_percent", "no_conflict_pending_over_a_day",
        "api_quota_under_80_percent", "webhook_backlog_under_5_minutes",
    }  # fmt: skip


def test_the_latency_path_runs_in_process_and_the_queues_are_tagged() -> None:
    repo = defs.get_repository_def()
    for name in ("apply_events", "push_changes"):
        job = repo.get_job(name)
        assert job.executor_def.name == "in_process"
    assert repo.get_job("apply_events").tags["syncstore/queue"] == "events"
    assert repo.get_job("push_changes").tags["syncstore/queue"] == "push"


def test_dagster_definitions_validate_accepts_the_workspace(tmp_path: Path) -> None:
    # The CI command: dagster definitions validate -w workspace.yaml (from the project root).
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
