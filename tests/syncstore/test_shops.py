# ShopKey: `<platform>-<shop_id>` written and read back, and what is not a shop key.
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncstore.errors import InvalidInput
from syncstore.shops.keys import ShopKey


def test_a_key_is_written_and_read_back() -> None:
    key = ShopKey("shopee", "100001")
    assert str(key) == "shopee-100001"
    assert ShopKey.parse("shopee-100001") == key
    # A shop id may itself hold the separator: the key splits at its first one.
    assert ShopKey.parse("tiktokshop-7494-x") == ShopKey("tiktokshop", "7494-x")


@given(
    platform=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12),
    shop_id=st.text(min_size=1, max_size=20).filter(str.strip),
)
def test_every_key_round_trips(platform: str, shop_id: str) -> None:
    key = ShopKey(platform, shop_id)
    assert ShopKey.parse(str(key)) == key


@pytest.mark.parametrize("bad", ["shopee", "", "-100001", "shopee-", "shopee-   ", " shopee-1"])
def test_a_bad_key_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        ShopKey.parse(bad)


def test_a_platform_with_the_separator_is_refused() -> None:
    with pytest.raises(InvalidInput):
        ShopKey("shop-ee", "1")
