# Fixtures for the Lazada tests: a running simulator with one seller, and a connector on it.
"""`sim` is a served `LazadaSimulator` (one Malaysian seller); `connector` acts for that seller."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import ShopCredentials
from connectors.lazada.connector import LazadaConnector
from connectors.lazada.simulator.server import LazadaSimulator
from connectors.retry import RetryPolicy

APP_KEY = "112233"
APP_SECRET = "lazada-test-secret"
SELLER = "1000123456"


@pytest.fixture
def sim() -> Iterator[LazadaSimulator]:
    simulator = LazadaSimulator(app_key=APP_KEY, app_secret=APP_SECRET)
    simulator.add_seller(SELLER, "Test Lazada Shop", country="my")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def connector(sim: LazadaSimulator) -> Iterator[LazadaConnector]:
    access, _refresh = sim.token_for(SELLER)
    with LazadaConnector(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_host=sim.url,
        credentials=ShopCredentials(shop_id=SELLER, access_token=access),
        region="MY",
        policy=RetryPolicy(max_attempts=2, base_delay_s=0.01),
    ) as one:
        yield one
