# S9: a database outage is recorded as a database_error alert once the database answers again.
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import Alert
from syncstore.workers import dispatch


class Outage:
    """Makes every statement on `engine` fail like an unreachable database while `down` is set."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.down = threading.Event()
        self.refused = 0

    def _refuse(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if self.down.is_set():
            self.refused += 1
            raise sa.exc.OperationalError(statement, parameters, ConnectionRefusedError("connection refused"))


@contextmanager
def outage_of(engine: sa.Engine) -> Iterator[Outage]:
    outage = Outage(engine)
    sa.event.listen(engine, "before_cursor_execute", outage._refuse)
    try:
        yield outage
    finally:
        sa.event.remove(engine, "before_cursor_execute", outage._refuse)


def database_alerts(engine: sa.Engine) -> list[Alert]:
    with transaction(engine) as session:
        return list(session.scalars(sa.select(Alert).where(Alert.kind == "database_error")))


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.05)


def no_connector(connection_id: int) -> Any:
    raise AssertionError("no event needs a connector here")


def test_the_events_worker_records_an_outage_once_the_database_is_back(engine: sa.Engine) -> None:
    stop = threading.Event()
    with outage_of(engine) as outage:
        outage.down.set()
        worker = threading.Thread(
            target=dispatch.serve_events,
            args=(engine, no_connector),
            kwargs={"stop": stop, "poll_interval_s": 0.02, "error_pause_s": 0.02},
        )
        worker.start()
        try:
            wait_for(lambda: outage.refused >= 5, "the worker tried the database during the outage")
            observer = create_engine(engine.url.render_as_string(hide_password=False))  # not in the outage
            try:
                assert database_alerts(observer) == []  # nothing could be written while it was down
            finally:
                observer.dispose()
            outage.down.clear()
            wait_for(lambda: database_alerts(engine), "a database_error alert after the database came back")
        finally:
            stop.set()
            worker.join(timeout=30)
    assert not worker.is_alive()
    [alert] = database_alerts(engine)
    assert (alert.subject, alert.status, alert.severity) == ("events-worker", "open", "critical")
    assert alert.details["error"] == "OperationalError"
    assert alert.details["down_since"] <= alert.details["back_at"]
    assert "answered again" in alert.message
