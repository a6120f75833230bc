# Engine and session factory: the one way SyncStore code reaches its database.
"""Engines for SQLite and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
`BEGIN IMMEDIATE`: it takes the single write lock up front, so two writers queue on the busy
timeout instead of one failing half way with "database is locked" when it upgrades a read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from syncstore.settings import get_settings


def create_engine(url: str, *, busy_timeout_ms: int | None = None, **kwargs: Any) -> sa.Engine:
    """A configured engine for `url` (SQLite file or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return sa.create_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    timeout_ms = get_settings().sqlite_busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
    engine = sa.create_engine(url, connect_args={"timeout": timeout_ms / 1000}, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook, not the sqlite3 module, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@lru_cache(maxsize=8)
def engine_for(url: str) -> sa.Engine:
    """One shared engine per URL in this process."""
    return create_engine(url)


def get_engine() -> sa.Engine:
    """The engine for the configured database."""
    return engine_for(get_settings().resolved_database_url)


def session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[Session]:
    """A session inside one transaction: committed on success, rolled back on any error."""
    with session_factory(engine).begin() as session:
        yield session


def is_postgres(engine: sa.Engine | sa.Connection) -> bool:
    return engine.dialect.name == "postgresql"
