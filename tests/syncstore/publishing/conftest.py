# Fixtures of the publishing tests: the two test marts registered, a shop on each, on SQLite and PostgreSQL.
from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.syncstore.publishing.marts import World, registered


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[World]:
    yield from (World.start(engine) for _ in registered())
