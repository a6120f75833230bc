# Fixtures of the media tests: a real image server on loopback and two connected shops' rows.
from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection
from tests.syncstore.media.helpers import ImageServer


@pytest.fixture
def images() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.stop()


@pytest.fixture
def shops(engine: sa.Engine) -> tuple[int, int]:
    """Two shop rows (Shopee and TikTok Shop) for media_uploads to refer to."""
    with transaction(engine) as session:
        first = PlatformConnection(platform="shopee", shop_id="1", shop_name="S")
        second = PlatformConnection(platform="tiktokshop", shop_id="2", shop_name="T")
        session.add_all([first, second])
        session.flush()
        return first.id, second.id
