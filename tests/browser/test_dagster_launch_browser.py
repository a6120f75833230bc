# Browser test of issue 18 item 8: Dagster's Launch and Materialize dialogs offer the connected shops only, no warning.
"""Dagster's launch dialogs in a real browser, on a Dagster started as the demo starts it.

One `dagster dev` (webserver and daemon, the demo's DAGSTER_HOME/dagster.yaml with the queued run
coordinator) over a fresh SQLite database with two connected shops. In chromium:

1. the `reconcile` job's Launchpad offers the two shops as partitions, and no "Add new partition"
   (the `shops` partitions were dynamic: anyone could add a shop that does not exist), and shows no
   warning about the run launcher or the run coordinator;
2. `shop_snapshot`'s Materialize dialog: the same;
3. a shop connected while Dagster runs: the `shop_partitions` sensor has the code location
   reloaded and the Launchpad offers the new shop, without anyone pressing "Reload".

Needs /usr/bin/chromium (Debian's `chromium` package); never downloads a browser.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from connectors.simulator.common import free_port
from demo.first_sync import wait_for_code_location
from demo.supervisor import DAGSTER_YAML
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.shops import connections
from tests.browser.test_app_browser import browser
from tests.conftest import IN_CI

__all__ = ["browser"]  # the shared fixture of tests/browser/test_app_browser.py, used by name

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SYNCSTORE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "tests" / "browser" / "artifacts"
HOST = "127.0.0.1"
START_TIMEOUT_S = 150.0
WAIT_MS = 30_000
# The sensor runs every 30 s; then the reload imports the code location again.
RELOAD_WAIT_S = 75.0
SHOPS = (("shopee", "7001"), ("tiktokshop", "7494"))
KEYRING = crypto.Keyring.parse(crypto.generate_key("dagster-browser"))
# What Dagster's dialogs say when the instance is not set up as the demo's is (the run launcher and coordinator
# warnings, a daemon that does not run); none may show.
WARNING = re.compile(r"run launcher|run coordinator|daemon is not running|not advised", re.IGNORECASE)


@dataclass(frozen=True)
class Dagster:
    base: str
    database_url: str


def _connect(database_url: str, platform: str, shop_id: str) -> None:
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            connections.save_connection(
                Actor.command_line(), session, platform=platform, shop_id=shop_id, access_token="a",
                refresh_token="r", access_token_expires_at=None, refresh_token_expires_at=None, keyring=KEYRING,
            )  # fmt: skip
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def dagster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dagster]:
    """`dagster dev` as the demo runs it, on a fresh database with two connected shops."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    workdir = tmp_path_factory.mktemp("dagster-launch")
    home = workdir / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    database_url = f"sqlite:///{workdir / 'syncstore.db'}"
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    for platform, shop_id in SHOPS:
        _connect(database_url, platform, shop_id)
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SYNCSTORE_")}
    env.update({
        "SYNCSTORE_DATA_DIR": str(workdir), "SYNCSTORE_DATABASE_URL": database_url, "SYNCSTORE_DAGSTER_URL": base,
        "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1",
    })  # fmt: skip
    log_path = workdir / "dagster.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", str(ROOT / "workspace.yaml"), "-h", HOST, "-p", str(port),
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            try:
                wait_for_code_location(HOST, port, timeout_s=START_TIMEOUT_S)
            except Exception as error:
                log.flush()
                pytest.fail(f"dagster did not start ({error}):\n{log_path.read_text(errors='replace')[-3000:]}")
            yield Dagster(base, database_url)
        finally:
            os.killpg(process.pid, signal.SIGINT)  # dagster dev stops its webserver, daemon and code server
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


SHOP_KEY = re.compile(r"^[a-z]+-\d+")


