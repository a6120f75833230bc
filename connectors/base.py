# The boundary between SyncStore and the marketplaces: normalized models, typed errors, the Connector protocol.
"""What every marketplace connector speaks.

Platform packages (`connectors/<platform>/`) turn their wire formats into these models
and their error codes into these exceptions; the rest of SyncStore sees nothing else. Money is
`Decimal`, times are timezone-aware UTC, ids are strings.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from connectors.rules import PlatformRules

if TYPE_CHECKING:  # connectors.retry imports this module
    from pathlib import Path

    import httpx

    from connectors.retry import RetryPolicy

# A platform's name as stored and used in URLs: any name `connectors.registry` holds a spec for
# (checked at the boundary, where a name comes in), never a fixed list.
Platform = str


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- listings -------------------------------------------------------------------------------


class ListingStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"
    # The platform is auditing a create or an edit (TikTok Shop PENDING): shown as "in review".
    IN_REVIEW = "in_review"
    # The platform's audit refused the listing (TikTok Shop FAILED); the reason is in `review_message`.
    REVIEW_FAILED = "review_failed"
    # Banned, draft...: the platform's own word is kept in `raw_status`.
    OTHER = "other"


class StockLocation(_Frozen):
    """Stock of one SKU at one warehouse (TikTok) or location (Shopee; "" when the shop has one)."""

    location_id: str = ""
    quantity: int = Field(ge=0)


class Dimensions(_Frozen):
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal


class RemoteSku(_Frozen):
    """A Shopee model or a TikTok Shop SKU."""

    sku_id: str = Field(description="Shopee model_id ('0' for an item without models) or TikTok SKU id.")
    seller_sku: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    stock: tuple[StockLocation, ...] = ()
    attributes: Mapping[str, str] = Field(default_factory=dict)

    @property
    def total_stock(self) -> int:
        return sum(location.quantity for location in self.stock)


class RemoteListing(_Frozen):
    """A Shopee item or a TikTok Shop product, with its SKUs."""

    platform: Platform
    shop_id: str
    item_id: str
    status: ListingStatus
    raw_status: str = ""
    title: str = ""
    description: str = ""
    images: tuple[str, ...] = ()
    category_id: str | None = None
    weight_kg: Decimal | None = None
    dimensions: Dimensions | None = None
    updated_at: datetime
    skus: tuple[RemoteSku, ...] = ()
    # Why the platform's audit refused the listing (REVIEW_FAILED), in the platform's words.
    review_message: str = ""


class ItemChange(_Frozen):
    """One row of a "changed since" listing: enough to decide what to fetch in detail."""

    item_id: str
    updated_at: datetime
    raw_status: str = ""


class ListingFields(_Frozen):
    """Item-level fields to change; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    images: tuple[str, ...] | None = None
    weight_kg: Decimal | None = None
    dimensions: Dimensions | None = None


class SkuDraft(_Frozen):
    seller_sku: str
    price: Decimal
    stock: int = Field(ge=0)
    attributes: Mapping[str, str] = Field(default_factory=dict)


class AttributeChoice(_Frozen):
    """The value given to one category attribute: ids of the platform's allowed values, or free text."""

    attribute_id: str
    value_ids: tuple[str, ...] = ()
    text: str | None = None


class ListingDraft(_Frozen):
    """A listing to create, with its variants."""

    title: str
    description: str
    category_id: str
    # Ids of images already uploaded to this shop's platform (`Connector.upload_image`), never URLs.
    images: tuple[str, ...]
    weight_kg: Decimal
    dimensions: Dimensions | None = None
    currency: str
    skus: tuple[SkuDraft, ...] = Field(min_length=1)
    # Sent where the platform supports it (TikTok Shop); a retry after a crash creates nothing twice.
    idempotency_key: str
    # The platform's brand id; None sends the platform's "no brand".
    brand_id: str | None = None
    # The brand's name as the platform lists it (Shopee's add_item sends it beside the id).
    brand_name: str | None = None
    # Values of the category's attributes (every mandatory one, at least).
    attributes: tuple[AttributeChoice, ...] = ()
    # Shopee: the shop's logistics channels enabled for this listing (at least one). Ignored elsewhere.
    logistics_channel_ids: tuple[str, ...] = ()
    # The Shopee location_id / TikTok Shop warehouse_id that receives the stock (None: the shop's only one).
    location_id: str | None = None


