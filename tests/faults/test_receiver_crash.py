# J1: the webhook receiver SIGKILLed and restarted 5 times under 10,000 retrying signed webhooks.
"""J1 (reliability.md): a crash never loses an acknowledged event and never stores one twice.

A client in its own process sends 10,000 signed webhooks (half Shopee, half TikTok Shop, all
distinct) over 64 connections and retries each on any non-2xx or connection error, re-sending
the exact same bytes. Meanwhile the receiver (server and workers, the whole process group) is
SIGKILLed 5 times, each time after another sixth of the events has been acknowledged, and
started again. Afterwards: every acknowledged event is in webhook_logs; after the retries all
10,000 are acknowledged and stored, each exactly once, each with one normalized platform event.
"""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

from bench import webhook_load as load
from tests.faults.conftest import (
    check_run,
    describe_run,
    finish_load,
    progress_summary,
    stored_rows,
    wait_for_acked,
)

EVENTS = 10_000
KILLS = 5
CONCURRENCY = 64
WORKERS = 2


@pytest.mark.slow
@pytest.mark.postgres
def test_receiver_sigkilled_five_times_loses_and_duplicates_nothing(
    empty_postgres_url: str,
    redis_url: str,
    fault_dir: Path,
    receivers: list[load.ReceiverProcess],
    load_clients: list[subprocess.Popen[bytes]],
) -> None:
    port = load.free_port()
    env = load.receiver_environment(empty_postgres_url, redis_url, port, fault_dir / "data")
    load.run_migrations(env)
    receiver = load.ReceiverProcess(env, port, WORKERS, fault_dir / "receiver.log")
    receivers.append(receiver)
    receiver.start()

    out, progress = fault_dir / "load.json", fault_dir / "progress.json"
    began = time.monotonic()
    client = load.load_process(
        receiver.url,
        env,
        events=EVENTS,
        concurrency=CONCURRENCY,
        out=out,
        progress_file=progress,
        log_file=fault_dir / "client.log",
    )
    load_clients.append(client)
    describe = describe_run(
        ("receiver log", receiver.log_tail), ("client progress", lambda: progress_summary(progress))
    )

    acked_at_kill = []
    for kill in range(1, KILLS + 1):
        state = wait_for_acked(progress, kill * EVENTS // (KILLS + 1), client, timeout_s=90, describe=describe)
        receiver.kill()  # SIGKILL, mid-flight: 64 connections are open
        acked_at_kill.append(state["acked"])
        time.sleep(random.uniform(0.05, 0.5))
        receiver.start()

    report = finish_load(client, out, timeout_s=240, describe=describe)
    stored = stored_rows(empty_postgres_url)
    elapsed = time.monotonic() - began
    print(
        f"\nJ1: {EVENTS} events, {KILLS} SIGKILLs at {acked_at_kill} acknowledged, {elapsed:.1f} s; "
        f"answers {dict(report.statuses)}; attempts max {max(o.attempts for o in report.outcomes)}"
    )

    assert receiver.starts == KILLS + 1
    connection_errors = sum(n for kind, n in report.statuses.items() if not kind.isdigit())
    assert connection_errors > 0, "the kills should have cut requests in flight"
    check_run(report, stored, EVENTS)
