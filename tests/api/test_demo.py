# The demo starts the API beside the app and prints its docs URL in the banner; stopping leaves nothing behind.
"""`make demo` and the API."""

from __future__ import annotations

from pathlib import Path

import httpx

from connectors.simulator.common import free_port
from demo.config import DemoConfig, Part, Ports
from demo.processes import group_members
from demo.supervisor import Supervisor


def test_the_demo_serves_the_api_and_names_it_in_the_banner(tmp_path: Path) -> None:
    ports = Ports(shopee=free_port(), tiktokshop=free_port(), lazada=free_port(), receiver=free_port(),
                  dagster=free_port(), streamlit=free_port(), images=free_port(), api=free_port())  # fmt: skip
    parts = frozenset({Part.SHOPEE, Part.TIKTOKSHOP, Part.RECEIVER, Part.API})
    config = DemoConfig(data_dir=tmp_path / "data", ports=ports, parts=parts, orders_every_s=None, console_lines=False)
    supervisor = Supervisor(config, report=lambda line: None)
    try:
        supervisor.start(wait_in_sync=False)
        url = f"http://127.0.0.1:{ports.api}"
        assert f"{url}/docs" in supervisor.banner()
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "SyncStore API"
        anonymous = httpx.get(f"{url}/v1/products")
        assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
        pgid = supervisor.children[Part.API].pid
    finally:
        supervisor.stop()
    assert group_members(pgid) == []