@pytest.fixture(scope="module")
def ui(dagster: Dagster, browser: Any) -> Dagster:
    """Dagster after a person's first visit: its one-time "Join the Dagster community" prompt skipped."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{dagster.base}/overview")
        skip = page.get_by_role("button", name="Skip")
        try:
            skip.wait_for(timeout=15_000)
            skip.click()
        except PlaywrightTimeout:
            pass  # not shown: the instance has seen it already
    finally:
        page.close()
    return dagster


def _offered(page: Any) -> list[str]:
    """The shop keys of the open partition menu, in order, each once."""
    lines = [text.strip().splitlines()[0] for text in page.locator("li").all_inner_texts() if text.strip()]
    return list(dict.fromkeys(line for line in lines if re.fullmatch(r"[a-z]+-\d+", line)))


def _launchpad_partitions(page: Any, dagster: Dagster) -> list[str]:
    """Open the reconcile job's Launchpad and read the shops its partition picker offers."""
    page.goto(f"{dagster.base}/locations/syncstore/jobs/reconcile/playground")
    picker = page.get_by_placeholder("Partition")
    picker.wait_for(timeout=WAIT_MS)
    picker.click()
    page.locator("li", has_text=SHOP_KEY).first.wait_for(timeout=WAIT_MS)
    return _offered(page)


def test_the_launchpad_offers_the_connected_shops_only_and_no_warning(browser: Any, ui: Dagster) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        assert _launchpad_partitions(page, ui) == ["shopee-7001", "tiktokshop-7494"]
        _shot(page, "dagster-launchpad")
        expect(page.get_by_text(re.compile(r"Add new partition", re.IGNORECASE))).to_have_count(0)
        shown = page.locator("body").inner_text()
        assert not WARNING.search(shown)
        # The resources' default config names no database URL (in production it holds the password).
        assert "database" in shown and ui.database_url.removeprefix("sqlite:///") not in shown
    finally:
        page.close()


def test_the_materialize_dialog_offers_no_new_partition_and_no_warning(browser: Any, ui: Dagster) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{ui.base}/assets/shop_snapshot")
        page.locator("button", has_text="Materialize").first.click(timeout=WAIT_MS)
        dialog = page.locator(".dagster-dialog")
        dialog.get_by_text(re.compile(r"^Select a partition")).click(timeout=WAIT_MS)
        page.locator("li", has_text=SHOP_KEY).first.wait_for(timeout=WAIT_MS)
        assert _offered(page) == ["shopee-7001", "tiktokshop-7494"]
        # A shop that does not exist: nothing to pick, and nothing offers to create it.
        page.keyboard.type("shopee-404")
        expect(page.get_by_text("No matching partitions found")).to_be_visible(timeout=WAIT_MS)
        _shot(page, "dagster-materialize")
        expect(page.get_by_text(re.compile(r"Add (new )?partition|Create partition", re.IGNORECASE))).to_have_count(0)
        assert not WARNING.search(page.locator("body").inner_text())
    finally:
        page.close()


def _code_location_keys(dagster: Dagster) -> list[str]:
    """The partition keys the webserver's code location has now (what its dialogs read), [] while it reloads."""
    query = '{ assetNodes(assetKeys: [{path: ["shop_snapshot"]}]) { partitionKeys } }'
    try:
        answer = httpx.post(f"{dagster.base}/graphql", json={"query": query}, timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return []
    nodes = (answer.get("data") or {}).get("assetNodes") or []
    return [key for node in nodes for key in node.get("partitionKeys") or []]


def test_a_shop_connected_while_dagster_runs_is_offered_after_the_sensor_reloads(browser: Any, ui: Dagster) -> None:
    _connect(ui.database_url, "lazada", "9")
    # Nobody presses "Reload": the shop_partitions sensor (every 30 s) has the code location reloaded.
    deadline = time.monotonic() + RELOAD_WAIT_S
    while "lazada-9" not in _code_location_keys(ui):
        assert time.monotonic() < deadline, f"no reload within {RELOAD_WAIT_S:.0f} s"
        time.sleep(2)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        assert _launchpad_partitions(page, ui) == ["lazada-9", "shopee-7001", "tiktokshop-7494"]
    finally:
        page.close()