class SkuResult(_Frozen):
    """The outcome of one SKU inside a batch write: partial failures are reported, never lost."""

    sku_id: str
    ok: bool
    error_code: str | None = None
    message: str | None = None


class WriteResult(_Frozen):
    item_id: str
    results: tuple[SkuResult, ...] = ()

    @property
    def failed(self) -> tuple[SkuResult, ...]:
        return tuple(result for result in self.results if not result.ok)


class CreatedListing(_Frozen):
    item_id: str
    # seller SKU -> remote SKU/model id, so the new listing is bound to the master variants.
    sku_ids: Mapping[str, str]
    # The platform audits it before it goes live (TikTok Shop): "in review" until the audit result.
    in_review: bool = False


# --- publishing: media, categories, logistics -------------------------------------------------


class UploadedImage(_Frozen):
    """An image the platform holds for the shop: `image_id` is what create and edit calls take."""

    image_id: str  # Shopee image_id; TikTok Shop uri
    url: str = ""


class RemoteCategory(_Frozen):
    category_id: str
    name: str
    parent_id: str | None = None
    is_leaf: bool = True


class AttributeValue(_Frozen):
    value_id: str
    name: str


class RemoteAttribute(_Frozen):
    """One attribute of a platform category, normalized."""

    attribute_id: str
    name: str
    mandatory: bool = False
    # "text", "number", "date", "single_select" or "multi_select".
    input_type: str = "text"
    values: tuple[AttributeValue, ...] = ()
    # A value outside `values` is accepted (Shopee combo boxes, TikTok Shop customizable attributes).
    custom_allowed: bool = True


class RemoteBrand(_Frozen):
    brand_id: str
    name: str


class LogisticsChannel(_Frozen):
    """A Shopee shop's logistics channel (get_channel_list); a listing needs at least one enabled."""

    channel_id: str
    name: str
    enabled: bool = True


# --- orders and events ----------------------------------------------------------------------


class OrderStatus(enum.StrEnum):
    """Order states as SyncStore's stock ledger needs them."""

    PENDING = "pending"  # placed, not yet paid: stock is reserved
    PAID = "paid"  # to ship: still reserved
    SHIPPED = "shipped"  # left the warehouse: reserved stock is consumed
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # reserved stock is released
    OTHER = "other"


class OrderLine(_Frozen):
    """One line of an order. `quantity` is what the buyer bought; `cancelled_quantity` of those units
    were cancelled while the order goes on (Shopee `cancelled_qty`, a cancelled TikTok line item)."""

    line_id: str
    item_id: str
    sku_id: str
    seller_sku: str | None = None
    quantity: int = Field(gt=0)
    cancelled_quantity: int = Field(default=0, ge=0)


class RemoteOrder(_Frozen):
    platform: Platform
    shop_id: str
    order_id: str
    status: OrderStatus
    raw_status: str = ""
    lines: tuple[OrderLine, ...] = ()
    updated_at: datetime


class EventKind(enum.StrEnum):
    ORDER_STATUS = "order_status"
    PRODUCT_CHANGE = "product_change"
    # The platform finished auditing a listing (TikTok Shop type 5): ACTIVATE or FAILED.
    PRODUCT_AUDIT = "product_audit"
    STOCK_CHANGE = "stock_change"
    AUTHORIZATION = "authorization"
    UNKNOWN = "unknown"


