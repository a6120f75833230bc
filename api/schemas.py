# The API's response and request models (documented in the OpenAPI schema); money as decimal strings.
"""Models of what the API answers and the few requests that are not the core's own input models.

Product and variant input reuse `syncstore.catalog.schema` (one set of validation rules for the
app, the CLI, the importer and the API). Money is a decimal string (`"19.90"`), never a float;
times are ISO 8601 UTC. No model has a field for a token, key or secret.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = Decimal


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class VariantOut(_Out):
    """A variant (SKU) of a product, with its stock."""

    id: int
    sku: str
    name: str
    price: Money | None = Field(description="Null: the product's base price applies.")
    stock: int = Field(description="On hand.")
    reserved: int = Field(description="Held by open orders.")
    attributes: dict[str, str]
    barcode: str | None
    image_url: str | None
    weight_kg: Decimal | None
    low_stock_threshold: int | None
    is_active: bool


class ProductOut(_Out):
    """A master product with its variants; `version` is its ETag (send it as If-Match to update)."""

    id: int
    handle: str
    title: str
    description: str
    category: str
    brand: str
    base_price: Money
    currency: str
    weight_kg: Decimal | None
    length_cm: Decimal | None
    width_cm: Decimal | None
    height_cm: Decimal | None
    images: list[str]
    tags: list[str]
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    variants: list[VariantOut]


class OverrideIn(BaseModel):
    """Show `value` instead of the master field on every shop of `platform`."""

    model_config = ConfigDict(extra="forbid")
    platform: str = Field(max_length=20, description="A registered platform name.")
    field: Literal["price", "title", "description", "images"]
    value: Any = Field(description="A price (decimal string), a title, a description or a list of image URLs.")
    variant_id: int | None = Field(default=None, description="Only `price` may be overridden per variant.")


class OverrideOut(_Out):
    id: int
    product_id: int
    variant_id: int | None
    platform: str
    field: str
    value: Any
    updated_by: str
    updated_at: datetime


class StockOut(BaseModel):
    """A variant's stock: on hand, reserved, available, and what each shop was last sent and shows."""

    variant_id: int
    product_id: int
    sku: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None
    is_low: bool
    channels: list[ChannelStockOut] = Field(default_factory=list)
    locations: list[LocationStockOut] = Field(
        default_factory=list, description="Per stock location (on GET /v1/stock/{variant_id})."
    )


class LocationStockOut(BaseModel):
    """A variant's stock at one location (the default location holds what no other location does)."""

    location_id: int
    name: str
    is_default: bool
    on_hand: int
    reserved: int
    available: int


class LocationOut(BaseModel):
    id: int
    name: str
    is_default: bool
    is_active: bool


class TransferIn(BaseModel):
    """Move on-hand stock between two locations (totals unchanged; only shops fed by them change)."""

    model_config = ConfigDict(extra="forbid")
    from_location_id: int = Field(ge=1)
    to_location_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=9_999_999)
    note: str | None = Field(default=None, max_length=500)


class ChannelStockOut(BaseModel):
    connection_id: int
    platform: str
    shop_name: str
    pushed: int | None = Field(description="The stock last sent to the shop.")
    remote: int | None = Field(description="The stock the shop showed at its last read.")
    last_synced_at: datetime | None


class StockAdjustIn(BaseModel):
    """Set (`set_to`) or change (`delta`) a variant's on-hand quantity, with a reason."""

    model_config = ConfigDict(extra="forbid")
    set_to: int | None = Field(default=None, ge=0, le=9_999_999)
    delta: int | None = Field(default=None, ge=-9_999_999, le=9_999_999)
    reason: Literal[
        "manual", "import", "reconcile", "count", "received", "damaged", "lost", "returned", "found", "other"
    ] = Field(default="manual", description="Why the stock changed; `other` needs a `note`.")
    note: str | None = Field(default=None, max_length=500)
    location_id: int | None = Field(default=None, ge=1, description="The location (default: the default location).")
    expected_on_hand: int | None = Field(
        default=None, ge=0, description="The on-hand quantity you saw (at that location): 412 if it changed since."
    )


class LedgerEntryOut(_Out):
    id: int
    previous_quantity: int
    new_quantity: int
    previous_reserved: int
    new_reserved: int
    change_reason: str
    changed_by: str
    note: str | None
    platform: str | None
    created_at: datetime


