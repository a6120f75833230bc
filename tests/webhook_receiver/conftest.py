# Fixtures of the receiver tests: a Redis key namespace of this test's own, removed afterwards.
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A prefix for the receiver's Redis keys (nonces, per-IP counts) that no other test shares."""
    import redis

    prefix = f"syncstore-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
