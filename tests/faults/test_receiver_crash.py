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
import time

import pytest

from tests.faults.conftest import StartLoad, StartReceiver, check_run, stored_rows

EVENTS = 10_000
KILLS = 5
CONCURRENCY = 64
WORKERS = 2


@pytest.mark.slow
@pytest.mark.postgres
def test_receiver_sigkilled_five_times_loses_and_duplicates_nothing(
    empty_postgres_url: str, redis_url: str, start_receiver: StartReceiver, start_load: StartLoad
) -> None:
    receiver = start_receiver(empty_postgres_url, redis_url, workers=WORKERS)
    began = time.monotonic()
    run = start_load(receiver, events=EVENTS, concurrency=CONCURRENCY)

    acked_at_kill = []
    for kill in range(1, KILLS + 1):
        state = run.wait_for_acked(kill * EVENTS // (KILLS + 1), timeout_s=90)
        receiver.kill()  # SIGKILL, mid-flight: 64 connections are open
        acked_at_kill.append(state["acked"])
        time.sleep(random.uniform(0.05, 0.5))
        receiver.start()

    report = run.finish(timeout_s=240)
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
