# Each marketplace's listing rules and batch limits: what a change must satisfy, and how many calls it costs.
"""Platform rules for the sync plan.

Each platform's `PlatformSpec.rules` (`rules_for`) holds the limits a listing must meet before
SyncStore sends it (title length, description length, image count, price and stock range, SKUs per
listing) and the batch sizes the connector packs writes into. The limits are the ones the platforms
document for sellers (Shopee: titles up to 120 characters, 9 images, 50 models per item; TikTok
Shop: titles up to 255, 9 images, stock below 99,999); the connector and the simulators enforce the
same wire limits. Checking them here lets a dry run say what would fail without a call, and keeps
an invalid change from being sent.

The call estimates count what the connectors do (each platform package's rules say it):
Shopee writes prices and stock one item per call (50 models a call), TikTok Shop one product per call;
status changes go 50 (Shopee) or 20 (TikTok Shop) items a call; creating a Shopee listing first looks
for it by SKU (a retry never creates it twice), then adds it, then (with variants) adds its models.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

from connectors import registry
from connectors.rules import PlatformRules

PRICE_MAX: Final = Decimal("99999999.99")  # the Money column's range (12, 2)


def price_decimals(rules: PlatformRules, region: str) -> int:
    """Decimals a price may have in this shop (an unknown region is given the benefit of the doubt)."""
    return rules.price_decimals(region)


def variation_ratio(rules: PlatformRules, region: str) -> int | None:
    """The largest allowed highest/lowest price ratio between one item's variations, if the platform has one."""
    return rules.variation_ratio(region)


def title_min(rules: PlatformRules, region: str) -> int:
    """The shortest title allowed (an unknown region is given the benefit of the doubt)."""
    return rules.title_min(region)


def rules_for(platform: str) -> PlatformRules:
    """The rules of a registered platform (its spec's `rules`); ValueError for an unknown name."""
    try:
        return registry.spec(platform).rules
    except registry.UnknownPlatform:
        raise ValueError(f"unknown platform {platform!r}") from None


# --- checks: each returns (field, message) pairs --------------------------------------------------

Issue = tuple[str, str]


def check_title(rules: PlatformRules, title: Any, region: str = "") -> list[Issue]:
    if not isinstance(title, str) or not title.strip():
        return [("title", "a title is required")]
    if len(title) > rules.title_max:
        return [("title", f"{len(title)} characters; {rules.platform} allows at most {rules.title_max}")]
    minimum = title_min(rules, region)
    if len(title) < minimum:
        where = f" in {region.upper()}"
        return [("title", f"{len(title)} characters; {rules.platform} needs at least {minimum}{where}")]
    return []


def check_description(rules: PlatformRules, description: Any) -> list[Issue]:
    if description is not None and len(str(description)) > rules.description_max:
        return [("description", f"{len(str(description))} characters; at most {rules.description_max}")]
    return []


def check_images(rules: PlatformRules, images: Sequence[str] | None) -> list[Issue]:
    count = len(images or ())
    if count < rules.images_min:
        return [("images", f"at least {rules.images_min} image is required on {rules.platform}")]
    if count > rules.images_max:
        return [("images", f"{count} images; {rules.platform} allows at most {rules.images_max}")]
    return []


def check_image_sizes(rules: PlatformRules, sizes: Sequence[tuple[str, int, int]]) -> list[Issue]:
    """(image, width, height) of each image as fetched: one too small for the platform cannot be sent.

    Larger or heavier ones are not issues: the media step resizes them to `image_max_side_px` /
    `image_max_bytes` before the upload. Called where the sizes are known (syncstore.media).
    """
    minimum = rules.image_min_side_px
    issues = []
    for image, width, height in sizes:
        if minimum and min(width, height) < minimum:
            issues.append(("images", f"{image} is {width}x{height} px; {rules.display_name} needs at least "
                                     f"{minimum} px on each side: use a larger image"))  # fmt: skip
    return issues


