# Signed webhook load shared by bench.webhooks and the fault tests: a retrying client in its own process.
"""A retrying webhook client, and the processes around it (receiver, no-op server, databases).

`python -m bench.webhook_load --url URL --events N --concurrency C --out FILE` builds N signed
events (half Shopee order-status pushes, half TikTok Shop order-status webhooks, all with distinct
event ids), then sends them with C concurrent connections. Each body is built ONCE and its exact
bytes are re-sent on every retry, as the platforms do (a Shopee event id is a hash of the body,
so a rebuilt body would be another event). An event is retried on any non-2xx answer or
connection error, with a short capped backoff, until it is acknowledged, its own time budget
runs out, or the run's deadline passes. Keys and the public URL come from the same SYNCSTORE_*
environment variables the receiver reads.

The report (JSON at --out) records per event: platform, event id, acknowledged, attempts, the
latency of the acknowledged attempt and when it was acknowledged; and for the run: elapsed time,
every answer and connection error counted by kind. `--progress-file` is rewritten a few times a
second with the counts so far, so a fault test can act at chosen points of the load.

The parent side (`load_process`, `read_report`, `ReceiverProcess`, `noop_server`, ...) is used by
bench.webhooks and tests/faults; it never sends load itself, so the client's CPU is never the
server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from connectors.shopee import codes as shopee_codes
from connectors.shopee import signing as shopee_signing
from connectors.shopee import webhooks as shopee_webhooks
from connectors.simulator.common import free_port
from connectors.tiktokshop import codes as tiktokshop_codes
from connectors.tiktokshop import webhooks as tiktokshop_webhooks

SHOPEE_PATH = "/webhooks/shopee"
TIKTOKSHOP_PATH = "/webhooks/tiktokshop"

# Test-only app credentials: the receiver under test and the client read the same values.
DEFAULT_CREDENTIALS = {
    "SYNCSTORE_SHOPEE_PARTNER_ID": "2001887",
    "SYNCSTORE_SHOPEE_PARTNER_KEY": "bench-shopee-partner-key-0123456789abcdef",
    "SYNCSTORE_TIKTOKSHOP_APP_KEY": "benchappkey",
    "SYNCSTORE_TIKTOKSHOP_APP_SECRET": "bench-tiktokshop-app-secret-0123456789",
}
SHOPEE_SHOPS = (780001, 780002, 780003, 780004)
TIKTOKSHOP_SHOPS = ("7494001", "7494002", "7494003", "7494004")


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One signed delivery: the exact bytes and header re-sent on every retry."""

    platform: str
    path: str
    event_id: str
    body: bytes
    authorization: str


