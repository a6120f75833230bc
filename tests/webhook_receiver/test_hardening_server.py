# S5/S6 on the served receiver: slow and idle clients are shed, forwarded-for is not believed by default.
"""The receiver served as `syncstore receiver run` serves it (`python -m webhook_receiver.server` with
uvicorn's command line), in a child process whose open-file limit is lowered to `FILE_LIMIT`."""

from __future__ import annotations

import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from connectors.shopee.signing import sign_push
from connectors.simulator.common import free_port
from tests.webhook_receiver.helpers import APP_KEY, APP_SECRET, PARTNER_KEY, compact

ROOT = Path(__file__).resolve().parents[2]
FILE_LIMIT = 256
HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 1.0
WAIT_S = 60.0  # the longest any wait below may take before the test fails (a deadline, never a timing assertion)


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def signed_shopee(self, order: str) -> httpx.Response:
        body = compact({"code": 3, "shop_id": 780001, "timestamp": int(time.time()), "data": {"ordersn": order}})
        headers = {"Authorization": sign_push(f"{self.url}/webhooks/shopee", body, PARTNER_KEY)}
        return httpx.post(f"{self.url}/webhooks/shopee", content=body, headers=headers, timeout=5)


def _lower_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


def receiver_command(port: int) -> list[str]:
    """What `syncstore receiver run --port P` execs (see cli/main.py)."""
    return [
        sys.executable, "-m", "webhook_receiver.server", "webhook_receiver.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "info", "--no-access-log",
        "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip


@pytest.fixture
def serve_receiver(sqlite_url: str, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(**settings: str) -> Served:
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("SYNCSTORE_")}
        env.update(
            {
                "SYNCSTORE_DATABASE_URL": sqlite_url,
                "SYNCSTORE_DATA_DIR": str(tmp_path),
                "SYNCSTORE_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "SYNCSTORE_SHOPEE_PARTNER_ID": "2001887",
                "SYNCSTORE_SHOPEE_PARTNER_KEY": PARTNER_KEY,
                "SYNCSTORE_TIKTOKSHOP_APP_KEY": APP_KEY,
                "SYNCSTORE_TIKTOKSHOP_APP_SECRET": APP_SECRET,
                "SYNCSTORE_RECEIVER_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_S),
                "SYNCSTORE_RECEIVER_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_S),
                "SYNCSTORE_RECEIVER_KEEP_ALIVE_SECONDS": "1",
                "SYNCSTORE_WEBHOOK_PER_IP_PER_MINUTE": "0",
                "SYNCSTORE_WEBHOOK_REJECTED_PER_IP_PER_MINUTE": "0",
                **settings,
            }
        )
        log_path = tmp_path / f"receiver-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                receiver_command(port),
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_lower_file_limit,  # only setrlimit in the child
            )
        started.append((process, log_path))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT_S
        while True:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return Served(url, port, process, log_path)
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the receiver did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    yield start
    for process, _ in started:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def connect(port: int, first_bytes: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def closed_by_server(sock: socket.socket, within_s: float) -> bytes | None:
    """Everything the server sent before closing `sock`, or None if it is still open after `within_s`."""
    received = b""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if ready:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk
    return None


HALF_SENT = (
    b"",  # connects and says nothing
    b"POST /webhooks/shopee HTTP/1.1\r\nHost: x\r\n",  # headers never finished (slowloris)
    b"POST /webhooks/shopee HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{",  # body never finished
)


@pytest.mark.slow
def test_a_thousand_half_open_connections_neither_block_a_signed_webhook_nor_exhaust_file_descriptors(
    serve_receiver: Callable[..., Served],
) -> None:
    # Headers come so late here that only the connection cap can make room: idle and half-sent
    # connections are shed, oldest first, so the file limit is never reached.
    served = serve_receiver(SYNCSTORE_RECEIVER_HEADER_TIMEOUT_SECONDS="600")
    sockets = [connect(served.port, HALF_SENT[index % 2]) for index in range(1000)]
    try:
        deadline = time.monotonic() + WAIT_S
        answer: httpx.Response | None = None
        while answer is None or answer.status_code != 200:
            if time.monotonic() > deadline:
                pytest.fail(f"no 200 for a signed webhook within {WAIT_S} s: {answer!r}")
            with suppress(httpx.HTTPError):
                answer = served.signed_shopee(f"HALF{time.monotonic_ns()}")
        assert served.process.poll() is None
        assert httpx.get(f"{served.url}/healthz", timeout=5).status_code == 200
    finally:
        for sock in sockets:
            sock.close()
    log = served.log.read_text()
    assert "Too many open files" not in log and "out of system resource" not in log, log[-2000:]


def test_idle_and_half_sent_connections_are_closed_after_their_deadline(
    serve_receiver: Callable[..., Served],
) -> None:
    served = serve_receiver()
    idle = [connect(served.port, first) for first in HALF_SENT for _ in range(5)]
    try:
        outcomes = [closed_by_server(sock, WAIT_S) for sock in idle]
    finally:
        for sock in idle:
            sock.close()
    assert all(outcome is not None for outcome in outcomes)  # every one was closed by the server
    assert all(outcome == b"" for outcome in outcomes[:10])  # no headers: closed without an answer
    assert all(outcome is not None and outcome.startswith(b"HTTP/1.1 408") for outcome in outcomes[10:])

    # After an answer, an idle keep-alive connection, or one sending its next headers slowly, is closed too.
    body = b"{}"
    request = b"POST /webhooks/shopee HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n" + body
    kept = [connect(served.port, request) for _ in range(2)]
    try:
        answer = b""
        while not answer.endswith(b"}"):  # the whole 401 answer, JSON body included
            answer += kept[1].recv(65536)
        kept[1].sendall(b"POST /webhooks/shopee HTTP/1.1\r\n")
        first, second = (closed_by_server(sock, WAIT_S) for sock in kept)
    finally:
        for sock in kept:
            sock.close()
    assert answer.startswith(b"HTTP/1.1 401") and first is not None and first.startswith(b"HTTP/1.1 401")
    assert second == b""


def test_a_spoofed_x_forwarded_for_from_loopback_is_ignored_by_default(serve_receiver: Callable[..., Served]) -> None:
    served = serve_receiver(SYNCSTORE_WEBHOOK_PER_IP_PER_MINUTE="2")
    answers = []
    for index in range(4):
        body = compact({"code": 3, "shop_id": 780001, "timestamp": int(time.time()), "data": {"ordersn": f"X{index}"}})
        headers = {
            "Authorization": sign_push(f"{served.url}/webhooks/shopee", body, PARTNER_KEY),
            "X-Forwarded-For": f"198.51.100.{index}",
        }
        answers.append(httpx.post(f"{served.url}/webhooks/shopee", content=body, headers=headers).status_code)
    assert answers == [200, 200, 429, 429]  # every request counted against the real peer


def test_a_spoofed_x_forwarded_for_is_believed_only_from_a_configured_proxy(
    serve_receiver: Callable[..., Served],
) -> None:
    served = serve_receiver(SYNCSTORE_WEBHOOK_PER_IP_PER_MINUTE="2", SYNCSTORE_TRUSTED_PROXIES="127.0.0.1")
    answers = []
    for index in range(4):
        body = compact({"code": 3, "shop_id": 780001, "timestamp": int(time.time()), "data": {"ordersn": f"Y{index}"}})
        headers = {
            "Authorization": sign_push(f"{served.url}/webhooks/shopee", body, PARTNER_KEY),
            "X-Forwarded-For": f"198.51.100.{index}",
        }
        answers.append(httpx.post(f"{served.url}/webhooks/shopee", content=body, headers=headers).status_code)
    assert answers == [200, 200, 200, 200]  # four senders behind the proxy, one request each


def test_syncstore_receiver_run_serves_through_the_hardened_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import main as cli

    execs: list[list[str]] = []

    def fake_exec(path: str, command: list[str]) -> None:
        execs.append(command)

    monkeypatch.setattr(os, "execv", fake_exec)
    result = CliRunner().invoke(cli.app, ["receiver", "run", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert execs and execs[0][1:3] == ["-m", "webhook_receiver.server"]
    assert execs[0][3:] == receiver_command(8123)[3:]
