# The simulators' seeded category tree, category attributes and brands (platform-neutral; each simulator numbers them).
"""A small, deterministic marketplace catalog both simulators serve to every shop.

Leaves 1..27 are the sample catalog's master categories in sorted order (the demo maps master category
number i to platform category base + i), with OPTIONAL attributes only, so the demo can list without
supplying attribute values. Leaves 101..108 carry MANDATORY attributes (selects with fixed values,
free text, numbers, dates) for tests and the app's category mapping. Parents are numbered from 901 in
order of first appearance. Each simulator adds its own base (Shopee 100000, TikTok Shop 600000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

# --- the tree -------------------------------------------------------------------------------

DEMO_LEAVES: Final = (
    "Beauty > Makeup > Lipsticks",
    "Beauty > Skincare > Cleansers",
    "Beauty > Skincare > Masks",
    "Beauty > Skincare > Serums",
    "Beauty > Skincare > Sunscreen",
    "Electronics > Audio > Earbuds",
    "Electronics > Audio > Speakers",
    "Electronics > Cables",
    "Electronics > Chargers",
    "Electronics > Phone Cases",
    "Electronics > Power Banks",
    "Electronics > Wearables",
    "Fashion > Baju Raya",
    "Fashion > Caps",
    "Fashion > Dresses",
    "Fashion > Hijabs",
    "Fashion > Hoodies",
    "Fashion > Jeans",
    "Fashion > Sneakers",
    "Fashion > T-Shirts",
    "Home & Living > Appliances",
    "Home & Living > Bath > Towels",
    "Home & Living > Bedding > Bedsheets",
    "Home & Living > Decor > Candles",
    "Home & Living > Decor > Cushion Covers",
    "Home & Living > Kitchen > Mugs",
    "Home & Living > Storage",
)
# Leaves whose listings need mandatory attributes: number -> (path, mandatory attribute numbers).
STRICT_LEAVES: Final[dict[int, tuple[str, tuple[int, ...]]]] = {
    101: ("Health > Supplements > Vitamins", (3, 4)),
    102: ("Electronics > Mobile Phones > Smartphones", (5, 6)),
    103: ("Fashion > Bags > Backpacks", (1,)),
    104: ("Beauty > Fragrance > Perfume", (7, 8)),
    105: ("Home & Living > Furniture > Chairs", (9,)),
    106: ("Fashion > Watches", (10,)),
    107: ("Electronics > Cameras", (6,)),
    108: ("Beauty > Skincare > Toners", (12,)),
}
PARENT_BASE: Final = 900


@dataclass(frozen=True)
class SeedAttribute:
    number: int
    name: str
    # "single_select", "multi_select", "text", "number" or "date"
    input_type: str
    values: tuple[str, ...] = ()
    custom_allowed: bool = True

    def value_number(self, index: int) -> int:
        """Values are numbered attribute * 100 + 1, + 2, ..."""
        return self.number * 100 + index + 1


ATTRIBUTES: Final[dict[int, SeedAttribute]] = {
    a.number: a
    for a in (
        SeedAttribute(1, "Material", "single_select", ("Cotton", "Polyester", "Leather", "Nylon", "Plastic")),
        SeedAttribute(2, "Country of Origin", "single_select", ("Malaysia", "China", "Indonesia", "Thailand"), False),
        SeedAttribute(3, "Expiry Date", "date"),
        SeedAttribute(4, "Pack Size", "single_select", ("30 pcs", "60 pcs", "90 pcs"), False),
        SeedAttribute(5, "Storage Capacity", "single_select", ("64GB", "128GB", "256GB", "512GB"), False),
        SeedAttribute(
            6, "Warranty Type", "single_select", ("No Warranty", "Local Warranty", "International Warranty"), False
        ),
        SeedAttribute(7, "Volume (ml)", "number"),
        SeedAttribute(8, "Fragrance Family", "multi_select", ("Floral", "Woody", "Citrus", "Oriental"), False),
        SeedAttribute(9, "Assembly Required", "single_select", ("Yes", "No"), False),
        SeedAttribute(10, "Watch Movement", "single_select", ("Quartz", "Automatic", "Digital"), False),
        SeedAttribute(11, "Model Name", "text"),
        SeedAttribute(
            12, "Skin Type", "multi_select", ("Oily", "Dry", "Combination", "Sensitive", "All Skin Types"), False
        ),
    )
}
# Optional attributes every leaf has.
OPTIONAL_ATTRIBUTES: Final = (1, 2, 11)

BRANDS: Final = (
    "Amparo", "Batik & Co", "Bunga Beauty", "Cozy Nest", "Dapur Pro", "Embun Lab", "Glow Theory", "Kain Studio",
    "Kayu Home", "Kemas", "Kilat", "Lilin Co", "Lumi Skin", "Monsoon Basics", "Nexcell", "Nusa Threads",
    "Orbit Wear", "Petal & Pout", "Rumah Living", "Selangor Denim Works", "ShieldCase", "Stride Lab",
    "Tempo Audio", "Tidur Linen", "Tudung Teratai", "Urbanloom", "Voltix", "Warisan",
)  # fmt: skip


@dataclass(frozen=True)
class SeedCategory:
    number: int
    name: str
    parent: int | None  # the parent's number, None at the root
    is_leaf: bool
    mandatory: tuple[int, ...] = ()
    attributes: tuple[int, ...] = field(default=())


def _build() -> list[SeedCategory]:
    leaves: list[tuple[int, str, tuple[int, ...]]] = [(i + 1, path, ()) for i, path in enumerate(DEMO_LEAVES)]
    leaves += [(number, path, mandatory) for number, (path, mandatory) in STRICT_LEAVES.items()]
    parents: dict[tuple[str, ...], int] = {}
    nodes: list[SeedCategory] = []
    for number, path, mandatory in leaves:
        parts = tuple(part.strip() for part in path.split(">"))
        parent: int | None = None
        for depth in range(1, len(parts)):
            key = parts[:depth]
            if key not in parents:
                parents[key] = PARENT_BASE + len(parents) + 1
                nodes.append(SeedCategory(parents[key], key[-1], parent, False))
            parent = parents[key]
        attributes = tuple(dict.fromkeys((*mandatory, *OPTIONAL_ATTRIBUTES)))
        nodes.append(SeedCategory(number, parts[-1], parent, True, tuple(mandatory), attributes))
    return nodes


# Parents before their children.
CATEGORIES: Final = tuple(_build())
CATEGORY_BY_NUMBER: Final = {category.number: category for category in CATEGORIES}
