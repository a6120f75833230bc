# Two registered test marketplaces for publishing: one needs logistics channels, one audits; shops held in memory.
"""Ship Mart and Review Mart: test marketplaces written from the reference's publishing rules, not from a connector.

`ShipMart` creates a listing only with at least one of the shop's logistics channels enabled, the
category's mandatory attributes, and a warehouse when the shop has several (like Shopee's add_item).
`ReviewMart` also audits every create and content edit (like TikTok Shop): a listing is IN_REVIEW
until `approve` or `refuse`; titles need 25 characters; description `<img>` tags are refused.
Each shop (`MartShop`) is the shop's connector too: the sync and the publish call it directly.
`World.start(engine)` registers both platforms, adds one shop each, and yields the connector factory.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa

from connectors import registry
from connectors.base import (
    AttributeValue,
    ConnectorError,
    CreatedListing,
    ItemChange,
    ListingDraft,
    ListingFields,
    ListingStatus,
    LogisticsChannel,
    PlatformSpec,
    RemoteAttribute,
    RemoteBrand,
    RemoteCategory,
    RemoteListing,
    RemoteSku,
    ShopLocation,
    SkuDraft,
    SkuResult,
    StockLocation,
    UploadedImage,
    WriteResult,
)
from connectors.rules import PlatformRules
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformConnection
from syncstore.security.auth import Actor, Role

SHIP, REVIEW = "shipmart", "reviewmart"
EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
ADMIN = Actor.command_line()
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)
# The category tree both marts serve: Fashion > Shirts (leaf) needs a Material; Garden > Tools has none mandatory.
CATEGORIES: Final = (
    RemoteCategory(category_id="100", name="Fashion", is_leaf=False),
    RemoteCategory(category_id="101", name="Shirts", parent_id="100"),
    RemoteCategory(category_id="200", name="Garden", is_leaf=False),
    RemoteCategory(category_id="201", name="Garden tools", parent_id="200"),
)
MATERIALS: Final = (AttributeValue(value_id="1", name="Cotton"), AttributeValue(value_id="2", name="Linen"))
ATTRIBUTES: Final = {
    "101": (
        RemoteAttribute(attribute_id="7001", name="Material", mandatory=True, input_type="single_select",
                        values=MATERIALS,
                        custom_allowed=False),
        RemoteAttribute(attribute_id="7002", name="Sleeve length (cm)", input_type="number"),
        RemoteAttribute(attribute_id="7003", name="Care label", mandatory=True, input_type="text"),
    ),
    "201": (RemoteAttribute(attribute_id="8001", name="Blade", input_type="text"),),
}  # fmt: skip


def _rules(name: str, **values: Any) -> PlatformRules:
    return PlatformRules(
        platform=name, title_max=120, description_max=3000, images_min=1, images_max=9, stock_max=999_999,
        skus_per_listing=50, sku_batch=50, status_batch=50, list_page=100, detail_batch=50, numeric_category=True,
        **values,
    )  # fmt: skip


@dataclass
class Item:
    item_id: str
    draft: ListingDraft
    skus: dict[str, tuple[str, Decimal, int]]  # sku id -> (seller sku, price, stock)
    status: ListingStatus
    updated_at: datetime
    review_message: str = ""


@dataclass
class MartShop:
    """One shop of a mart, and its connector."""

    platform: str
    shop_id: str
    rules: PlatformRules
    channels: list[LogisticsChannel] = field(default_factory=list)
    locations: list[ShopLocation] = field(default_factory=list)
    items: dict[str, Item] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(50_001))

    # -- the platform's side --

    def _touch(self, item: Item) -> None:
        item.updated_at = datetime.now(UTC)

    def approve(self, item_id: str) -> None:
        item = self.items[item_id]
        item.status, item.review_message = ListingStatus.ACTIVE, ""
        self._touch(item)

    def refuse(self, item_id: str, reason: str) -> None:
        item = self.items[item_id]
        item.status, item.review_message = ListingStatus.REVIEW_FAILED, reason
        self._touch(item)

    def _refuse_draft(self, draft: ListingDraft) -> None:
        mandatory = [a for a in ATTRIBUTES.get(draft.category_id, ()) if a.mandatory]
        given = {choice.attribute_id for choice in draft.attributes}
        missing = [a.name for a in mandatory if a.attribute_id not in given]
        if missing:
            raise ConnectorError(f"mandatory attribute missing: {', '.join(missing)}", platform=self.platform,
                                 code="attribute_missing")  # fmt: skip
        if self.rules.needs_logistics_channel:
            enabled = {c.channel_id for c in self.channels if c.enabled}
            if not enabled & set(draft.logistics_channel_ids):
                raise ConnectorError("at least one enabled logistics channel is required", platform=self.platform,
                                     code="logistics_missing")  # fmt: skip
        self._refuse_location(draft.location_id)

    def _refuse_location(self, location_id: str | None) -> None:
        if len(self.locations) > 1 and location_id not in {loc.location_id for loc in self.locations}:
            raise ConnectorError("multiple warehouses: a warehouse id is required", platform=self.platform,
                                 code="warehouse_missing")  # fmt: skip

    # -- the connector --

    def list_categories(self) -> list[RemoteCategory]:
        self.calls.append(("list_categories", None))
        return list(CATEGORIES)

    def get_category_attributes(self, category_id: str) -> list[RemoteAttribute]:
        self.calls.append(("get_category_attributes", category_id))
        return list(ATTRIBUTES.get(category_id, ()))

    def list_brands(self, category_id: str) -> list[RemoteBrand]:
        return [RemoteBrand(brand_id="B1", name="Acme")]

    def list_logistics_channels(self) -> list[LogisticsChannel]:
        return list(self.channels)

    def list_locations(self) -> list[ShopLocation]:
        return list(self.locations)

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        return UploadedImage(image_id=f"img-{len(content)}")

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        self.calls.append(("create_listing", draft))
        self._refuse_draft(draft)
        item_id = str(next(self._ids))
        skus = {str(next(self._ids)): (s.seller_sku, s.price, s.stock) for s in draft.skus}
        status = ListingStatus.IN_REVIEW if self.rules.audited else ListingStatus.ACTIVE
        self.items[item_id] = Item(item_id, draft, skus, status, datetime.now(UTC))
        return CreatedListing(item_id=item_id, sku_ids={seller: sku_id for sku_id, (seller, _, _) in skus.items()},
                              in_review=self.rules.audited)  # fmt: skip

    def add_variants(self, item_id: str, skus: Sequence[SkuDraft], location_id: str | None = None) -> CreatedListing:
        self.calls.append(("add_variants", (item_id, [s.seller_sku for s in skus], location_id)))
        self._refuse_location(location_id)
        item = self.items[item_id]
        added = {}
        for sku in skus:
            sku_id = str(next(self._ids))
            item.skus[sku_id] = (sku.seller_sku, sku.price, sku.stock)
            added[sku.seller_sku] = sku_id
        self._touch(item)
        return CreatedListing(item_id=item_id, sku_ids=added)

    def update_fields(self, item_id: str, fields: ListingFields) -> None:
        self.calls.append(("update_fields", (item_id, fields)))
        item = self.items[item_id]
        changed = {k: v for k, v in fields.model_dump().items() if v is not None and k in ("title", "description")}
        item.draft = item.draft.model_copy(update=changed)
        if self.rules.audited:
            item.status, item.review_message = ListingStatus.IN_REVIEW, ""
        self._touch(item)

    def _write(self, item_id: str, values: Mapping[str, Any], index: int) -> WriteResult:
        item = self.items[item_id]
        for sku_id, value in values.items():
            current = list(item.skus[sku_id])
            current[index] = value
            item.skus[sku_id] = (current[0], current[1], current[2])
        self._touch(item)
        return WriteResult(item_id=item_id, results=tuple(SkuResult(sku_id=s, ok=True) for s in values))

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        self.calls.append(("update_price", (item_id, dict(prices))))
        return self._write(item_id, prices, 1)

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        self.calls.append(("update_stock", (item_id, dict(stock))))
        return self._write(item_id, stock, 2)

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]:
        for item_id in item_ids:
            self.items[item_id].status = ListingStatus.ACTIVE if active else ListingStatus.INACTIVE
        return [SkuResult(sku_id=i, ok=True) for i in item_ids]

    def list_changed_items(self, since: datetime, until: datetime) -> Iterator[ItemChange]:
        for item in self.items.values():
            if since <= item.updated_at <= until:
                yield ItemChange(item_id=item.item_id, updated_at=item.updated_at)

    def get_listings(self, item_ids: Sequence[str]) -> list[RemoteListing]:
        return [self._remote(self.items[i]) for i in item_ids if i in self.items]

    def _remote(self, item: Item) -> RemoteListing:
        draft = item.draft
        return RemoteListing(
            platform=self.platform, shop_id=self.shop_id, item_id=item.item_id, status=item.status,
            raw_status=item.status.value, title=draft.title, description=draft.description, images=draft.images,
            category_id=draft.category_id, weight_kg=draft.weight_kg, updated_at=item.updated_at,
            review_message=item.review_message,
            skus=tuple(RemoteSku(sku_id=sku_id, seller_sku=seller, price=price, currency=draft.currency,
                                 stock=(StockLocation(quantity=stock),))
                       for sku_id, (seller, price, stock) in item.skus.items()),
        )  # fmt: skip

    def created(self) -> list[ListingDraft]:
        return [draft for name, draft in self.calls if name == "create_listing"]


def spec(name: str, label: str, rules: PlatformRules) -> PlatformSpec:
    def unused(*_: Any, **__: Any) -> Any:
        raise AssertionError("the publishing tests hand the sync its connectors")

    return PlatformSpec(
        name=name, label=label, required_settings=(), is_configured=lambda settings: True, connector=unused,
        app=unused, token_per_seller=False, cross_border_refusal=None, webhook_key_names=(), webhook_settings="",
        verify_webhook=lambda keys, body, header: False, parse_webhook=unused, revoked_event_types=frozenset(),
        expiring_event_types=frozenset(), rules=rules,
    )  # fmt: skip


SHIP_RULES: Final = _rules(SHIP, label="Ship Mart", needs_logistics_channel=True)
REVIEW_RULES: Final = _rules(REVIEW, label="Review Mart", audited=True, title_min_length=25,
                             description_images_hosted=True)  # fmt: skip


@dataclass
class World:
    engine: sa.Engine
    ship: MartShop
    review: MartShop
    ship_connection: int
    review_connection: int
    image_base: str

    @classmethod
    def start(cls, engine: sa.Engine, *, image_base: str) -> World:
        ship = MartShop(SHIP, "s-1", SHIP_RULES,
                        channels=[LogisticsChannel(channel_id="2001", name="Standard"),
                                  LogisticsChannel(channel_id="2002", name="Bulky", enabled=False)],
                        locations=[ShopLocation(location_id="WH-A", name="Main"),
                                   ShopLocation(location_id="WH-B", name="Overflow")])  # fmt: skip
        review = MartShop(REVIEW, "r-1", REVIEW_RULES, locations=[ShopLocation(location_id="R-WH", name="Only")])
        with transaction(engine) as session:
            rows = [PlatformConnection(platform=mart.platform, shop_id=mart.shop_id, shop_name=f"{mart.platform} shop",
                                       region="MY", status="connected") for mart in (ship, review)]  # fmt: skip
            session.add_all(rows)
            session.flush()
            ids = [row.id for row in rows]
        return cls(engine, ship, review, ids[0], ids[1], image_base)

    @property
    def connection_ids(self) -> list[int]:
        return [self.ship_connection, self.review_connection]

    def connector(self, connection_id: int) -> MartShop:
        return self.ship if connection_id == self.ship_connection else self.review

    def product(self, sku: str, *, title: str = "Linen shirt with long sleeves", category: str = "Shirts",
                variants: int = 1, description: str = "<p>Soft linen</p>", **fields: Any) -> MasterProduct:  # fmt: skip
        rows = [{"sku": sku if variants == 1 else f"{sku}-{i}", "name": f"V{i}", "price": "59.90", "stock": 10,
                 **({"attributes": {"Size": f"S{i}"}} if variants > 1 else {})}
                for i in range(1, variants + 1)]  # fmt: skip
        data = {"title": title, "category": category, "base_price": "59.90", "weight_kg": "0.3",
                "images": [f"{self.image_base}/p/1.jpg"], "description": description, "variants": rows,
                **fields}  # fmt: skip
        with transaction(self.engine) as session:
            product = catalog.create_product(EDITOR, session, data)
            session.expunge(product)
            return product


def registered() -> Iterator[None]:
    """Both marts in the registry while a test runs."""
    removers = [registry.register(spec(SHIP, "Ship Mart", SHIP_RULES)),
                registry.register(spec(REVIEW, "Review Mart", REVIEW_RULES))]  # fmt: skip
    try:
        yield
    finally:
        for remove in removers:
            remove()