def check_price(price: Decimal | None, sku: str | None = None, *, decimals: int = 2, region: str = "") -> list[Issue]:
    name = f"price[{sku}]" if sku else "price"
    if price is None:
        return [(name, "a price is required")]
    if price <= 0 or price > PRICE_MAX:
        return [(name, f"{price} is out of range (above 0, at most {PRICE_MAX})")]
    if price.normalize().as_tuple().exponent < -decimals:  # type: ignore[operator]
        if decimals == 0:
            return [(name, f"{price} has decimals; prices are whole numbers in {region.upper() or 'this region'}")]
        return [(name, f"{price} has more than {decimals} decimals")]
    return []


def check_variation_prices(rules: PlatformRules, region: str, prices: Sequence[Decimal | None]) -> list[Issue]:
    """The regional ratio between the highest and the lowest price of one item's variations."""
    ratio = variation_ratio(rules, region)
    known = [price for price in prices if price is not None and price > 0]
    if ratio is None or len(known) < 2 or max(known) <= min(known) * ratio:
        return []
    return [
        (
            "price",
            f"variation prices {min(known)} to {max(known)} differ by more than {ratio}x, "
            f"the most {rules.platform} allows in {region.upper()}",
        )
    ]


def check_stock(rules: PlatformRules, stock: int | None, sku: str | None = None) -> list[Issue]:
    name = f"stock[{sku}]" if sku else "stock"
    if stock is None:
        return [(name, "a quantity is required")]
    if not 0 <= stock <= rules.stock_max:
        return [(name, f"{stock} is out of range (0 to {rules.stock_max} on {rules.platform})")]
    return []


_IMG_TAG: Final = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_UNSAFE_TAG: Final = re.compile(r"<\s*(script|iframe|style|object|embed|form)\b", re.IGNORECASE)


def check_description_format(rules: PlatformRules, description: Any) -> list[Issue]:
    """HTML rules: no active content anywhere; `<img>` only where the platform hosts description images."""
    text = str(description or "")
    unsafe = _UNSAFE_TAG.search(text)
    if unsafe:
        return [("description", f"<{unsafe.group(1).lower()}> is not allowed in a description: remove it")]
    if rules.description_images_hosted and _IMG_TAG.search(text):
        return [("description", f"{rules.display_name} shows only its own uploaded images inside a description: "
                                "remove the <img> tags (put the pictures in the product's images)")]  # fmt: skip
    return []


def check_category(rules: PlatformRules, remote_category_id: str | None, master_category: str | None) -> list[Issue]:
    if not remote_category_id:
        return [("category", f"category {master_category!r} is not mapped to a {rules.display_name} category: map it "
                             "on the Categories page (or `syncstore categories map`)")]  # fmt: skip
    if rules.numeric_category and not remote_category_id.isdigit():
        return [("category", f"{rules.platform} category ids are numbers, not {remote_category_id!r}")]
    return []


# --- call estimates ---------------------------------------------------------------------------


def list_calls(rules: PlatformRules, changed_items: int) -> int:
    """Pages of the changed-items listing (the first page is always asked for)."""
    return max(1, math.ceil(changed_items / rules.list_page))


def detail_calls(rules: PlatformRules, requested: int, with_models: int = 0) -> int:
    """Detail calls for `requested` items; Shopee adds one model-list call per item with variants."""
    if requested == 0:
        return 0
    extra = with_models if rules.model_call_per_variant_item else 0
    return math.ceil(requested / rules.detail_batch) + extra


def sku_write_calls(rules: PlatformRules, skus_per_item: Sequence[int]) -> int:
    """Price or stock writes: one item per call, `sku_batch` SKUs a call."""
    return sum(math.ceil(n / rules.sku_batch) for n in skus_per_item if n > 0)


def status_calls(rules: PlatformRules, items: int) -> int:
    return math.ceil(items / rules.status_batch) if items else 0


def create_calls(rules: PlatformRules, skus: int, single: bool) -> int:
    """What the platform's connector spends on one create (its rules say: e.g. look up, add, add models)."""
    return rules.create_calls(single)
