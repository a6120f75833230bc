# Fixtures of the publishing tests: the two test marts registered, a shop on each, on SQLite and PostgreSQL.
from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from demo.images import SampleImageServer
from tests.syncstore.publishing.marts import World, registered


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[World]:
    # The products' images are real JPEGs from a local server: a publish fetches and uploads them.
    images = SampleImageServer()
    images.start()
    try:
        yield from (World.start(engine, image_base=images.base) for _ in registered())
    finally:
        images.stop()