class MarketplaceEvent(_Frozen):
    """A verified webhook (push) notification, normalized."""

    platform: Platform
    # TikTok's tts_notification_id; Shopee's msg_id, else a hash of shop, code and data (never the
    # timestamp: a lost push's timestamp is the time it was lost, not the time it was sent).
    event_id: str
    kind: EventKind
    raw_type: str
    shop_id: str | None = None
    occurred_at: datetime | None = None
    order_id: str | None = None
    item_id: str | None = None
    data: Mapping[str, Any] = Field(default_factory=dict)


# --- authorization --------------------------------------------------------------------------


class TokenGrant(_Frozen):
    """Tokens from a code exchange or a refresh: BOTH must be stored (refresh tokens are single use)."""

    access_token: str = Field(repr=False)
    refresh_token: str = Field(repr=False)
    access_token_expires_at: datetime
    refresh_token_expires_at: datetime | None = None
    shop_id: str | None = None
    shop_name: str | None = None
    region: str | None = None


class ShopProfile(_Frozen):
    """What a platform says about a shop: its region decides price decimals and listing rules."""

    shop_id: str
    name: str = ""
    region: str = ""
    # Shopee CNSC/KRSC or a TikTok Shop cross-border seller.
    cross_border: bool = False


class ShopLocation(_Frozen):
    """A place a shop keeps stock: a Shopee location_id or a TikTok Shop sales warehouse."""

    location_id: str
    name: str = ""
    is_default: bool = False


class Subscription(_Frozen):
    """The outcome of subscribing one push code / webhook event type: one refusal never stops the others."""

    topic: str
    ok: bool
    message: str = ""


class ShopCredentials(_Frozen):
    """What a connector needs to act for one shop."""

    shop_id: str
    access_token: str = Field(repr=False)
    shop_cipher: str | None = None
    # The platform location / warehouse chosen to receive the shop's stock (None: the shop's default).
    stock_location_id: str | None = None


# --- errors ---------------------------------------------------------------------------------


class ConnectorError(Exception):
    """A marketplace call failed. `code` is the platform's own error code; nothing here holds a secret."""

    def __init__(self, message: str, *, platform: str, code: str | None = None, request_id: str | None = None) -> None:
        self.platform, self.code, self.request_id = platform, code, request_id
        detail = f" [{code}]" if code else ""
        super().__init__(f"{platform}{detail}: {message}")


class RateLimited(ConnectorError):
    """Throttled: wait `retry_after` seconds (when the platform said) before calling this shop again."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class QuotaExhausted(ConnectorError):
    """The daily quota is used up; no retry helps before it resets."""


class ItemRefused(ConnectorError):
    """The platform refused one item for a business reason (promotion lock, holiday mode, missing
    location, audit): that item fails with the platform's words; the shop goes on, no token is refreshed."""


class AuthExpired(ConnectorError):
    """The access token expired: refresh it and call again."""


class AuthRevoked(ConnectorError):
    """The seller revoked access (or the refresh token is dead): the shop must be connected again."""


class NotFound(ConnectorError):
    """The item, SKU or order does not exist in this shop."""


class InvalidRequest(ConnectorError):
    """The platform refused the request as invalid; `fields` says what is wrong where it can tell."""

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        self.fields = dict(fields or {})
        super().__init__(message, **kwargs)


class Transient(ConnectorError):
    """A server error, timeout or network failure: the same call may succeed later."""


# --- the protocol ---------------------------------------------------------------------------

# Called when a token expired; returns the new access token (after storing the new pair).
RefreshCallback = Callable[[], str]


class RequestGate(Protocol):
    """The per-shop rate limiter as a connector sees it (syncstore.ratelimit provides one).

    `acquire` blocks until this shop may make one more request (raising QuotaExhausted when the
    daily quota is gone); `throttled` tells every worker of this shop to wait, after the platform
    answered "too many requests".
    """

    def acquire(self) -> None: ...

    def throttled(self, retry_after: float | None) -> None: ...