def _compact(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def build_events(
    count: int,
    *,
    public_url: str,
    partner_key: str,
    app_key: str,
    app_secret: str,
    tag: str,
    now: int | None = None,
) -> list[Event]:
    """`count` events, Shopee and TikTok Shop alternating, every event id distinct (`tag` makes them unique per run)."""
    stamp = int(time.time()) if now is None else now
    callback_url = public_url.rstrip("/") + SHOPEE_PATH
    events: list[Event] = []
    for index in range(count):
        if index % 2 == 0:
            shop_id = SHOPEE_SHOPS[index % len(SHOPEE_SHOPS)]
            data = {"ordersn": f"{tag.upper()}{index:08d}", "status": "READY_TO_SHIP", "update_time": stamp}
            body = _compact({"code": 3, "shop_id": shop_id, "timestamp": stamp, "data": data})
            event_id = shopee_webhooks.push_event_id(str(shop_id), 3, data)
            signature = shopee_signing.sign_push(callback_url, body, partner_key)
            events.append(Event(shopee_codes.PLATFORM, SHOPEE_PATH, event_id, body, signature))
        else:
            notification_id = f"{tag}-{index:08d}"
            payload = {
                "type": 1,
                "tts_notification_id": notification_id,
                "shop_id": TIKTOKSHOP_SHOPS[index % len(TIKTOKSHOP_SHOPS)],
                "timestamp": stamp,
                "data": {"order_id": f"5{index:017d}", "order_status": "AWAITING_SHIPMENT", "update_time": stamp},
            }
            body = _compact(payload)
            signature = tiktokshop_webhooks.sign_webhook(app_key, app_secret, body)
            events.append(Event(tiktokshop_codes.PLATFORM, TIKTOKSHOP_PATH, notification_id, body, signature))
    return events


def events_from_environment(count: int, tag: str, environ: Mapping[str, str] | None = None) -> list[Event]:
    env = os.environ if environ is None else environ
    return build_events(
        count,
        public_url=env.get("SYNCSTORE_PUBLIC_URL", "http://127.0.0.1:8100"),
        partner_key=env.get("SYNCSTORE_SHOPEE_PARTNER_KEY", DEFAULT_CREDENTIALS["SYNCSTORE_SHOPEE_PARTNER_KEY"]),
        app_key=env.get("SYNCSTORE_TIKTOKSHOP_APP_KEY", DEFAULT_CREDENTIALS["SYNCSTORE_TIKTOKSHOP_APP_KEY"]),
        app_secret=env.get("SYNCSTORE_TIKTOKSHOP_APP_SECRET", DEFAULT_CREDENTIALS["SYNCSTORE_TIKTOKSHOP_APP_SECRET"]),
        tag=tag,
    )


# --- the client (runs in its own process) -----------------------------------------------------


@dataclass(slots=True)
class Outcome:
    platform: str
    event_id: str
    acked: bool = False
    attempts: int = 0
    latency_ms: float | None = None  # of the acknowledged attempt
    acked_at_s: float | None = None  # since the load started


@dataclass
class LoadReport:
    elapsed_s: float  # first send to last answer
    outcomes: list[Outcome]
    statuses: Counter[str] = field(default_factory=Counter)  # "200", "503", "ConnectError", ...
    shopee_nonempty_2xx: int = 0  # Shopee counts a 2xx with a body as a failed delivery
    slowest_error_s: float = 0.0  # the longest any non-2xx answer or error took to arrive
    cpu_s: float = 0.0  # this client's CPU time while sending (not building the events)
    machine_idle_s: float | None = None  # idle CPU time of the whole machine while sending (Linux)

    @property
    def acked(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.acked]

    def latency_percentile_ms(self, percentile: float) -> float:
        values = sorted(o.latency_ms for o in self.outcomes if o.latency_ms is not None)
        if not values:
            return 0.0
        rank = min(len(values) - 1, max(0, math.ceil(percentile / 100 * len(values)) - 1))  # nearest rank
        return values[rank]

    def to_json(self) -> dict[str, Any]:
        return {
            "elapsed_s": self.elapsed_s,
            "statuses": dict(self.statuses),
            "shopee_nonempty_2xx": self.shopee_nonempty_2xx,
            "slowest_error_s": self.slowest_error_s,
            "cpu_s": self.cpu_s,
            "machine_idle_s": self.machine_idle_s,
            "events": [
                [o.platform, o.event_id, o.acked, o.attempts, o.latency_ms, o.acked_at_s] for o in self.outcomes
            ],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> LoadReport:
        outcomes = [Outcome(*row) for row in raw["events"]]
        return cls(
            elapsed_s=raw["elapsed_s"],
            outcomes=outcomes,
            statuses=Counter(raw["statuses"]),
            shopee_nonempty_2xx=raw["shopee_nonempty_2xx"],
            slowest_error_s=raw["slowest_error_s"],
            cpu_s=raw.get("cpu_s", 0.0),
            machine_idle_s=raw.get("machine_idle_s"),
        )


def _write_atomically(path: Path, text: str) -> None:
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text)
    os.replace(scratch, path)


class _Connection:
    """One keep-alive HTTP/1.1 connection: a request's bytes out, (status, body) back.

    A load generator must cost far less per request than the server it measures; httpx's async
    pool spends over 1 ms of CPU per request here and slows down sharply with 64 connections, so
    each worker owns one plain asyncio stream instead. Any error closes the connection (the next
    attempt reconnects).
    """

    def __init__(self, host: str, port: int, connect_timeout_s: float) -> None:
        self.host, self.port, self.connect_timeout_s = host, port, connect_timeout_s
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes, timeout_s: float) -> tuple[int, bytes]:
        try:
            if self.writer is None:
                async with asyncio.timeout(self.connect_timeout_s):
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            self.writer.write(raw)
            async with asyncio.timeout(timeout_s):
                return await self._response(self.reader)
        except BaseException:
            self.close()
            raise

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP/1.x status line: {status_line!r}")
        status = int(parts[1])
        headers: dict[bytes, bytes] = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass  # trailer fields, up to the empty line
                    break
                chunks.append((await reader.readexactly(size + 2))[:-2])
            body = b"".join(chunks)
        elif b"content-length" in headers:
            body = await reader.readexactly(int(headers[b"content-length"]))
        else:
            body = await reader.read()  # delimited by the end of the connection
            self.close()
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _raw_request(event: Event, host_header: str) -> bytes:
    head = (
        f"POST {event.path} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: application/json\r\n"
        f"Authorization: {event.authorization}\r\nContent-Length: {len(event.body)}\r\n\r\n"
    )
    return head.encode() + event.body


