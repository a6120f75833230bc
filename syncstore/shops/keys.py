# The shop key: `<platform>-<shop_id>`, the one way a shop is named in partitions, plans, rules and alerts.
"""`ShopKey`.

A shop is named by its platform and the platform's shop id, written `<platform>-<shop_id>`
(e.g. `shopee-100001`): the Dagster "shops" partition key, the `shop_key` column of the plan
frames, a rule's shop condition and an alert's subject. Platform names hold no `-`, so the key
splits at its first one; a shop id may hold any characters but must not be blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from syncstore.errors import InvalidInput, Message, msg

SEPARATOR: Final = "-"


@dataclass(frozen=True, order=True)
class ShopKey:
    """One shop: `str(key)` is `<platform>-<shop_id>`, `ShopKey.parse` reads it back."""

    platform: str
    shop_id: str

    def __post_init__(self) -> None:
        errors: dict[str, Message] = {}
        if not self.platform or SEPARATOR in self.platform or self.platform != self.platform.strip():
            errors["platform"] = msg(
                "must be a platform name without {separator!r} or spaces, not {platform!r}",
                separator=SEPARATOR,
                platform=self.platform,
            )
        if not self.shop_id or not self.shop_id.strip():
            errors["shop_id"] = msg("must not be empty")
        if errors:
            raise InvalidInput(errors)

    @classmethod
    def parse(cls, key: str) -> ShopKey:
        """`shopee-100001` -> ShopKey("shopee", "100001"); InvalidInput when `key` is not a shop key."""
        platform, separator, shop_id = key.partition(SEPARATOR)
        if not separator:
            raise InvalidInput(
                {"shop_key": msg("{key!r} is not <platform>{separator}<shop_id>", key=key, separator=SEPARATOR)}
            )
        return cls(platform, shop_id)

    def __str__(self) -> str:
        return f"{self.platform}{SEPARATOR}{self.shop_id}"
