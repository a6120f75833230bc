# The planned changes: one frozen, typed variant per thing the sync does to a shop, its JSON view and its key.
"""Planned changes.

One variant per thing that happens to a shop (`PlannedChange` is their union):

- `CreateListing`: a new listing for a product's unlisted variants (one per product; the draft).
- `AddVariant`: a variant of a product already listed in the shop (added to its listing, then bound).
- `Bind`: a remote SKU whose seller SKU is a master variant's SKU is bound to it (no API call).
- `UpdatePrice`, `UpdateStock`: one per remote SKU; sent one item per call, batched to the limit.
- `UpdateContent`: title, description and images of one listing.
- `Activate`, `Deactivate`: one per listing.
- `Adopt`: a marketplace value taken into the platform override (a rule says so; no API call).

Money is `Decimal` everywhere; `request()` is the JSON-safe view (Decimal as a string) that the sync
logs record and the dry run shows. `key(connection_id)` is the idempotency key, derived from the change
itself (shop, operation, target and value), so the same change planned again has the same key.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Literal, TypeAlias

Json: TypeAlias = str | int | float | bool | list["Json"] | dict[str, "Json"] | None
JsonObject: TypeAlias = dict[str, Json]
ContentField: TypeAlias = Literal["title", "description", "images"]
# A marketplace value taken over: a price, a stock level, a title or description, or the images.
AdoptedValue: TypeAlias = Decimal | int | str | tuple[str, ...] | None


@dataclass(frozen=True)
class ValidationIssue:
    field: str
    message: str


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _strings(values: tuple[str, ...]) -> list[Json]:
    return list(values)


def change_key(connection_id: int, operation: str, target: str, value: Json) -> str:
    """shop:operation:target:digest-of-value; the same change always gets the same key."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{connection_id}:{operation}:{target}:{digest}"[:128]


@dataclass(frozen=True, kw_only=True)
class Change(ABC):
    """What every change says: where it lands (master side and snapshot side), its issues, its key."""

    operation: ClassVar[str]
    product_id: int | None
    variant_id: int | None = None
    sku: str | None = None
    remote_item_id: str | None = None
    listing_id: int | None = None
    listing_sku_id: int | None = None
    remote_sku_id: str | None = None
    issues: tuple[ValidationIssue, ...] = ()
    idempotency_key: str = ""

    @property
    def valid(self) -> bool:
        return not self.issues

    @property
    @abstractmethod
    def target(self) -> str:
        """What the change is about, in its key: sku<id>, item<id>, product<id>, variant<id>."""

    @abstractmethod
    def request(self) -> JsonObject:
        """What is sent (or done), JSON-safe: the sync log's request and the dry run's payload."""

    def key(self, connection_id: int) -> str:
        return change_key(connection_id, self.operation, self.target, self.request())


@dataclass(frozen=True)
class NewSku:
    """One variant of a listing to create."""

    variant_id: int
    seller_sku: str
    price: Decimal | None
    stock: int | None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def request(self) -> JsonObject:
        return {
            "variant_id": self.variant_id, "seller_sku": self.seller_sku, "price": money(self.price),
            "stock": self.stock, "attributes": dict(self.attributes),
        }  # fmt: skip


@dataclass(frozen=True)
class ChosenAttribute:
    """A category attribute's value as sent: allowed value ids, or free text."""

    attribute_id: str
    value_ids: tuple[str, ...] = ()
    text: str | None = None

    def request(self) -> JsonObject:
        return {"attribute_id": self.attribute_id, "value_ids": _strings(self.value_ids), "text": self.text}


@dataclass(frozen=True, kw_only=True)
class CreateListing(Change):
    operation: ClassVar[str] = "create"
    title: str | None
    description: str
    category_id: str | None
    images: tuple[str, ...]
    weight_kg: Decimal | None
    dimensions: Mapping[str, str] | None  # length_cm, width_cm, height_cm as decimal text
    currency: str | None
    skus: tuple[NewSku, ...]
    draft_key: str  # the platform's idempotency key for the listing
    generation: int  # listings of this product created in this shop so far
    brand_id: str | None = None  # None: the platform's "no brand"
    brand_name: str | None = None  # the brand's name in the shop's brand list, when known
    attributes: tuple[ChosenAttribute, ...] = ()  # the mapping's defaults merged with the product's own
    logistics_channel_ids: tuple[str, ...] = ()  # the shop's chosen channels (where the platform needs them)
    location_id: str | None = None  # the shop's warehouse/location receiving the stock

    @property
    def target(self) -> str:
        return f"product{self.product_id}"

    def request(self) -> JsonObject:
        return {
            "title": self.title, "description": self.description, "category_id": self.category_id,
            "images": _strings(self.images), "weight_kg": money(self.weight_kg),
            "dimensions": dict(self.dimensions) if self.dimensions is not None else None, "currency": self.currency,
            "skus": [sku.request() for sku in self.skus], "idempotency_key": self.draft_key,
            "brand_id": self.brand_id, "brand_name": self.brand_name,
            "attributes": [a.request() for a in self.attributes],
            "logistics_channel_ids": _strings(self.logistics_channel_ids), "location_id": self.location_id,
        }  # fmt: skip

    def key(self, connection_id: int) -> str:
        # The key names the listing, not its content: a re-run after a crash (even with an edited
        # title) asks the platform for the same listing, which it then finds instead of adding twice.
        return f"{connection_id}:create:product{self.product_id}:{self.generation}"


