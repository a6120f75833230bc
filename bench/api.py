# Benchmark: the public API under 64 concurrent clients (filtered product pages and stock adjustments) vs a no-op.
"""Public API benchmark.

`python -m bench.api --products 100000 [--seconds 20] [--clients 64] [--workers 2] [--postgres-url URL]`

On a scratch PostgreSQL database (created beside `--postgres-url`, dropped afterwards) holding
`--products` products (two variants each, `bench.catalog_fill`), `syncstore api run` serves the API
(`--workers` uvicorn processes, rate limit off: SYNCSTORE_API_RATE_LIMIT=0) and `--clients`
concurrent clients, for `--seconds`, each send in turn nine reads and one write:

- read: `GET /v1/products?category=<one of five>&limit=50&cursor=<a random place>` (a filtered page
  of 50 products with their variants, by an Editor's API key);
- write: `POST /v1/stock/<random variant>/adjustments` (`delta` +1, a fresh `Idempotency-Key`).

Then the same clients, for the same time, call a FastAPI endpoint that returns a constant (served
the same way): the ceiling of this machine, server and client together.

Prints ONE JSON object: `p50_ms` and `p99_ms` of the reads, `write_p99_ms`, `requests_per_s` (the API,
reads and writes), `noop_per_s`, `ratio` (requests_per_s / noop_per_s), `noop_p50_ms` and `noop_p99_ms`
(the floor: the constant endpoint's latencies under the same clients), `load_average` (1 minute, at
the end; other work on the machine shows in every figure), `errors` (non-2xx answers and failed
requests). Targets: `p99_ms` < 100, `errors` 0; the ratio is reported. Progress goes to stderr.

With the clients in a closed loop, a request's latency is about clients / throughput: p99 < 100 ms
for 64 clients needs well over 640 requests/s, which the no-op's figures bound from above.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from api import pagination
from bench import catalog_fill
from bench.webhooks import DEFAULT_POSTGRES, scratch_database
from connectors.simulator.common import free_port
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import ProductVariant
from syncstore.security import api_keys
from syncstore.security.auth import Actor, create_user

WRITE_EVERY = 10  # one write in ten requests


def noop_app() -> FastAPI:
    """The comparison: a FastAPI endpoint that returns a constant (uvicorn factory)."""
    app = FastAPI()
    constant: dict[str, Any] = {"items": [], "next_cursor": None}

    @app.get("/v1/products")
    def products() -> dict[str, Any]:
        return constant

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Tally:
    reads_ms: list[float] = field(default_factory=list)
    writes_ms: list[float] = field(default_factory=list)
    errors: int = 0


@contextmanager
def server(target: str, port: int, workers: int, env: dict[str, str]) -> Iterator[str]:
    """uvicorn serving `target` (a factory) until the block ends; its base URL."""
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    process = subprocess.Popen(command, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{target} did not start (exit {process.poll()})")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Connection:
    """One keep-alive HTTP/1.1 connection, written by hand: the client must cost far less than the server."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, target: str, body: bytes = b"", extra: str = "") -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        length = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else ""
        self.writer.write(f"{method} {target} HTTP/1.1\r\n{self.head}{extra}{length}\r\n".encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        size, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                size = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        answer = await self.reader.readexactly(size)
        if close:
            self.close()
        return status, answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _client(
    connection: Connection,
    deadline: float,
    tally: Tally,
    variants: Sequence[int],
    max_product: int,
    rng: random.Random,
) -> None:
    n = 0
    while time.monotonic() < deadline:
        n += 1
        write = bool(variants) and n % WRITE_EVERY == 0
        started = time.perf_counter()
        try:
            if write:
                status, answer = await connection.request(
                    "POST", f"/v1/stock/{rng.choice(variants)}/adjustments", b'{"delta": 1, "note": "bench"}',
                    f"Idempotency-Key: {uuid.uuid4().hex}\r\n",
                )  # fmt: skip
            else:
                params = {"category": rng.choice(catalog_fill.CATEGORIES), "limit": "50"}
                if max_product > 50:
                    params["cursor"] = pagination.encode(rng.randrange(0, max_product - 50))
                status, answer = await connection.request("GET", f"/v1/products?{urlencode(params)}")
            # a 2xx with the answer's shape: a page (the no-op's too) or the adjusted variant's stock
            ok = status < 300 and answer.startswith(b'{"variant_id":' if write else b'{"items":[')
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            connection.close()
            ok = False
        elapsed_ms = (time.perf_counter() - started) * 1000
        if not ok:
            tally.errors += 1
        elif write:
            tally.writes_ms.append(elapsed_ms)
        else:
            tally.reads_ms.append(elapsed_ms)


async def _load(url: str, key: str, clients: int, seconds: float, variants: Sequence[int], max_product: int) -> Tally:
    tally = Tally()
    parsed = urlsplit(url)
    connections = [Connection(parsed.hostname or "127.0.0.1", parsed.port or 80, key) for _ in range(clients)]
    deadline = time.monotonic() + seconds
    rngs = [random.Random(i) for i in range(clients)]  # the load's shape, not a secret
    await asyncio.gather(
        *(_client(c, deadline, tally, variants, max_product, rng) for c, rng in zip(connections, rngs, strict=True))
    )
    for connection in connections:
        connection.close()
    return tally


def load(url: str, key: str, clients: int, seconds: float, variants: Sequence[int], max_product: int) -> Tally:
    """The clients in one process, on uvloop when installed (the client's CPU is taken from the server's cores)."""
    coroutine = _load(url, key, clients, seconds, variants, max_product)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def prepare(url: str, products: int) -> tuple[str, list[int], int]:
    """Migrate, fill, and make an Editor's API key; the key, the variant ids and the highest product id."""
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        catalog_fill.fill(engine, products, (), listed_share=0, override_every=0)
        with transaction(engine) as session:
            user = create_user(Actor.command_line(), session, email="bench@example.com", role="editor", password=None)
            key = api_keys.create_key(session, Actor.from_user(user), name="bench").secret
            variants = list(session.scalars(sa.select(ProductVariant.id)))
            max_product = max((v for v in session.scalars(sa.select(ProductVariant.product_id))), default=0)
    finally:
        engine.dispose()
    return key, variants, max_product


def run(args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    with scratch_database(args.postgres_url) as url:
        log(f"filling {args.products} products")
        key, variants, max_product = prepare(url, args.products)
        env = {**os.environ, "SYNCSTORE_DATABASE_URL": url, "SYNCSTORE_DATA_DIR": workdir,
               "SYNCSTORE_API_RATE_LIMIT": "0", "SYNCSTORE_LOG_LEVEL": "WARNING"}  # fmt: skip
        env.pop("SYNCSTORE_REDIS_URL", None)
        with server("api.server:app_factory", free_port(), args.workers, env) as base:
            log(f"API: {args.clients} clients for {args.seconds} s")
            api = load(base, key, args.clients, args.seconds, variants, max_product)
        with server("bench.api:noop_app", free_port(), args.workers, env) as base:
            log(f"no-op: {args.clients} clients for {args.seconds} s")
            noop = load(base, key, args.clients, args.seconds, (), 0)
    requests_per_s = (len(api.reads_ms) + len(api.writes_ms)) / args.seconds
    noop_per_s = len(noop.reads_ms) / args.seconds
    return {
        "products": args.products,
        "clients": args.clients,
        "seconds": args.seconds,
        "workers": args.workers,
        "reads": len(api.reads_ms),
        "writes": len(api.writes_ms),
        "p50_ms": round(statistics.median(api.reads_ms), 1) if api.reads_ms else 0.0,
        "p99_ms": round(_percentile(api.reads_ms, 0.99), 1),
        "write_p99_ms": round(_percentile(api.writes_ms, 0.99), 1),
        "requests_per_s": round(requests_per_s, 1),
        "noop_per_s": round(noop_per_s, 1),
        "ratio": round(requests_per_s / noop_per_s, 3) if noop_per_s else 0.0,
        "noop_p50_ms": round(statistics.median(noop.reads_ms), 1) if noop.reads_ms else 0.0,
        "noop_p99_ms": round(_percentile(noop.reads_ms, 0.99), 1),
        "load_average": round(os.getloadavg()[0], 1),
        "errors": api.errors + noop.errors,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--products", type=int, default=100_000, help="products in the catalog (default 100000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per server (default 20)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SYNCSTORE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES), help="admin URL"
    )
    args = parser.parse_args(argv)
    if args.products < 1 or args.clients < 1 or args.seconds <= 0 or args.workers < 1:
        parser.error("--products, --clients and --workers must be at least 1, --seconds above 0")
    with tempfile.TemporaryDirectory(prefix="syncstore-bench-api-") as workdir:
        os.environ.setdefault("SYNCSTORE_DATA_DIR", workdir)
        result = run(args, workdir)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
