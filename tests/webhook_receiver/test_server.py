# `syncstore receiver run` for real: uvicorn workers on loopback, concurrent signed events, a clean stop.
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from connectors.shopee.signing import sign_push
from connectors.simulator.common import free_port
from tests.webhook_receiver.helpers import APP_KEY, APP_SECRET, METRICS_TOKEN, PARTNER_KEY, compact, count, tiktok

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver_process(db_url: str, engine: sa.Engine, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SYNCSTORE_")}
    env.update(
        {
            "SYNCSTORE_DATABASE_URL": db_url,
            "SYNCSTORE_DATA_DIR": str(tmp_path),
            "SYNCSTORE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "SYNCSTORE_SHOPEE_PARTNER_ID": "2001887",
            "SYNCSTORE_SHOPEE_PARTNER_KEY": PARTNER_KEY,
            "SYNCSTORE_TIKTOKSHOP_APP_KEY": APP_KEY,
            "SYNCSTORE_TIKTOKSHOP_APP_SECRET": APP_SECRET,
            "SYNCSTORE_WEBHOOK_PER_IP_PER_MINUTE": "0",
            "SYNCSTORE_METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    log = (tmp_path / "receiver.log").open("wb")
    command = [sys.executable, "-m", "cli.main", "receiver", "run", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the receiver did not start:\n{(tmp_path / 'receiver.log').read_text()[-3000:]}")
            time.sleep(0.1)
        yield url, process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def shopee_for(url: str, order: str) -> tuple[str, bytes, dict[str, str]]:
    body = compact({"code": 3, "shop_id": 780001, "timestamp": int(time.time()), "data": {"ordersn": order}})
    return "/webhooks/shopee", body, {"Authorization": sign_push(f"{url}/webhooks/shopee", body, PARTNER_KEY)}


def test_the_served_receiver_stores_concurrent_events_once_and_stops_cleanly(
    receiver_process: tuple[str, subprocess.Popen[bytes]], engine: sa.Engine
) -> None:
    url, process = receiver_process
    now = time.time()
    requests = [shopee_for(url, f"SRV{index:05d}") for index in range(100)]
    requests += [tiktok(timestamp=now) for _ in range(100)]
    requests += requests[:20]  # redeliveries

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            semaphore = asyncio.Semaphore(32)

            async def one(path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
                async with semaphore:
                    return await client.post(path, content=body, headers=headers)

            return list(await asyncio.gather(*(one(*request) for request in requests)))

    answers = asyncio.run(send_all())
    assert {answer.status_code for answer in answers} == {200}
    assert {answer.content for answer in answers[:100]} == {b""}
    assert count(engine, "webhook_logs") == 200 and count(engine, "platform_events") == 200
    assert httpx.get(f"{url}/metrics").status_code == 401
    assert httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200

    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=20) == 0
