# The demo's Lazada shop: seeded, served, connected through its login page, and its pushes reach the receiver.
"""A supervisor running only the Lazada simulator and the receiver (no Dagster): the third demo shop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.simulator.common import free_port
from demo import seeding
from demo.config import DemoConfig, Part, Ports
from demo.supervisor import Supervisor
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformEvent


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    ports = Ports(
        shopee=free_port(), tiktokshop=free_port(), lazada=free_port(), receiver=free_port(), dagster=free_port(),
        streamlit=free_port(), images=free_port(), api=free_port(),
    )  # fmt: skip
    config = DemoConfig(
        data_dir=tmp_path / "data",
        ports=ports,
        parts=frozenset({Part.LAZADA, Part.RECEIVER}),
        orders_every_s=None,
        console_lines=False,
    )
    with Supervisor(config, report=lambda line: None) as started:
        started.start(wait_in_sync=False)
        yield started


def test_the_lazada_shop_is_connected_and_its_order_pushes_reach_the_receiver(supervisor: Supervisor) -> None:
    connected = {(c.platform, c.shop_ids) for c in supervisor.status.connected}
    assert connected == {("lazada", (seeding.LAZADA_SELLER_ID,))}
    with supervisor.marketplace(Part.LAZADA) as lazada:
        sku = "KS-TEE00001-BLACK-S"
        before = lazada.sku(sku).available
        lazada.place_order(sku, 2)  # two unit rows, two pushes
        assert lazada.sku(sku).available == before - 2

    def events() -> list[tuple[str, str]]:
        with transaction(supervisor.engine) as session:
            rows = session.execute(sa.select(PlatformEvent.platform, PlatformEvent.kind)).all()
        return sorted((platform, kind) for platform, kind in rows)

    deadline = time.monotonic() + 30
    while events() != [("lazada", "order_status")] * 2:
        assert time.monotonic() < deadline, events()
        time.sleep(0.2)
