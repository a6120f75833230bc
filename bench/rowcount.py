# Counts the rows a piece of code reads from the database, at the driver: what a "reads too much" bug costs.
"""Row counting engines for the benchmarks.

`counting_engine(url)` is an engine (SQLite or PostgreSQL, configured like SyncStore's own) whose
driver cursors count every row they hand to SQLAlchemy (`fetchone`, `fetchmany`, `fetchall`).
`RowCounter.rows` is the running total; read it before and after the code measured. Rows a query
only scans on the server are not counted: the benchmarks pair this figure with indexed queries.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import psycopg
import sqlalchemy as sa

from syncstore.db.engine import create_engine


class RowCounter:
    """A thread-safe running total of rows fetched."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rows = 0

    def add(self, rows: int) -> None:
        with self._lock:
            self.rows += rows


def _sqlite_connection_class(counter: RowCounter) -> type[sqlite3.Connection]:
    class CountingCursor(sqlite3.Cursor):
        def fetchone(self) -> Any:
            row = super().fetchone()
            counter.add(row is not None)
            return row

        def fetchmany(self, size: int | None = None) -> list[Any]:
            rows = super().fetchmany(self.arraysize if size is None else size)
            counter.add(len(rows))
            return rows

        def fetchall(self) -> list[Any]:
            rows = super().fetchall()
            counter.add(len(rows))
            return rows

    class CountingConnection(sqlite3.Connection):
        def cursor(self, factory: Any = CountingCursor) -> Any:
            return super().cursor(factory)

    return CountingConnection


def _psycopg_cursor_class(counter: RowCounter) -> type[psycopg.Cursor[Any]]:
    class CountingCursor(psycopg.Cursor[Any]):
        def fetchone(self) -> Any:
            row = super().fetchone()
            counter.add(row is not None)
            return row

        def fetchmany(self, size: int = 0) -> list[Any]:
            rows = super().fetchmany(size)
            counter.add(len(rows))
            return rows

        def fetchall(self) -> list[Any]:
            rows = super().fetchall()
            counter.add(len(rows))
            return rows

    return CountingCursor


def counting_engine(url: str) -> tuple[sa.Engine, RowCounter]:
    """An engine for `url` whose fetched rows are counted, and its counter."""
    counter = RowCounter()
    engine = create_engine(url)

    @sa.event.listens_for(engine, "do_connect")
    def _count_rows(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        if engine.dialect.name == "sqlite":
            cparams["factory"] = _sqlite_connection_class(counter)
        else:
            cparams["cursor_factory"] = _psycopg_cursor_class(counter)

    return engine, counter