class RuleOut(BaseModel):
    """A sync rule; `version` (its save time in microseconds) is its ETag."""

    id: int
    name: str
    description: str
    platform: str | None
    priority: int
    is_active: bool
    conditions: dict[str, Any]
    actions: dict[str, Any]
    version: int


class BindingOut(_Out):
    """A remote SKU and the master variant it is bound to (null: unbound)."""

    id: int
    remote_sku_id: str
    seller_sku: str | None
    variant_id: int | None
    remote_price: Money | None
    remote_stock: int | None
    last_synced_at: datetime | None


class ListingOut(_Out):
    """A remote item in a shop and the master product it is bound to (null: an orphan)."""

    id: int
    connection_id: int
    platform: str
    product_id: int | None
    remote_item_id: str
    remote_status: str
    remote_title: str | None
    sync_status: str
    last_synced_at: datetime | None
    last_error: str | None
    skus: list[BindingOut]


class ConflictOut(_Out):
    id: int
    connection_id: int
    platform: str
    listing_id: int | None
    product_id: int | None
    variant_id: int | None
    field: str
    master_value: Any
    platform_value: Any
    base_value: Any
    status: str
    resolution: Any
    resolved_by: str | None
    detected_at: datetime
    resolved_at: datetime | None


class ConflictResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: Literal["use_master", "use_platform", "manual"]
    value: Any = Field(default=None, description="The value to keep, for `manual`.")
    expected_version: int | None = Field(default=None, description="The product version you saw: 412 if changed.")


class DryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_ids: list[int] | None = Field(default=None, max_length=1000, description="Null: the whole catalog.")
    connection_ids: list[int] | None = Field(default=None, max_length=100, description="Null: every shop.")


class IssueOut(BaseModel):
    field: str
    message: str


class ChangeOut(BaseModel):
    """One change a sync would make: what is sent, and the platform rules it breaks (`issues`)."""

    operation: str
    product_id: int | None
    variant_id: int | None
    sku: str | None
    remote_item_id: str | None
    valid: bool
    issues: list[IssueOut]
    request: dict[str, Any]


class ShopPlanOut(BaseModel):
    connection_id: int
    platform: str
    shop_name: str
    shop_key: str
    conflicts: int
    api_calls: int
    would_succeed: bool
    summary: dict[str, int]
    changes: list[ChangeOut] = Field(description="At most 500 changes per shop; `summary.changes` counts them all.")


class DryRunOut(BaseModel):
    shops: list[ShopPlanOut]


class SyncStartIn(BaseModel):
    """Queue a sync of these products (every active product when null) to these shops (every connected one)."""

    model_config = ConfigDict(extra="forbid")
    product_ids: list[int] | None = Field(default=None, max_length=100_000)
    connection_ids: list[int] | None = Field(default=None, max_length=100)


class JobOut(BaseModel):
    """A queued or running sync and its progress (the events worker runs it)."""

    job_id: int
    status: str
    total: int
    done: int
    failed: int
    started_at: datetime | None
    finished_at: datetime | None


class SyncLogOut(BaseModel):
    id: int
    connection_id: int | None
    shop_name: str
    platform: str
    product_id: int | None
    variant_id: int | None
    operation: str
    status: str
    error_message: str | None
    attempts: int
    duration_ms: int | None
    run_id: str | None
    created_at: datetime
    synced_at: datetime | None


class OrderLineOut(_Out):
    """One line of an order and the master variant it bound to (null: unbound)."""

    line_id: str
    item_id: str
    sku_id: str
    seller_sku: str | None
    quantity: int
    cancelled_quantity: int
    variant_id: int | None
    master_sku: str | None


class OrderOut(_Out):
    """A marketplace order as last seen, from a webhook or a poll (the ledger applies each order transition once)."""

    id: int
    platform: str
    shop_id: str | None
    order_id: str | None
    event_type: str = Field(description='Always "order_status" (kept from the event list this replaced).')
    status: str = Field(description="Normalized: pending, paid, shipped, completed, cancelled or other.")
    occurred_at: datetime | None = Field(description="The platform's update time of this status.")
    created_at: datetime = Field(description="When SyncStore first saw the order.")
    processed_at: datetime | None = Field(description="When SyncStore last saw the order.")
    connection_id: int
    shop_name: str
    raw_status: str = Field(description="The platform's own status.")
    units: int
    lines: list[OrderLineOut]


class AlertOut(_Out):
    id: int
    kind: str
    subject: str
    severity: str
    message: str
    status: str
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


StockOut.model_rebuild()
