# What a marketplace lets a seller send: listing limits, region rules and batch sizes (one per PlatformSpec).
"""`PlatformRules`: one marketplace's listing rules, as data the core checks a change against.

Each platform package builds its own (`connectors.<platform>.rules.RULES`) from its reference and
hangs it on its `PlatformSpec.rules`; `syncstore.plan.validation` checks changes against whichever
spec a shop belongs to, without knowing which platform that is. Region rules are answered here
(`price_decimals`, `variation_ratio`, `title_min`) so no caller compares a platform's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlatformRules:
    platform: str  # the platform's name (messages say it)
    title_max: int
    description_max: int
    images_min: int
    images_max: int
    stock_max: int  # inclusive
    skus_per_listing: int
    sku_batch: int  # SKUs per price/stock call (one item per call)
    status_batch: int  # items per activate/deactivate call
    list_page: int  # items per page of the changed-items listing
    detail_batch: int  # items per detail call
    # A numeric category id, or an opaque one.
    numeric_category: bool
    label: str = ""  # what people read (messages say it); the platform's name when empty
    # A listing cannot be created without a description.
    description_required: bool = False
    # Regions whose prices take two decimals; None: every region does, otherwise whole numbers elsewhere.
    decimal_regions: frozenset[str] | None = None
    # The largest highest/lowest price ratio between one item's variations, per region (none when absent).
    variation_ratios: Mapping[str, int] = field(default_factory=dict)
    # The shortest title, and the regions where any non-empty title is long enough.
    title_min_length: int = 1
    short_title_regions: frozenset[str] = frozenset()
    # Reading an item with variants costs one more call (a separate model list).
    model_call_per_variant_item: bool = False
    # Calls to create a listing without and with variants.
    create_calls_single: int = 1
    create_calls_variants: int = 1
    # Images as the upload call takes them: larger ones are resized (or refused) before sending.
    image_max_bytes: int = 10 * 1024 * 1024
    image_max_side_px: int = 5000
    image_min_side_px: int = 0
    # A listing is created with at least one of the shop's logistics channels enabled (Shopee).
    needs_logistics_channel: bool = False
    # A listing's attributes, edits and creations are audited before they go live (TikTok Shop).
    audited: bool = False
    # `<img>` tags in a description must point at images uploaded to the platform (TikTok Shop).
    description_images_hosted: bool = False

    @property
    def display_name(self) -> str:
        return self.label or self.platform

    def price_decimals(self, region: str) -> int:
        """Decimals a price may have in this shop (an unknown region is given the benefit of the doubt)."""
        if self.decimal_regions is not None and region and region.upper() not in self.decimal_regions:
            return 0
        return 2

    def variation_ratio(self, region: str) -> int | None:
        """The largest allowed highest/lowest price ratio between one item's variations, if there is one."""
        return self.variation_ratios.get(region.upper())

    def title_min(self, region: str) -> int:
        """The shortest title allowed (an unknown region is given the benefit of the doubt)."""
        if self.title_min_length > 1 and region and region.upper() not in self.short_title_regions:
            return self.title_min_length
        return 1

    def create_calls(self, single: bool) -> int:
        return self.create_calls_single if single else self.create_calls_variants
