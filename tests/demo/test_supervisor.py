# The demo supervisor: shops connected through the real authorization pages, children watched, nothing left behind.
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from demo.config import DemoConfig, Part, Ports, listens
from demo.processes import DemoError, group_members
from demo.supervisor import Supervisor
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, MasterProduct, PlatformEvent
from syncstore.security.crypto import load_keyring
from syncstore.shops import connections

BASIC = frozenset({Part.SHOPEE, Part.TIKTOKSHOP, Part.RECEIVER})


def free_ports() -> Ports:
    return Ports.free()


def eventually(check, timeout_s: float = 60.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.2)


def processes_with(marker: str) -> list[int]:
    """Pids whose environment mentions `marker` (the demo's data directory): what a demo left running."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def config(tmp_path: Path) -> DemoConfig:
    return DemoConfig(
        data_dir=tmp_path / "data",
        ports=free_ports(),
        parts=BASIC,
        orders_every_s=None,
        console_lines=False,
    )


@pytest.fixture
def supervisor(config: DemoConfig) -> Iterator[Supervisor]:
    with Supervisor(config, report=lambda line: None) as started:
        started.start(wait_in_sync=False)
        yield started


def test_both_shops_are_connected_through_their_authorization_pages(supervisor: Supervisor) -> None:
    connected = {(c.platform, c.shop_ids) for c in supervisor.status.connected}
    assert connected == {("shopee", ("100001",)), ("tiktokshop", ("7494000000000000001",))}
    assert all(c.webhooks_registered for c in supervisor.status.connected)
    keyring = load_keyring(supervisor.settings)
    with transaction(supervisor.engine) as session:
        stored = [c for c in connections.list_connections(session) if c.status == "connected"]
        assert len(stored) == 2
        # The tokens the platform issued through the code exchange, stored encrypted and readable.
        assert all(connections.read_tokens(session, c.id, keyring).access_token for c in stored)
        # The real flow's mark: a single-use state was spent at the receiver's callback.
        spent = session.scalars(sa.select(AuditLog).where(AuditLog.action == "connection.authorize")).all()
        assert len(spent) == 2


def test_marketplace_orders_reach_the_receiver_as_events(supervisor: Supervisor) -> None:
    with supervisor.marketplace(Part.SHOPEE) as shopee, supervisor.marketplace(Part.TIKTOKSHOP) as tiktok:
        sku = "KS-TEE00001-BLACK-S"
        before = shopee.sku(sku).available
        shopee.place_order(sku, 2)
        tiktok.place_order(sku, 1)
        assert shopee.sku(sku).available == before - 2

    def events() -> list[tuple[str, str]]:
        with transaction(supervisor.engine) as session:
            rows = session.execute(sa.select(PlatformEvent.platform, PlatformEvent.kind)).all()
        return sorted((platform, kind) for platform, kind in rows)

    eventually(
        lambda: events() == [("shopee", "order_status"), ("tiktokshop", "order_status")],
        what="both order webhooks stored",
    )


def test_the_catalog_and_both_shops_show_the_sample_images_the_demo_serves(supervisor: Supervisor) -> None:
    base = supervisor.config.image_base
    with transaction(supervisor.engine) as session:
        images = [url for product in session.scalars(sa.select(MasterProduct)) for url in product.images]
    assert images and all(url.startswith(f"{base}/") for url in images)
    answer = httpx.get(images[0], timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(answer.content)).size == (600, 600)


def test_a_child_that_dies_stops_the_demo_with_its_name(supervisor: Supervisor) -> None:
    supervisor.check_children()  # all running
    os.kill(supervisor.children[Part.SHOPEE].pid, signal.SIGKILL)
    with pytest.raises(DemoError, match=r"shopee was killed by signal 9; its log is"):
        eventually(lambda: supervisor.check_children() or False, timeout_s=10, what="the death noticed")


def test_stopping_leaves_no_process_of_any_group(config: DemoConfig) -> None:
    supervisor = Supervisor(config, report=lambda line: None)
    try:
        supervisor.start(wait_in_sync=False)
        groups = [child.pid for child in supervisor.children.values()]
        assert all(group_members(pgid) for pgid in groups)
    finally:
        supervisor.stop()
    assert [pid for pgid in groups for pid in group_members(pgid)] == []
    assert processes_with(str(config.data_path)) == []


def test_a_second_start_reuses_the_connections_and_the_admin(config: DemoConfig) -> None:
    with Supervisor(config, report=lambda line: None) as first:
        first.start(wait_in_sync=False)
        password = first.status.admin_password
    lines: list[str] = []
    with Supervisor(config, report=lines.append) as second:
        second.start(wait_in_sync=False)
        assert second.status.connected == []  # no new authorization needed
        assert second.status.admin_password == password and password
        assert "shopee shop 100001: connected already" in lines
        with second.marketplace(Part.SHOPEE) as shopee:
            assert shopee.sku("KS-TEE00001-BLACK-S").available == 200


@pytest.mark.slow
def test_ctrl_c_stops_the_demo_command_and_everything_it_started(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    ports = free_ports()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCSTORE_")}
    env["SYNCSTORE_DATA_DIR"] = str(data_dir)
    command = [sys.executable, "-m", "demo", "--without", "dagster", "--without", "streamlit", "--orders-every", "0"]
    command += [f"--{part.value}-port={getattr(ports, part.value)}" for part in Part if listens(part)]
    command += [f"--images-port={ports.images}"]
    demo = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        assert any("sign in as" in line and "admin@syncstore.example" in line for line in output), output
        assert any(f"http://127.0.0.1:{ports.receiver}" in line for line in output)
        assert any("sample images" in line and f"http://127.0.0.1:{ports.images}" in line for line in output)
        assert processes_with(str(data_dir))  # the children run
        demo.send_signal(signal.SIGINT)
        try:
            # Each child has a 15 s grace to stop; under a loaded CI machine the whole stop has taken over 60 s.
            # Wait for the demo itself, not for EOF on its output: a process that kept the pipe would hang
            # `communicate`; the check below names any process left running instead.
            demo.wait(timeout=180)
            os.set_blocking(demo.stdout.fileno(), False)
            rest = demo.stdout.read() or ""
        except subprocess.TimeoutExpired:
            logs = sorted((data_dir / "logs").glob("*.log")) if (data_dir / "logs").exists() else []
            tails = {log.name: log.read_text(errors="replace").splitlines()[-15:] for log in logs}
            pytest.fail(f"the demo did not stop within 180 s of Ctrl-C; its children's last log lines: {tails}")
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, "".join(output) + rest
    assert processes_with(str(data_dir)) == [], "".join(output) + rest
    assert "no demo process left running" in rest
    assert processes_with(str(data_dir)) == []
