# Shared fixtures: a migrated database per backend (SQLite and PostgreSQL) and a Redis client.
"""Test fixtures.

Data-layer tests take the `engine` fixture and run once on SQLite and once on PostgreSQL.
PostgreSQL and Redis tests skip with a reason on a bare machine; with CI=true a skip of either
fails the run, so a green CI always means they ran.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

# Settings are read once per process: point them at a scratch directory before anything reads them.
_SCRATCH = Path(tempfile.mkdtemp(prefix="syncstore-tests-"))
os.environ["SYNCSTORE_DATA_DIR"] = str(_SCRATCH)
os.environ.pop("SYNCSTORE_DATABASE_URL", None)
os.environ.pop("SYNCSTORE_ENCRYPTION_KEYS", None)

from syncstore.db import migrate  # noqa: E402
from syncstore.db.engine import create_engine  # noqa: E402
from syncstore.db.models import Base  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "SYNCSTORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("SYNCSTORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SERVICE_MARKERS = ("postgres", "redis")


def _unavailable(service: str, error: Exception) -> None:
    message = f"{service} is not reachable ({type(error).__name__}: {error})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(f"{message}; start it to run these tests")


@contextmanager
def _scratch_postgres_database() -> Iterator[str]:
    """An empty PostgreSQL database, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"syncstore_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:  # any driver or network error means "not available"
        admin.dispose()
        _unavailable("PostgreSQL", error)
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped afterwards."""
    with _scratch_postgres_database() as url:
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database (no schema) for this one test."""
    with _scratch_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file for this test session."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'syncstore.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database, once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


def _wipe(engine: sa.Engine) -> None:
    tables = [table.name for table in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(tables):
                conn.exec_driver_sql(f"DELETE FROM {table}")


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on an empty, migrated database (SQLite, then PostgreSQL)."""
    engine = create_engine(db_url)
    _wipe(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A reachable Redis URL; keys the tests write are namespaced by the test."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except Exception as error:
        _unavailable("Redis", error)
    finally:
        client.close()
    yield REDIS_TEST_URL


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP receiver on loopback standing in for the alert webhook: (its URL, the JSON bodies POSTed)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from connectors.simulator.common import ServerThread

    received: list[dict[str, Any]] = []

    async def collect(request: Request) -> Response:
        received.append(await request.json())
        return Response(status_code=204)

    server = ServerThread(Starlette(routes=[Route("/hook", collect, methods=["POST"])])).start()
    yield f"{server.url}/hook", received
    server.stop()


@pytest.fixture
def hook_in_settings(
    hook: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[dict[str, Any]]]:
    """`hook` set as SYNCSTORE_ALERT_WEBHOOK_URL for code that reads the settings itself: the bodies it receives."""
    from syncstore.settings import get_settings

    url, received = hook
    monkeypatch.setenv("SYNCSTORE_ALERT_WEBHOOK_URL", url)
    get_settings.cache_clear()
    yield received
    monkeypatch.undo()
    get_settings.cache_clear()  # the next read sees the environment as it was


# --- CI guard: a skipped PostgreSQL or Redis test fails the run under CI=true ----------------

_service_outcomes: dict[str, dict[str, int]] = {m: {"passed": 0, "skipped": 0} for m in SERVICE_MARKERS}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for marker in SERVICE_MARKERS:
        if marker in report.keywords:
            if report.skipped:
                _service_outcomes[marker]["skipped"] += 1
            elif report.passed and report.when == "call":
                _service_outcomes[marker]["passed"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for marker, counts in _service_outcomes.items():
        terminalreporter.write_line(f"{marker} tests: {counts['passed']} passed, {counts['skipped']} skipped")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not IN_CI:
        return
    skipped = {m: c["skipped"] for m, c in _service_outcomes.items() if c["skipped"]}
    # A whole run (not a -k selection) that ran none of them hides a broken fixture just as well.
    full_run = not session.config.option.keyword and not session.config.args[1:]
    none_ran = [m for m, c in _service_outcomes.items() if c["passed"] == 0] if full_run else []
    if skipped or none_ran:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nCI=true: PostgreSQL/Redis tests skipped {skipped or ''} or not run {none_ran or ''}")
