# Benchmark: signed webhooks acknowledged per second by the receiver, against a no-op Starlette endpoint.
"""`python -m bench.webhooks [--events 20000] [--concurrency 64] [--workers 2] [--rounds 4]`

What it measures: a fresh PostgreSQL database is created (and dropped afterwards) and migrated;
the webhook receiver (`syncstore receiver run --workers K`) is started on it with Redis. A client
in another process (bench.webhook_load) sends N signed events, half Shopee order-status pushes
and half TikTok Shop order-status webhooks, all distinct, over C concurrent keep-alive
connections, retrying any event that does not get a 2xx. The same load goes to a no-op Starlette
app (reads the body, answers 200 empty) under uvicorn with the same worker count, on this
machine. The client does not change between the two, so the ratio is the receiver's cost
(verify, deduplicate, commit before answering) against a bare server's. The N events go in
--rounds alternating blocks (receiver then no-op, no-op then receiver, ...; a fresh client
process per block), so drift on a shared machine hits both sides alike.

Prints ONE JSON object:
- `accepted_per_s`: acknowledged events / seconds from the first send to the last answer (receiver);
- `noop_per_s`: the same for the no-op endpoint; `ratio` = accepted_per_s / noop_per_s;
- `p50_ms`, `p99_ms`: latency of the acknowledged attempt of each event (receiver);
- `acked`: events that got a 2xx; `stored`: rows in webhook_logs afterwards;
- `lost`: acknowledged events missing from webhook_logs;
- for context: `retried` (events that needed more than one attempt), `answers` (every answer and
  connection error the receiver run got, by kind), `noop_p99_ms`.

Targets: `lost` 0, `stored` == `acked` (== events), `p99_ms` < 250, `ratio` >= 0.5.
`python -m bench.webhook_ceiling` shows where the receiver's time goes (stand-ins for the database).
Servers: PostgreSQL at --postgres-url (an admin URL; default the local server) and Redis at
--redis-url. Logs of the child processes stay in a temporary directory that is removed at the
end; on failure their tails go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import webhook_load as load
from connectors.simulator.common import free_port

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `admin_url`; dropped afterwards."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"syncstore_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def run_load(
    url: str, env: Mapping[str, str], workdir: Path, name: str, events: int, concurrency: int
) -> load.LoadReport:
    """The load client in its own process, waited for (bounded), its report read back."""
    out = workdir / f"{name}.json"
    log = workdir / f"{name}-client.log"
    process = load.load_process(url, env, events=events, concurrency=concurrency, out=out, log_file=log)
    try:
        returncode = process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        load.stop_group(process)
        raise RuntimeError(f"the {name} load did not finish within 300 s") from None
    if returncode != 0 or not out.exists():
        raise RuntimeError(f"the {name} load failed ({returncode}):\n{log.read_text(errors='replace')[-4000:]}")
    return load.read_report(out)


def stored_events(database_url: str) -> tuple[int, set[tuple[str, str]]]:
    """(row count, distinct (platform, event_id)) of webhook_logs."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT platform, event_id FROM webhook_logs").all()
    finally:
        engine.dispose()
    return len(rows), {(str(platform), str(event_id)) for platform, event_id in rows}


def merge(reports: list[load.LoadReport]) -> load.LoadReport:
    """Blocks of one target as one run: times added, outcomes and answers pooled."""
    merged = load.LoadReport(elapsed_s=0.0, outcomes=[])
    for report in reports:
        merged.elapsed_s += report.elapsed_s
        merged.outcomes.extend(report.outcomes)
        merged.statuses.update(report.statuses)
        merged.shopee_nonempty_2xx += report.shopee_nonempty_2xx
        merged.slowest_error_s = max(merged.slowest_error_s, report.slowest_error_s)
    return merged


def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    blocks = [args.events // args.rounds + (1 if i < args.events % args.rounds else 0) for i in range(args.rounds)]
    runs: dict[str, list[load.LoadReport]] = {"receiver": [], "noop": []}
    with scratch_database(args.postgres_url) as database_url:
        port = free_port()
        env = load.receiver_environment(database_url, args.redis_url, port, workdir / "data")
        load.run_migrations(env)
        receiver = load.ReceiverProcess(env, port, args.workers, workdir / "receiver.log")
        try:
            receiver.start()
            with load.noop_server(args.workers, workdir / "noop.log", env) as noop_url:
                # Alternating blocks (receiver first, then no-op first, ...): drift on a shared machine hits both.
                targets = [("receiver", receiver.url), ("noop", noop_url)]
                for round_index, size in enumerate(blocks):
                    for name, url in targets if round_index % 2 == 0 else reversed(targets):
                        report = run_load(url, env, workdir, f"{name}-{round_index}", size, args.concurrency)
                        runs[name].append(report)
        except Exception:
            print(receiver.log_tail(), file=sys.stderr)
            raise
        finally:
            receiver.stop()
        row_count, stored = stored_events(database_url)

    measured, baseline = merge(runs["receiver"]), merge(runs["noop"])
    acked = measured.acked
    accepted_per_s = len(acked) / measured.elapsed_s if measured.elapsed_s else 0.0
    noop_per_s = len(baseline.acked) / baseline.elapsed_s if baseline.elapsed_s else 0.0
    return {
        "events": args.events,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "accepted_per_s": round(accepted_per_s, 1),
        "noop_per_s": round(noop_per_s, 1),
        "ratio": round(accepted_per_s / noop_per_s, 3) if noop_per_s else 0.0,
        "p50_ms": round(measured.latency_percentile_ms(50), 2),
        "p99_ms": round(measured.latency_percentile_ms(99), 2),
        "acked": len(acked),
        "stored": row_count,
        "lost": sum(1 for o in acked if (o.platform, o.event_id) not in stored),
        "retried": sum(1 for o in measured.outcomes if o.attempts > 1),
        "answers": dict(sorted(measured.statuses.items())),
        "noop_p99_ms": round(baseline.latency_percentile_ms(99), 2),
    }


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The load and server options shared with bench.webhook_ceiling."""
    parser.add_argument("--events", type=int, default=20_000, help="events per server")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of every server")
    parser.add_argument("--rounds", type=int, default=4, help="alternating blocks the events are sent in")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SYNCSTORE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES), help="admin URL"
    )
    parser.add_argument("--redis-url", default=os.environ.get("SYNCSTORE_BENCH_REDIS_URL", DEFAULT_REDIS))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__.split("\n\n")[0])
    add_load_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syncstore-bench-webhooks-") as scratch:
        figures = bench(args, Path(scratch))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