@runtime_checkable
class Connector(Protocol):
    """One shop on one marketplace. Every operation is sized to the platform's batch limits."""

    platform: Platform

    def list_changed_items(self, since: datetime, until: datetime) -> Iterator[ItemChange]: ...

    def get_listings(self, item_ids: Sequence[str]) -> list[RemoteListing]: ...

    def get_orders(self, order_ids: Sequence[str]) -> list[RemoteOrder]:
        """The orders named; an id the platform does not know is left out (never an error)."""
        ...

    def list_changed_orders(self, since: datetime, until: datetime) -> Iterator[RemoteOrder]:
        """Every order updated in [since, until], with its lines: the polling backstop for lost webhooks."""
        ...

    def get_shop_profile(self) -> ShopProfile: ...

    def list_locations(self) -> list[ShopLocation]:
        """Where the shop keeps stock ([] for a shop with one implicit location)."""
        ...

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult: ...

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult: ...

    def update_fields(self, item_id: str, fields: ListingFields) -> None: ...

    def create_listing(self, draft: ListingDraft) -> CreatedListing: ...

    def add_variants(self, item_id: str, skus: Sequence[SkuDraft], location_id: str | None = None) -> CreatedListing:
        """Add SKUs to a listed item (Shopee add_model, TikTok Shop partial edit); answers their ids."""
        ...

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        """Upload one image for this shop's listings (the platform's media upload call)."""
        ...

    def list_categories(self) -> list[RemoteCategory]:
        """The platform's category tree for this shop, flattened (parents before children)."""
        ...

    def get_category_attributes(self, category_id: str) -> list[RemoteAttribute]: ...

    def list_brands(self, category_id: str) -> list[RemoteBrand]: ...

    def list_logistics_channels(self) -> list[LogisticsChannel]:
        """The shop's logistics channels ([] where listings take none, as on TikTok Shop)."""
        ...

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]: ...

    def delete_listings(self, item_ids: Sequence[str]) -> list[SkuResult]: ...

    def register_webhook(self, url: str) -> list[Subscription]:
        """Subscribe each push code / event type on its own; one refusal is reported, not raised."""
        ...

    def fetch_missed_events(self) -> list[MarketplaceEvent]: ...


# --- what a marketplace is, as the core sees it ----------------------------------------------


class GrantedShop(_Frozen):
    """One shop an authorization covers (a Shopee code covers one shop, a TikTok Shop code a seller's shops)."""

    shop_id: str
    name: str = ""
    region: str = ""
    shop_cipher: str | None = None