@dataclass(frozen=True, kw_only=True)
class AddVariant(Change):
    """A new variant of a product the shop already lists: added to the listing, then bound like a create."""

    operation: ClassVar[str] = "create"
    new_sku: NewSku | None = None  # None only in plans stored before variants were sent
    currency: str | None = None
    location_id: str | None = None  # the shop's warehouse/location receiving the stock

    @property
    def target(self) -> str:
        return f"variant{self.variant_id}"

    def request(self) -> JsonObject:
        request: JsonObject = {"listing_id": self.listing_id, "item_id": self.remote_item_id}
        if self.new_sku is not None:
            request.update(sku=self.new_sku.request(), location_id=self.location_id)
        return request


@dataclass(frozen=True, kw_only=True)
class Bind(Change):
    operation: ClassVar[str] = "bind"
    seller_sku: str | None

    @property
    def target(self) -> str:
        return f"sku{self.listing_sku_id}"

    def request(self) -> JsonObject:
        return {"sku_id": self.remote_sku_id, "seller_sku": self.seller_sku, "variant_id": self.variant_id}


@dataclass(frozen=True, kw_only=True)
class UpdatePrice(Change):
    operation: ClassVar[str] = "update_price"
    price: Decimal | None

    @property
    def target(self) -> str:
        return f"sku{self.listing_sku_id}"

    def request(self) -> JsonObject:
        return {"sku_id": self.remote_sku_id, "price": money(self.price)}


@dataclass(frozen=True, kw_only=True)
class UpdateStock(Change):
    operation: ClassVar[str] = "update_stock"
    stock: int | None

    @property
    def target(self) -> str:
        return f"sku{self.listing_sku_id}"

    def request(self) -> JsonObject:
        return {"sku_id": self.remote_sku_id, "stock": self.stock}


@dataclass(frozen=True, kw_only=True)
class UpdateContent(Change):
    """Item-level fields of one listing; `fields` names the ones that change (a value may be None)."""

    operation: ClassVar[str] = "update_fields"
    fields: tuple[ContentField, ...]
    title: str | None = None
    description: str | None = None
    images: tuple[str, ...] | None = None

    @property
    def target(self) -> str:
        return f"item{self.listing_id}"

    def value(self, name: ContentField) -> Json:
        if name == "images":
            return _strings(self.images) if self.images is not None else None
        return self.title if name == "title" else self.description

    def request(self) -> JsonObject:
        return {name: self.value(name) for name in self.fields}


@dataclass(frozen=True, kw_only=True)
class Activate(Change):
    operation: ClassVar[str] = "activate"

    @property
    def target(self) -> str:
        return f"item{self.listing_id}"

    def request(self) -> JsonObject:
        return {"active": True}


@dataclass(frozen=True, kw_only=True)
class Deactivate(Change):
    operation: ClassVar[str] = "deactivate"

    @property
    def target(self) -> str:
        return f"item{self.listing_id}"

    def request(self) -> JsonObject:
        return {"active": False}


@dataclass(frozen=True, kw_only=True)
class Adopt(Change):
    """A marketplace value taken into the platform override: per SKU for price and stock, else per listing."""

    operation: ClassVar[str] = "adopt"
    field: str
    value: AdoptedValue

    @property
    def sku_level(self) -> bool:
        return self.field in ("price", "stock")

    @property
    def target(self) -> str:
        return f"sku{self.listing_sku_id}:{self.field}" if self.sku_level else f"item{self.listing_id}:{self.field}"

    def json_value(self) -> Json:
        if isinstance(self.value, Decimal):
            return str(self.value)
        if isinstance(self.value, tuple):
            return _strings(self.value)
        return self.value

    def request(self) -> JsonObject:
        return {"field": self.field, "value": self.json_value()}


PlannedChange: TypeAlias = (
    CreateListing | AddVariant | Bind | UpdatePrice | UpdateStock | UpdateContent | Activate | Deactivate | Adopt
)
# The order changes are planned and shown in (operations, not variants: both creates share a place).
OPERATIONS: tuple[str, ...] = (
    "create", "bind", "update_price", "update_stock", "update_fields", "activate", "deactivate", "adopt",
)  # fmt: skip