def machine_idle_s() -> float | None:
    """Idle CPU seconds of the whole machine since boot, all cores (None where /proc/stat is missing)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    return (int(fields[3]) + int(fields[4])) / os.sysconf("SC_CLK_TCK")  # idle + iowait


def _error_kind(error: BaseException) -> str:
    return "Timeout" if isinstance(error, TimeoutError) else type(error).__name__


async def send_events(
    base_url: str,
    events: Sequence[Event],
    *,
    concurrency: int,
    give_up_after_s: float = 120.0,
    deadline_s: float = 270.0,
    request_timeout_s: float = 15.0,
    progress_file: Path | None = None,
) -> LoadReport:
    """Send every event over `concurrency` connections, retrying each until it is acknowledged.

    An event is abandoned (left unacknowledged) after `give_up_after_s` of retries, and no attempt
    starts after `deadline_s` (the receiver rejects timestamps older than 300 s anyway).
    """
    parsed = httpx.URL(base_url)
    host, port = parsed.host, parsed.port or 80
    host_header = f"{host}:{port}"
    outcomes = [Outcome(event.platform, event.event_id) for event in events]
    statuses: Counter[str] = Counter()
    counters = {"nonempty": 0, "finished": 0, "acked": 0}
    slowest_error = 0.0
    pending = iter(range(len(events)))
    cpu_started, idle_started = time.process_time(), machine_idle_s()
    started = time.perf_counter()
    last_answer = started

    async def deliver(connection: _Connection, index: int) -> None:
        nonlocal slowest_error, last_answer
        event, outcome = events[index], outcomes[index]
        raw = _raw_request(event, host_header)  # the same bytes on every attempt
        first_try = time.perf_counter()
        while True:
            outcome.attempts += 1
            sent = time.perf_counter()
            try:
                status, body = await connection.request(raw, request_timeout_s)
            except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError) as error:
                kind = _error_kind(error)
            else:
                kind = str(status)
                if 200 <= status < 300:
                    answered = time.perf_counter()
                    outcome.acked = True
                    outcome.latency_ms = round((answered - sent) * 1000, 3)
                    outcome.acked_at_s = round(answered - started, 4)
                    last_answer = max(last_answer, answered)
                    statuses[kind] += 1
                    counters["acked"] += 1
                    if event.platform == shopee_codes.PLATFORM and body:
                        counters["nonempty"] += 1
                    return
            answered = time.perf_counter()
            last_answer = max(last_answer, answered)
            slowest_error = max(slowest_error, answered - sent)
            statuses[kind] += 1
            if answered - first_try > give_up_after_s or answered - started > deadline_s:
                return
            pause = min(1.0, 0.05 * 2 ** min(outcome.attempts - 1, 5))
            await asyncio.sleep(pause * random.uniform(0.5, 1.0))

    async def worker() -> None:
        connection = _Connection(host, port, connect_timeout_s=min(5.0, request_timeout_s))
        try:
            for index in pending:
                if time.perf_counter() - started > deadline_s:
                    continue  # drain: what is left stays unacknowledged
                await deliver(connection, index)
                counters["finished"] += 1
        finally:
            connection.close()

    async def report_progress(path: Path) -> None:
        while True:
            state = {"acked": counters["acked"], "finished": counters["finished"], "statuses": dict(statuses)}
            _write_atomically(path, json.dumps(state))
            await asyncio.sleep(0.2)

    progress_task = asyncio.create_task(report_progress(progress_file)) if progress_file else None
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        if progress_task is not None:
            progress_task.cancel()
            with suppress(asyncio.CancelledError):
                await progress_task
    idle_ended = machine_idle_s()
    report = LoadReport(
        elapsed_s=round(last_answer - started, 4),
        outcomes=outcomes,
        statuses=statuses,
        shopee_nonempty_2xx=counters["nonempty"],
        slowest_error_s=round(slowest_error, 4),
        cpu_s=round(time.process_time() - cpu_started, 4),
        machine_idle_s=None if idle_started is None or idle_ended is None else round(idle_ended - idle_started, 4),
    )
    if progress_file is not None:
        final = {"acked": counters["acked"], "finished": len(events), "statuses": dict(statuses), "done": True}
        _write_atomically(progress_file, json.dumps(final))
    return report


def _run(coroutine: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # plain asyncio is only slower
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="where to send (the receiver's base URL)")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--tag", default=None, help="makes the event ids of this run unique (default: random)")
    parser.add_argument("--out", type=Path, required=True, help="where the JSON report goes")
    parser.add_argument("--progress-file", type=Path, default=None)
    parser.add_argument("--give-up-after", type=float, default=120.0, help="seconds of retries per event")
    parser.add_argument("--deadline", type=float, default=270.0, help="no attempt starts after this many seconds")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request")
    args = parser.parse_args(argv)
    tag = args.tag or "b" + uuid.uuid4().hex[:10]
    events = events_from_environment(args.events, tag)
    report: LoadReport = _run(
        send_events(
            args.url,
            events,
            concurrency=args.concurrency,
            give_up_after_s=args.give_up_after,
            deadline_s=args.deadline,
            request_timeout_s=args.timeout,
            progress_file=args.progress_file,
        )
    )
    _write_atomically(args.out, json.dumps(report.to_json()))


# --- the parent side: processes around the load ----------------------------------------------


def receiver_environment(
    database_url: str, redis_url: str | None, port: int, data_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a receiver (and of the client that signs for it) listening on 127.0.0.1:`port`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SYNCSTORE_")}
    env.update(DEFAULT_CREDENTIALS)
    env.update(
        {
            "SYNCSTORE_DATABASE_URL": database_url,
            "SYNCSTORE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "SYNCSTORE_WEBHOOK_PER_IP_PER_MINUTE": "0",
            "SYNCSTORE_DATA_DIR": str(data_dir),
            "SYNCSTORE_LOG_LEVEL": "WARNING",
        }
    )
    if redis_url:
        env["SYNCSTORE_REDIS_URL"] = redis_url
    env.update(extra or {})
    return env


def run_migrations(env: Mapping[str, str], timeout_s: float = 120.0) -> None:
    """`syncstore db upgrade` against env's SYNCSTORE_DATABASE_URL; raises with its output on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "upgrade"],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"db upgrade failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def kill_group(process: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    """Send `sig` to the process group of `process` (started with start_new_session=True)."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def stop_group(process: subprocess.Popen[Any], grace_s: float = 10.0) -> None:
    """SIGTERM the group, then SIGKILL whatever is left after `grace_s`."""
    if process.poll() is None:
        kill_group(process, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    kill_group(process, signal.SIGKILL)  # workers the parent left behind, if any
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)


