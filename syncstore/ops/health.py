# Health of the services SyncStore depends on: the database and, when configured, Redis.
"""Health checks, shared by `syncstore doctor` and the receiver's /healthz."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa

from syncstore.db import migrate


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    ok: bool
    detail: str
    latency_ms: float | None = None


def check_database(engine: sa.Engine) -> ComponentHealth:
    """Can we reach the database, and is its schema migrated?"""
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        revision = migrate.current_revision(engine)
    except sa.exc.SQLAlchemyError as error:
        # The driver's message names host and database, never the password.
        return ComponentHealth(
            "database", False, f"unreachable: {type(getattr(error, 'orig', None) or error).__name__}"
        )
    latency = (time.perf_counter() - started) * 1000
    if revision is None:
        return ComponentHealth("database", False, "reachable but not migrated: run `syncstore db upgrade`", latency)
    return ComponentHealth("database", True, f"{engine.dialect.name}, schema revision {revision}", latency)


def check_redis(url: str | None, *, timeout_s: float = 1.0) -> ComponentHealth:
    """Can we reach Redis? Without a URL, Redis is simply not used (the database does its jobs)."""
    if not url:
        return ComponentHealth("redis", True, "not configured: the database does its jobs")
    started = time.perf_counter()
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        client.ping()
        version = client.info("server").get("redis_version", "?")
    except redis.RedisError as error:
        where = f"{urlsplit(url).hostname}:{urlsplit(url).port or 6379}"
        return ComponentHealth("redis", False, f"unreachable at {where}: {type(error).__name__}")
    finally:
        client.close()
    return ComponentHealth("redis", True, f"redis {version}", (time.perf_counter() - started) * 1000)
