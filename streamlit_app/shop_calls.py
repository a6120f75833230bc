# A shop's connector for one action on a page (refresh categories, channels, warehouses), closed afterwards.
"""`with shop_calls.connector(connection_id) as connector: ...`: the connected shop's connector
(`syncstore.shops.marketplaces.connector_for`: its stored tokens, refreshed when they expire),
closed when the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from connectors.base import Connector
from streamlit_app import ui
from syncstore.shops import marketplaces


@contextmanager
def connector(connection_id: int) -> Iterator[Connector]:
    shop = marketplaces.connector_for(ui.engine(), connection_id)
    try:
        yield shop
    finally:
        close = getattr(shop, "close", None)
        if callable(close):
            close()