class CallbackRefused(Exception):
    """The platform's OAuth callback cannot be completed as sent (e.g. a main account instead of a shop).

    `reason` is a short code a redirect may carry; the message never echoes the callback's input.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class PlatformApp(Protocol):
    """App-level (not per-shop) calls of a platform: the authorization link, code exchange, refresh."""

    def authorization_url(self, callback_url: str, state: str) -> str:
        """The platform's page where a seller approves the app; it sends the browser to `callback_url`
        with `state` and a code."""
        ...

    def exchange_code(self, code: str, params: Mapping[str, str]) -> tuple[TokenGrant, list[GrantedShop]]:
        """The token pair for `code` and the shops it covers (`params` is the callback's query);
        CallbackRefused when the callback cannot be completed."""
        ...

    def refresh(self, refresh_token: str, shop_id: str) -> TokenGrant:
        """A NEW access AND refresh token (refresh tokens are single use)."""
        ...

    def close(self) -> None: ...


class SimulatorRunner(Protocol):
    """Serves a platform's local simulator on 127.0.0.1:`port` until interrupted (`syncstore simulator run`)."""

    def __call__(
        self,
        port: int,
        state_file: Path | None,
        *,
        orders_every_s: float | None = None,
        redirect_url: str | None = None,
    ) -> None: ...


class ConnectorBuilder(Protocol):
    """Builds one shop's connector from the app's settings (a `syncstore.settings.Settings`, read by
    attribute: connectors never import syncstore) and the shop's credentials."""

    def __call__(
        self,
        settings: Any,
        credentials: ShopCredentials,
        *,
        gate: RequestGate | None = None,
        refresh: RefreshCallback | None = None,
        client: httpx.Client | None = None,
        policy: RetryPolicy | None = None,
        region: str = "",
    ) -> Connector: ...


# The rules of a spec that gives none: generous limits, two price decimals everywhere.
_LENIENT_RULES: PlatformRules = PlatformRules(
    platform="",
    title_max=255,
    description_max=10_000,
    images_min=1,
    images_max=9,
    stock_max=999_999,
    skus_per_listing=100,
    sku_batch=100,
    status_batch=50,
    list_page=100,
    detail_batch=50,
    numeric_category=False,
)


@dataclass(frozen=True)
class PlatformSpec:
    """Everything the core, the receiver and the app need of one marketplace, without importing it.

    Each platform package exports one (`connectors.shopee.SPEC`, ...); `connectors.registry`
    lists them. `settings` arguments are a `syncstore.settings.Settings` read by attribute.
    """

    name: str  # the platform key stored in the database and used in URLs ("shopee")
    label: str  # what people read ("Shopee")
    # SYNCSTORE_* settings that must be set before the platform can be used (named when they are not).
    required_settings: tuple[str, ...]
    is_configured: Callable[[Any], bool]
    connector: ConnectorBuilder
    # App-level calls; only called once `is_configured(settings)`.
    app: Callable[[Any, httpx.Client | None], PlatformApp]
    # The platform issues ONE token pair per seller, stored on every shop of that seller (refresh per seller).
    token_per_seller: bool
    # Why a cross-border shop cannot be connected, or None when it can.
    cross_border_refusal: str | None
    # Webhooks: the key names verification needs (held by the receiver's keys), the settings that hold
    # them (for "not configured" messages), the signature check over the RAW body, and the parser.
    webhook_key_names: tuple[str, ...]
    webhook_settings: str
    verify_webhook: Callable[[Mapping[str, str], bytes, str | None], bool]
    parse_webhook: Callable[[str], MarketplaceEvent]
    # Authorization events (MarketplaceEvent.raw_type): the seller withdrew access / access expires soon.
    revoked_event_types: frozenset[str]
    expiring_event_types: frozenset[str]
    # The webhook keys (by `webhook_key_names`) from the settings, given the URL the platform posts to;
    # a key that is not set is None.
    webhook_keys: Callable[[Any, str], Mapping[str, str | None]] = lambda settings, callback_url: {}
    # Listing rules, region rules and batch sizes the core checks a change against (see connectors.rules);
    # a spec that gives none gets lenient defaults under its own name.
    rules: PlatformRules = _LENIENT_RULES
    # Requests per shop per minute and per day, from the settings.
    rate_limits: Callable[[Any], tuple[int, int]] = lambda settings: (60, 10_000)
    # Where the platform's daily quota resets, as an offset from UTC.
    day_start_utc_offset: timedelta = timedelta(0)
    # The request header that carries a webhook's signature (lower case, as ASGI hands it over).
    webhook_signature_header: str = "authorization"
    # The platform's local simulator, when it has one (started by `syncstore simulator run` and the demo).
    run_simulator: SimulatorRunner | None = None
    # The order's page in the platform's seller centre, from the shop's region and the order id (None: no link).
    seller_order_url: Callable[[str, str], str] | None = None

    def __post_init__(self) -> None:
        # The rules name their platform (messages say it): the lenient defaults take the spec's name.
        rules = self.rules if self.rules.platform else replace(self.rules, platform=self.name)
        object.__setattr__(self, "rules", rules if rules.label else replace(rules, label=self.label))
