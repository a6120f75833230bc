# J2: PostgreSQL stopped with `pg_ctl -m immediate` and restarted under retrying signed webhooks.
"""J2 (reliability.md): a database crash never loses an acknowledged event.

The test starts its OWN PostgreSQL cluster (initdb + pg_ctl on a free port in a temporary
directory; the shared server is never touched), migrates it, and points the receiver at it.
A client in its own process sends 10,000 signed webhooks over 64 connections, retrying each on
any non-2xx or connection error with the same bytes. Twice, after another third of the events
is acknowledged, the cluster is stopped with `pg_ctl stop -m immediate` (a crash: no checkpoint,
connections cut), left down for a few seconds, and started again (crash recovery).

While it is down the receiver must answer 503 promptly (not 500, not hang) and /healthz must say
503; afterwards every acknowledged event is stored, and after the retries all 10,000 are stored
exactly once, each with its one normalized event (nothing half-written).
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.faults.conftest import (
    PostgresCluster,
    StartLoad,
    StartReceiver,
    check_run,
    create_database,
    stored_rows,
)

EVENTS = 10_000
STOPS = 2
DOWN_S = 4.0
CONCURRENCY = 64
WORKERS = 2
ANSWER_WITHIN_S = 5.0  # while the database is down, every answer must come at least this fast


@pytest.mark.slow
@pytest.mark.postgres
def test_database_crash_under_load_loses_nothing_and_answers_503(
    throwaway_cluster: PostgresCluster, redis_url: str, start_receiver: StartReceiver, start_load: StartLoad
) -> None:
    database_url = create_database(throwaway_cluster, "syncstore_j2")
    receiver = start_receiver(database_url, redis_url, workers=WORKERS)
    began = time.monotonic()
    run = start_load(
        receiver, events=EVENTS, concurrency=CONCURRENCY, logs=[("postgres log", throwaway_cluster.log_tail)]
    )

    health_while_down: list[list[int]] = []
    answers_while_down: list[dict[str, int]] = []
    for stop in range(1, STOPS + 1):
        run.wait_for_acked(stop * EVENTS // (STOPS + 1), timeout_s=90)
        before = run.progress()["statuses"]
        throwaway_cluster.stop_immediate()
        down_until = time.monotonic() + DOWN_S
        codes = []
        while time.monotonic() < down_until:
            try:
                codes.append(httpx.get(receiver.url + "/healthz", timeout=ANSWER_WITHIN_S).status_code)
            except httpx.TimeoutException:
                pytest.fail(f"/healthz did not answer within {ANSWER_WITHIN_S} s while the database was down")
            time.sleep(0.25)
        after = run.progress()["statuses"]
        health_while_down.append(codes)
        answers_while_down.append({k: after.get(k, 0) - before.get(k, 0) for k in after if after[k] != before.get(k)})
        assert receiver.process is not None and receiver.process.poll() is None, "the receiver died with the database"
        throwaway_cluster.start()

    report = run.finish(timeout_s=240)
    stored = stored_rows(database_url)
    elapsed = time.monotonic() - began
    print(
        f"\nJ2: {EVENTS} events, {STOPS} immediate stops of {DOWN_S:.0f} s, {elapsed:.1f} s; "
        f"answers {dict(report.statuses)}; while down {answers_while_down}; "
        f"health while down {[sorted(set(c)) for c in health_while_down]}; slowest error {report.slowest_error_s} s"
    )

    check_run(report, stored, EVENTS)
    for window, codes in enumerate(health_while_down, 1):
        assert 503 in codes and set(codes) <= {200, 503}, f"/healthz during outage {window}: {codes}"
    for window, answers in enumerate(answers_while_down, 1):
        assert answers.get("503", 0) > 0, f"no 503 while the database was down (outage {window}): {answers}"
    assert report.statuses.get("503", 0) > 0
    hung = {kind: n for kind, n in report.statuses.items() if kind == "Timeout"}
    assert hung == {}, f"requests that got no answer within the client's timeout: {hung}"
    assert report.slowest_error_s < ANSWER_WITHIN_S, f"a refusal took {report.slowest_error_s} s to arrive"
