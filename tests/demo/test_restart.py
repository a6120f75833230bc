# The demo restarted: it continues where it stopped (no second seller edit), and its console carries no warning.
from __future__ import annotations

import dataclasses
import subprocess
import sys
import warnings
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.run_coordinator import QueuedRunCoordinator
from sqlalchemy.exc import SAWarning

from demo.config import DemoConfig, Part
from demo.supervisor import DAGSTER_YAML, LIVE_DEAL, Supervisor
from syncstore.db import migrate
from syncstore.db.engine import create_engine
from tests.demo.test_supervisor import eventually, free_ports

ONLY_TIKTOK = frozenset({Part.TIKTOKSHOP})
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> DemoConfig:
    return DemoConfig(
        data_dir=tmp_path / "data",
        ports=free_ports(),
        parts=ONLY_TIKTOK,
        orders_every_s=None,
        console_lines=False,
    )


def _live_deal_titles(supervisor: Supervisor) -> list[str]:
    with supervisor.marketplace(Part.TIKTOKSHOP) as tiktok:
        return sorted(s.title for s in tiktok.skus().values() if LIVE_DEAL in s.title)


def test_a_restart_does_not_edit_the_seller_titles_again(config: DemoConfig) -> None:
    with Supervisor(config, report=lambda line: None) as first:
        first.start(wait_in_sync=False)
        first._after_first_sync()
        edited = _live_deal_titles(first)
        # The simulator's autosave keeps the edits once TikTok Shop's audit has passed (5 s).
        state = config.state_file(Part.TIKTOKSHOP.value)
        eventually(lambda: LIVE_DEAL in state.read_text(encoding="utf-8"), what="the edits saved")
    assert edited and all(title.count(LIVE_DEAL) == 1 for title in edited)
    lines: list[str] = []
    with Supervisor(config, report=lines.append) as second:
        second.start(wait_in_sync=False)
        second._after_first_sync()
        assert _live_deal_titles(second) == edited
    assert any("not made again" in line for line in lines)


def test_the_key_file_notice_is_printed_once(config: DemoConfig, capfd: pytest.CaptureFixture[str]) -> None:
    # The receiver stores the shop's tokens (so loads the keyring) and its warnings are echoed on the console.
    config = dataclasses.replace(config, parts=ONLY_TIKTOK | {Part.RECEIVER}, console_lines=True)
    lines: list[str] = []
    with Supervisor(config, report=lines.append) as supervisor:
        supervisor.start(wait_in_sync=False)
        assert supervisor.status.connected  # the receiver took the shop's tokens
    printed = capfd.readouterr()
    console = "\n".join([*lines, printed.out, printed.err])
    assert console.count("local key file") == 1, console


def test_a_fresh_sqlite_database_migrates_without_a_warning(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", SAWarning)
            migrate.upgrade(engine)
        with engine.connect() as conn:
            index = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'uq_product_variants_sku_lower'"
            ).scalar()
            foreign_keys = {row[2] for row in conn.exec_driver_sql("PRAGMA foreign_key_list(platform_overrides)")}
    finally:
        engine.dispose()
    assert index is not None and "lower(sku)" in index.lower()
    assert foreign_keys == {"master_products", "product_variants"}
    assert "from_platform" in {c["name"] for c in sa.inspect(create_engine(f"sqlite:///{tmp_path / 'fresh.db'}"))
                               .get_columns("platform_overrides")}  # fmt: skip


def test_the_demo_instance_queues_runs_so_the_launch_dialog_shows_no_run_launcher_warning(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        # The webserver's `runQueuingSupported` is this; the dialog warns only without it.
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        limits = {
            limit["key"]: limit["limit"]
            for limit in instance.run_coordinator.get_run_queue_config().tag_concurrency_limits
        }
        assert limits == {"syncstore/shop": 1, "syncstore/queue": 1}


def test_loading_the_dagster_definitions_warns_nothing() -> None:
    """What `dagster dev` does with the code location; its warnings would be echoed on the demo's console."""
    code = "import pipelines.definitions as d; d.defs.get_repository_def()"
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Warning" not in done.stderr, done.stderr[-2000:]