def wait_http_ok(url: str, process: subprocess.Popen[Any] | None, timeout_s: float, describe: str) -> None:
    """Poll GET `url` until it answers 200; fail early when `process` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{describe} exited with {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{describe} was not ready at {url} within {timeout_s:.0f} s")
        time.sleep(0.1)


class ReceiverProcess:
    """`syncstore receiver run` in its own process group: started, SIGKILLed and restarted at will."""

    def __init__(self, env: Mapping[str, str], port: int, workers: int, log_file: Path) -> None:
        self.env = dict(env)
        self.port = port
        self.workers = workers
        self.log_file = log_file
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "cli.main",
            "receiver",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]

    def start(self, ready_timeout_s: float = 60.0) -> None:
        """Start it and wait until /healthz answers 200."""
        with self.log_file.open("ab") as log:
            log.write(f"\n--- start {self.starts + 1} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1
        wait_http_ok(self.url + "/healthz", self.process, ready_timeout_s, "the webhook receiver")

    def kill(self) -> None:
        """SIGKILL every process of the receiver (the server and its workers) at once."""
        if self.process is not None:
            kill_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def log_tail(self, characters: int = 4000) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-characters:]
        except OSError:
            return ""


def load_process(
    url: str,
    env: Mapping[str, str],
    *,
    events: int,
    concurrency: int,
    out: Path,
    progress_file: Path | None = None,
    tag: str | None = None,
    give_up_after_s: float = 120.0,
    deadline_s: float = 270.0,
    log_file: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start the client in its own process (own session, so it can be cleaned up as a group)."""
    command = [sys.executable, "-m", "bench.webhook_load", "--url", url, "--events", str(events)]
    command += ["--concurrency", str(concurrency), "--out", str(out)]
    command += ["--give-up-after", str(give_up_after_s), "--deadline", str(deadline_s)]
    if progress_file is not None:
        command += ["--progress-file", str(progress_file)]
    if tag is not None:
        command += ["--tag", tag]
    log = log_file.open("ab") if log_file is not None else None
    try:
        return subprocess.Popen(
            command,
            env=dict(env),
            stdout=log or subprocess.DEVNULL,
            stderr=log or subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        if log is not None:
            log.close()


def read_progress(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"acked": 0, "finished": 0, "statuses": {}}
    return state


def read_report(path: Path) -> LoadReport:
    return LoadReport.from_json(json.loads(path.read_text()))


# --- the no-op server the bench compares with ------------------------------------------------


def _build_noop_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def accept(request: Request) -> Response:
        await request.body()
        return Response(status_code=200)

    async def healthz(request: Request) -> Response:
        return Response(status_code=200)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route(SHOPEE_PATH, accept, methods=["POST"]),
            Route(TIKTOKSHOP_PATH, accept, methods=["POST"]),
        ]
    )


noop_app = _build_noop_app()


@contextmanager
def noop_server(workers: int, log_file: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A Starlette app that reads the body and answers 200 empty, under uvicorn with `workers` workers."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.webhook_load:noop_app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            env=dict(env) if env is not None else None,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(url + "/healthz", process, 60, "the no-op server")
        yield url
    finally:
        stop_group(process)


if __name__ == "__main__":
    main()
