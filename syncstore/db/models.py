# SQLAlchemy 2.0 typed models: every table SyncStore keeps. Schema changes go through Alembic migrations.
"""The SyncStore schema.

Catalog: master_products -> product_variants, platform_overrides, category_mappings.
Shops: platform_connections -> platform_listings (a remote item bound to a master product)
-> platform_listing_skus (a remote SKU/model bound to a master variant). Each listing row keeps
the remote value and the last-synced baseline per field, which is what the three-way diff reads.
Work: outbox_events, sync_plans, sync_logs, sync_jobs, product_conflicts, webhook_logs -> platform_events,
inventory_history, rate_limit_tracking, sync_rules. Orders: orders -> order_lines.
People: users, user_sessions, audit_logs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from syncstore.db.types import BigId, JSONType, Measure, Money, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, nullable=False)


def _updated() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


# --- people ---------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    # NULL for users who sign in through OIDC only.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by an Admin's password reset: the app lets the user do nothing before choosing a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The app's language ("en", "ms") and IANA time zone; NULL follows the browser.
    language: Mapped[str | None] = mapped_column(sa.String(10))
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'editor', 'viewer')", name="role"),)


class SignInThrottle(Base):
    """Failed sign-ins counted per account (the e-mail typed, known or not) and per source (the IP)."""

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(10))
    key: Mapped[str] = mapped_column(sa.String(320))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # No attempt is even checked before this time (a growing delay, or the lockout).
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        sa.UniqueConstraint("scope", "key"),
        sa.CheckConstraint("scope IN ('account', 'source')", name="scope"),
    )


class UserSession(Base):
    """A browser's sign-in to the app: only SHA-256 digests of its cookie value and hand-over ticket are kept.

    The ticket (a minute, once) is what the signed-in page hands to the app's session route, which
    answers with the HttpOnly cookie; the cookie's digest is `token_hash`. Sign-out and deactivating
    the user set `revoked_at`: the cookie then signs no one in.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    ticket_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    ticket_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(sa.String(320), default="")

    __table_args__ = (sa.Index(None, "user_id"),)


class AuditLog(Base):
    __tablename__ = "audit_logs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # A snapshot of who acted, kept even if the user is later removed ("cli:root" for the CLI).
    actor_label: Mapped[str] = mapped_column(sa.String(320))
    action: Mapped[str] = mapped_column(sa.String(100))
    entity_type: Mapped[str] = mapped_column(sa.String(50))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[Any | None] = mapped_column(JSONType)
    after: Mapped[Any | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        sa.Index(None, "entity_type", "entity_id"),
        sa.Index(None, "created_at"),
        sa.Index(None, "actor_id"),
    )


# --- master catalog -------------------------------------------------------------------------


class MasterProduct(Base):
    __tablename__ = "master_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The merchant's stable key for a product (groups variant rows in CSV import and export).
    handle: Mapped[str] = mapped_column(sa.String(100), unique=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[str] = mapped_column(sa.String(200))
    brand: Mapped[str] = mapped_column(sa.String(100), default="")
    base_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    weight_kg: Mapped[Decimal | None] = mapped_column(Measure)
    length_cm: Mapped[Decimal | None] = mapped_column(Measure)
    width_cm: Mapped[Decimal | None] = mapped_column(Measure)
    height_cm: Mapped[Decimal | None] = mapped_column(Measure)
    images: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # active | inactive | deleted (deleted rows stay so listings can be taken down and history kept).
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    # Optimistic locking: every update names the version it read.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product", order_by="ProductVariant.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'inactive', 'deleted')", name="status"),
        sa.CheckConstraint("base_price > 0", name="base_price_positive"),
        sa.Index(None, "status", "category"),
        sa.Index(None, "status", "updated_at"),
        # The Products page's default order, whatever the statuses shown (migration 0021).
        sa.Index(None, "updated_at", "id"),
        sa.Index(None, "status", "base_price"),
        sa.Index(None, "title"),
    )


class ProductVariant(Base):
    __tablename__ = "product_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("master_products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    # NULL means the product's base price.
    price: Mapped[Decimal | None] = mapped_column(Money)
    # On hand; available = stock - reserved.
    stock: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    low_stock_threshold: Mapped[int | None] = mapped_column()
    attributes: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    barcode: Mapped[str | None] = mapped_column(sa.String(64))
    image_url: Mapped[str | None] = mapped_column(sa.String(1000))
    weight_kg: Mapped[Decimal | None] = mapped_column(Measure)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    product: Mapped[MasterProduct] = relationship(back_populates="variants")

    __table_args__ = (
        sa.CheckConstraint("stock >= 0", name="stock_non_negative"),
        sa.CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        sa.CheckConstraint("price IS NULL OR price > 0", name="price_positive"),
        sa.Index(None, "product_id"),
        # The low-stock count reads only the variants with a threshold (migration 0021).
        sa.Index(
            "ix_product_variants_low_stock",
            "low_stock_threshold",
            "is_active",
            "stock",
            "reserved",
            sqlite_where=sa.text("low_stock_threshold IS NOT NULL"),
            postgresql_where=sa.text("low_stock_threshold IS NOT NULL"),
        ),
        # SKUs are unique regardless of case ("abc" and "ABC" are one SKU to a merchant and a marketplace).
        sa.Index("uq_product_variants_sku_lower", sa.text("lower(sku)"), unique=True),
    )


class PlatformOverride(Base):
    """A per-platform value that replaces the master value of one field (product or variant level)."""

    __tablename__ = "platform_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("master_products.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_variants.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(sa.String(20))
    field: Mapped[str] = mapped_column(sa.String(50))
    value: Mapped[Any] = mapped_column(JSONType)
    # True when the value was taken from the marketplace (adopted by a rule, or "use platform" on a
    # conflict): it is final, so price rules do not mark it up again.
    from_platform: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_by: Mapped[str] = mapped_column(sa.String(320), default="")
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        sa.UniqueConstraint("product_id", "variant_id", "platform", "field"),
        sa.Index(None, "variant_id"),
    )


class CategoryMapping(Base):
    """Which platform category a master category is listed under (needed to create a listing)."""

    __tablename__ = "category_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    master_category: Mapped[str] = mapped_column(sa.String(200))
    remote_category_id: Mapped[str] = mapped_column(sa.String(64))
    # Default values of the platform category's attributes: attribute_id -> {"value_ids": [...], "text": ...}.
    default_attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    # The platform's brand id listings of this category are created with (None: "no brand").
    brand_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (sa.UniqueConstraint("platform", "master_category"),)


class SyncRule(Base):
    __tablename__ = "sync_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    platform: Mapped[str | None] = mapped_column(sa.String(20))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    priority: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (sa.Index(None, "is_active", "priority"),)


# --- shops and listings ---------------------------------------------------------------------


class PlatformConnection(Base):
    """A connected shop. Tokens are stored encrypted (syncstore.security.crypto), bound to this row and column."""

    __tablename__ = "platform_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    shop_id: Mapped[str] = mapped_column(sa.String(64))
    shop_name: Mapped[str] = mapped_column(sa.String(255), default="")
    region: Mapped[str] = mapped_column(sa.String(10), default="")
    # connected | disconnected | expired | error
    status: Mapped[str] = mapped_column(sa.String(20), default="connected")
    access_token: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token: Mapped[str | None] = mapped_column(sa.Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TikTok Shop's per-shop request parameter; not a secret.
    shop_cipher: Mapped[str | None] = mapped_column(sa.String(255))
    api_quota_used: Mapped[int] = mapped_column(default=0)
    api_quota_limit: Mapped[int] = mapped_column(default=10_000)
    # Set when the platform throttles us: every worker waits until then.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Upper bound of the last snapshot pull (remote update time), for incremental pulls.
    snapshot_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Upper bound (platform update time) of the last completed order poll (W9); kept while disconnected.
    order_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [{topic, ok, message}] per push code / webhook event type, from the last registration.
    webhook_subscriptions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    cross_border: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Stripped from the shop's seller SKUs before auto-binding matches them (syncstore.catalog.sku_keys).
    sku_prefix: Mapped[str] = mapped_column(sa.String(50), default="", server_default="")
    sku_suffix: Mapped[str] = mapped_column(sa.String(50), default="", server_default="")
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        # No CHECK on `platform`: the registry (connectors.registry) checks a name where it comes in.
        sa.UniqueConstraint("platform", "shop_id"),
        sa.Index(None, "status", "access_token_expires_at"),
    )


class PlatformListing(Base):
    """A remote item (Shopee item / TikTok product) and its binding to a master product."""

    __tablename__ = "platform_listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    # NULL while the remote item is an orphan (no master product bound).
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("master_products.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(sa.String(20))
    remote_item_id: Mapped[str] = mapped_column(sa.String(64))
    remote_status: Mapped[str] = mapped_column(sa.String(30), default="")
    remote_category_id: Mapped[str | None] = mapped_column(sa.String(64))
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Remote value (last snapshot) and baseline (value at last successful sync) per item field.
    remote_title: Mapped[str | None] = mapped_column(sa.String(500))
    base_title: Mapped[str | None] = mapped_column(sa.String(500))
    remote_description: Mapped[str | None] = mapped_column(sa.Text)
    base_description: Mapped[str | None] = mapped_column(sa.Text)
    remote_images: Mapped[list[str] | None] = mapped_column(JSONType)
    base_images: Mapped[list[str] | None] = mapped_column(JSONType)
    remote_weight_kg: Mapped[Decimal | None] = mapped_column(Measure)
    base_weight_kg: Mapped[Decimal | None] = mapped_column(Measure)
    remote_dimensions: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    base_dimensions: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    # synced | pending | failed | conflict
    sync_status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    skus: Mapped[list[PlatformListingSku]] = relationship(
        back_populates="listing", cascade="all, delete-orphan", order_by="PlatformListingSku.id"
    )

    __table_args__ = (
        sa.UniqueConstraint("connection_id", "remote_item_id"),
        sa.Index(None, "product_id"),
        sa.Index(None, "connection_id", "sync_status"),
        # The Listings page counts the SKUs of deleted listings (migration 0021).
        sa.Index(None, "remote_status"),
    )


class PlatformListingSku(Base):
    """A remote SKU (Shopee model / TikTok SKU) and its binding to a master variant."""

    __tablename__ = "platform_listing_skus"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_listings.id", ondelete="CASCADE"))
    # Repeated from the listing so one variant binds to at most one SKU per shop.
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_variants.id", ondelete="SET NULL"))
    # Shopee model_id (0 for an item without models) or TikTok SKU id.
    remote_sku_id: Mapped[str] = mapped_column(sa.String(64))
    seller_sku: Mapped[str | None] = mapped_column(sa.String(100))
    # The seller SKU as auto-binding matches it (syncstore.catalog.sku_keys.sku_key, shop prefix/suffix stripped).
    sku_key: Mapped[str | None] = mapped_column(sa.String(100))
    # A person excluded the SKU: the plan ignores it and never binds it.
    binding_excluded: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Bumped by every manual bind, unbind, exclude and include (optimistic locking).
    binding_version: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    remote_price: Mapped[Decimal | None] = mapped_column(Money)
    base_price: Mapped[Decimal | None] = mapped_column(Money)
    remote_stock: Mapped[int | None] = mapped_column()
    base_stock: Mapped[int | None] = mapped_column()
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    listing: Mapped[PlatformListing] = relationship(back_populates="skus")

    __table_args__ = (
        sa.UniqueConstraint("listing_id", "remote_sku_id"),
        sa.UniqueConstraint("connection_id", "variant_id"),
        sa.Index(None, "variant_id"),
        sa.Index(None, "connection_id", "seller_sku"),
        sa.Index(None, "connection_id", "sku_key"),
    )


# --- work queues and logs -------------------------------------------------------------------


class OutboxEvent(Base):
    """An event written in the same transaction as the change it announces (transactional outbox)."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    aggregate_type: Mapped[str] = mapped_column(sa.String(50))
    aggregate_id: Mapped[str] = mapped_column(sa.String(64))
    event_type: Mapped[str] = mapped_column(sa.String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # pending | done | failed
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The lease: while locked_until is in the future only locked_by may complete or fail the event.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(sa.String(64))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
        sa.Index(None, "status", "next_attempt_at"),
        sa.Index(None, "aggregate_type", "aggregate_id"),
    )


class SyncLog(Base):
    __tablename__ = "sync_logs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="SET NULL"))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("master_products.id", ondelete="SET NULL"))
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_variants.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(sa.String(20))
    # create | update_price | update_stock | update_fields | activate | deactivate | delete
    operation: Mapped[str] = mapped_column(sa.String(50))
    # pending | success | failed
    status: Mapped[str] = mapped_column(sa.String(20))
    platform_product_id: Mapped[str | None] = mapped_column(sa.String(64))
    # Derived from the change, so a re-run after a crash has one effect on the platform.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(128))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    request_data: Mapped[Any | None] = mapped_column(JSONType)
    response_data: Mapped[Any | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(default=1)
    duration_ms: Mapped[int | None] = mapped_column()
    run_id: Mapped[str | None] = mapped_column(sa.String(64))
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        sa.Index(None, "connection_id", "created_at"),
        sa.Index(None, "status", "created_at"),
        sa.Index(None, "product_id"),
        sa.Index(None, "idempotency_key"),
        sa.Index(None, "run_id"),
    )


class SyncJob(Base):
    """A bulk sync asked for in the app: which products to which shops, and how far it got."""

    __tablename__ = "sync_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # queued | running | done | failed
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    product_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    # NULL: every connected shop.
    connection_ids: Mapped[list[int] | None] = mapped_column(JSONType)
    # Units of work are (product, shop) pairs.
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    requested_by: Mapped[str] = mapped_column(sa.String(320), default="")
    run_id: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        sa.Index(None, "status", "created_at"),
    )


class SyncPlan(Base):
    """One shop's plan as `catalog_diff` computed it: its typed changes (stored JSON), conflicts and lagging
    baselines, keyed by the catalog and snapshot versions it was computed from; `listing_sync` applies it
    while it is current, the app's dry run shows it."""

    __tablename__ = "sync_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    # Digests of what the plan was computed from (syncstore.plan.store.PlanVersions).
    catalog_version: Mapped[str] = mapped_column(sa.String(64))
    snapshot_version: Mapped[str] = mapped_column(sa.String(64))
    # The newest catalog edit the plan saw: products edited after it are planned again.
    catalog_stamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rows and newest edit per input table, to tell "some products edited" from "anything else changed".
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # planned | applied | superseded
    status: Mapped[str] = mapped_column(sa.String(20), default="planned")
    changes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    conflicts: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    baselines: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    summary: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    api_calls: Mapped[int] = mapped_column(default=0)
    run_id: Mapped[str | None] = mapped_column(sa.String(64))
    applied_run_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = _created()
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("status IN ('planned', 'applied', 'superseded')", name="status"),
        sa.Index(None, "connection_id", "id"),
    )


class ProductConflict(Base):
    """A field changed on both sides since the last sync; one row per shop, listing, SKU and field."""

    __tablename__ = "product_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<listing_id>:<variant_id or ->:<field>": the row is reused when the same field conflicts again.
    conflict_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    listing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platform_listings.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("master_products.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_variants.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(sa.String(20))
    field: Mapped[str] = mapped_column(sa.String(50))
    master_value: Mapped[Any | None] = mapped_column(JSONType)
    platform_value: Mapped[Any | None] = mapped_column(JSONType)
    base_value: Mapped[Any | None] = mapped_column(JSONType)
    # pending | resolved
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    resolution: Mapped[Any | None] = mapped_column(JSONType)
    resolved_by: Mapped[str | None] = mapped_column(sa.String(320))
    detected_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index(None, "status", "detected_at"),
        sa.Index(None, "product_id"),
        sa.Index(None, "connection_id", "status"),
    )


class WebhookLog(Base):
    """A marketplace event as received: stored (and committed) before it is acknowledged."""

    __tablename__ = "webhook_logs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    # TikTok's tts_notification_id; for Shopee a stable hash of shop, code and raw body.
    event_id: Mapped[str] = mapped_column(sa.String(128))
    event_type: Mapped[str] = mapped_column(sa.String(100))
    shop_id: Mapped[str | None] = mapped_column(sa.String(64))
    payload: Mapped[Any | None] = mapped_column(JSONType)
    raw_body: Mapped[str] = mapped_column(sa.Text, default="")
    # Only the headers that matter; never secrets.
    headers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    signature: Mapped[str | None] = mapped_column(sa.String(255))
    # received | processed | ignored | failed
    status: Mapped[str] = mapped_column(sa.String(20), default="received")
    attempts: Mapped[int] = mapped_column(default=0)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = _created()
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("platform", "event_id"),
        # Every index is paid for on the receiver's hot path: no (status, ...) index (migration 0006).
        sa.Index(None, "platform", "event_type", "received_at"),
        # Retention (`syncstore.events.platform_events.prune`) deletes by age.
        sa.Index(None, "received_at"),
    )


class PlatformEvent(Base):
    """A received marketplace event, normalized: the work queue the events sensor and `apply_events` read.

    Written in the same transaction as its `webhook_logs` row (which keeps the raw body, headers and the
    dedup key); `syncstore.events.platform_events` reads and updates it and mirrors the outcome onto the log row.
    """

    __tablename__ = "platform_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The webhook_logs row of this event. No foreign key on purpose (migration 0006): both rows are
    # written by one statement, and `syncstore.events.platform_events.prune` deletes both, so the check would only
    # cost the receiver a query and a row lock per event.
    webhook_log_id: Mapped[int] = mapped_column(BigId, unique=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    # order_status | product_change | stock_change | authorization | unknown
    kind: Mapped[str] = mapped_column(sa.String(20))
    # The platform's own type: Shopee push code, TikTok Shop webhook type.
    event_type: Mapped[str] = mapped_column(sa.String(100))
    shop_id: Mapped[str | None] = mapped_column(sa.String(64))
    order_id: Mapped[str | None] = mapped_column(sa.String(64))
    item_id: Mapped[str | None] = mapped_column(sa.String(64))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # pending | processed | ignored | failed
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('order_status', 'product_change', 'product_audit', 'stock_change', 'authorization', 'unknown')",
            name="kind",
        ),
        sa.CheckConstraint("status IN ('pending', 'processed', 'ignored', 'failed')", name="status"),
        # The sensor's query: the oldest pending events first. (Nothing else is indexed: every index
        # is paid for on the receiver's hot path.)
        sa.Index(None, "status", "id"),
    )


class InventoryHistory(Base):
    """The stock ledger: one row per change of on-hand or reserved quantity."""

    __tablename__ = "inventory_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("master_products.id", ondelete="SET NULL"))
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_variants.id", ondelete="SET NULL"))
    connection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="SET NULL"))
    platform: Mapped[str | None] = mapped_column(sa.String(20))
    previous_quantity: Mapped[int] = mapped_column()
    new_quantity: Mapped[int] = mapped_column()
    previous_reserved: Mapped[int] = mapped_column(default=0)
    new_reserved: Mapped[int] = mapped_column(default=0)
    # order | cancellation | shipment | manual | import | reconcile
    change_reason: Mapped[str] = mapped_column(sa.String(50))
    # e.g. "shopee:<order>:<line>:reserve": a transition is applied once.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    changed_by: Mapped[str] = mapped_column(sa.String(320), default="")
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    # The location whose quantities changed (previous/new are that location's); NULL on old rows = default.
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_locations.id", ondelete="SET NULL"))

    __table_args__ = (sa.Index(None, "variant_id", "created_at"), sa.Index(None, "created_at"))


class RateLimitTracking(Base):
    """Requests made per shop, endpoint and window (the database limiter and the quota bars read this)."""

    __tablename__ = "rate_limit_tracking"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(sa.String(20))
    shop_id: Mapped[str] = mapped_column(sa.String(64))
    endpoint: Mapped[str] = mapped_column(sa.String(255))
    request_count: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    quota_limit: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = _created()

    __table_args__ = (sa.UniqueConstraint("platform", "shop_id", "endpoint", "window_start"),)


class Alert(Base):
    """Something an operator must look at (sync failure rate, webhook backlog, quota, failed runs...).

    One row per `alert_key` (kind and subject): an alert raised again while open is updated, and a
    resolved one reopens when the condition returns.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    # sync_failure_rate | webhook_backlog | quota | database_error | run_failed | low_stock
    kind: Mapped[str] = mapped_column(sa.String(50))
    subject: Mapped[str] = mapped_column(sa.String(100))
    # warning | critical
    severity: Mapped[str] = mapped_column(sa.String(20))
    message: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # open | resolved
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    occurrences: Mapped[int] = mapped_column(default=1)
    first_seen_at: Mapped[datetime] = _created()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index(None, "status", "last_seen_at"),)


class WorkerHeartbeat(Base):
    """A long-running worker saying it is alive: one row per worker process, `last_seen_at` refreshed every few seconds.

    Dagster's queue sensors read it: while an events worker's heartbeat is fresh they start no run
    (the worker is the one consumer of the queues); when none is, they are the fallback.
    """

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    # events (the only kind so far)
    kind: Mapped[str] = mapped_column(sa.String(30))
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = _created()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.Index(None, "kind", "last_seen_at"),)


# --- media (syncstore.media) ------------------------------------------------------------------


class MediaFile(Base):
    """One image's bytes, stored once by the SHA-256 of its content (an original or a resized variant).

    The bytes live in the database (`content`, deferred so listing rows never loads them): one source of
    truth that every process and host sees, written in the same transaction as its metadata.
    """

    __tablename__ = "media_files"

    content_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(sa.String(50))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    size_bytes: Mapped[int] = mapped_column("bytes")
    # The URL it was first fetched from (None for an uploaded file or a resized variant).
    source_url: Mapped[str | None] = mapped_column(sa.String(1000))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = _created()


class MediaSource(Base):
    """A URL already fetched and the image it gave: each URL is fetched once (many URLs may give one image)."""

    __tablename__ = "media_sources"

    source_url: Mapped[str] = mapped_column(sa.String(1000), primary_key=True)
    content_hash: Mapped[str] = mapped_column(sa.ForeignKey("media_files.content_hash", ondelete="CASCADE"))
    fetched_at: Mapped[datetime] = _created()


class MediaVariant(Base):
    """The resized copy of an image that fits one set of platform limits (`limits_key`)."""

    __tablename__ = "media_variants"

    content_hash: Mapped[str] = mapped_column(
        sa.ForeignKey("media_files.content_hash", ondelete="CASCADE"), primary_key=True
    )
    limits_key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    variant_hash: Mapped[str] = mapped_column(sa.ForeignKey("media_files.content_hash", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _created()


class MediaUpload(Base):
    """An image uploaded to one shop: the platform's id, reused for every listing of that shop."""

    __tablename__ = "media_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    # The original image's hash (what the master refers to), whatever variant was sent.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    remote_image_id: Mapped[str] = mapped_column(sa.String(500))
    remote_url: Mapped[str] = mapped_column(sa.String(1000), default="")
    uploaded_at: Mapped[datetime] = _created()

    __table_args__ = (sa.UniqueConstraint("connection_id", "content_hash"),)


# --- publishing: category cache, attribute values, per-shop logistics (migration 0013) ---------


class RemoteCategoryRow(Base):
    """One category of a shop's platform category tree, as last fetched (refreshed daily and on demand)."""

    __tablename__ = "remote_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    category_id: Mapped[str] = mapped_column(sa.String(64))
    parent_id: Mapped[str | None] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    is_leaf: Mapped[bool] = mapped_column(default=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When this category's attributes and brands were last fetched (fetched lazily, per category used).
    attributes_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("connection_id", "category_id"),)


class RemoteAttributeRow(Base):
    """One attribute of a platform category in a shop: mandatory flag, input type, allowed values."""

    __tablename__ = "remote_category_attributes"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    category_id: Mapped[str] = mapped_column(sa.String(64))
    attribute_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    mandatory: Mapped[bool] = mapped_column(default=False)
    input_type: Mapped[str] = mapped_column(sa.String(20), default="text")
    # [{"value_id": ..., "name": ...}]
    values: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    custom_allowed: Mapped[bool] = mapped_column(default=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("connection_id", "category_id", "attribute_id"),)


class RemoteBrandRow(Base):
    """A brand a shop may list a platform category under."""

    __tablename__ = "remote_brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    category_id: Mapped[str] = mapped_column(sa.String(64))
    brand_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("connection_id", "category_id", "brand_id"),)


class ProductAttributeValue(Base):
    """A product's own value for one platform attribute: wins over its category mapping's default."""

    __tablename__ = "product_attribute_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("master_products.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(sa.String(20))
    attribute_id: Mapped[str] = mapped_column(sa.String(64))
    value_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    text: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (sa.UniqueConstraint("product_id", "platform", "attribute_id"),)


class ShopPublishing(Base):
    """Per shop: the logistics channels and stock location the platform offers, and the Admin's choice."""

    __tablename__ = "shop_publishing"

    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("platform_connections.id", ondelete="CASCADE"), primary_key=True
    )
    # As fetched: [{"channel_id", "name", "enabled"}] and [{"location_id", "name", "is_default"}].
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    locations: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The Admin's choice: channels new listings are created with, and the location that receives stock.
    logistics_channel_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    location_id: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = _updated()


# --- locations and bundles (issue 17) -------------------------------------------------------


class StockLocation(Base):
    """A place stock is kept (a warehouse, a shop floor). Exactly one is the default."""

    __tablename__ = "stock_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        sa.Index(
            "uq_stock_locations_default", "is_default", unique=True,
            sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"),
        ),
    )  # fmt: skip


class LocationStock(Base):
    """On hand and reserved of a variant at a NON-default location (the default's = totals minus these)."""

    __tablename__ = "location_stock"

    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_locations.id", ondelete="CASCADE"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        sa.CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        sa.Index(None, "location_id"),
    )


class ShopStockSource(Base):
    """A location whose stock a shop sells; a shop with no rows sells every active location."""

    __tablename__ = "shop_stock_sources"

    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("platform_connections.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_locations.id", ondelete="CASCADE"), primary_key=True)


class BundleComponent(Base):
    """A bundle variant is made of `quantity` units of each component variant (no nesting)."""

    __tablename__ = "bundle_components"

    bundle_variant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True
    )
    component_variant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column()

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("bundle_variant_id <> component_variant_id", name="not_self"),
        sa.Index(None, "component_variant_id"),
    )


# --- the public HTTP API (issue 19) ---------------------------------------------------------


class ApiKey(Base):
    """An API key a user created: only its SHA-256 digest is kept (the key is shown once).

    `prefix` is the key's public id (`ssk_<prefix>_<secret>`), used to find the row; the digest of
    the whole key is then compared in constant time. A key acts with `role` (the creator's role
    or a lower one) on the creator's behalf.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(100))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(sa.String(320))

    __table_args__ = (
        sa.CheckConstraint("role IN ('admin', 'editor', 'viewer')", name="role"),
        sa.Index(None, "user_id"),
    )


class ApiIdempotency(Base):
    """The first answer to a write sent with an `Idempotency-Key`: a replay gets it back, with one effect."""

    __tablename__ = "api_idempotency"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Who sent it (API key id or user) and the key they chose: keys of different callers never meet.
    owner: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(200))
    # SHA-256 of method, path and body: the same key with another request is refused (422).
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column()
    body: Mapped[Any] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (sa.UniqueConstraint("owner", "key"), sa.Index(None, "created_at"))


# --- orders ---------------------------------------------------------------------------------


class Order(Base):
    """A marketplace order as last seen (webhook or poll): its normalized status and its lines.

    The ledger (`inventory_history`) holds what the order did to the stock, under keys starting with
    `order_ref` (`<platform>:<shop_id>:<order_id>:`).
    """

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_connections.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(sa.String(20))
    shop_id: Mapped[str] = mapped_column(sa.String(64))
    order_id: Mapped[str] = mapped_column(sa.String(64))
    # connectors.base.OrderStatus values: pending | paid | shipped | completed | cancelled | other
    status: Mapped[str] = mapped_column(sa.String(20))
    raw_status: Mapped[str] = mapped_column(sa.String(64), default="")
    # The platform's update time of the status held here: an older sighting never replaces it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = _created()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    line_count: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(default=0)

    lines: Mapped[list[OrderLineRow]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLineRow.id"
    )

    __table_args__ = (
        sa.UniqueConstraint("connection_id", "order_id"),
        sa.Index(None, "first_seen_at", "id"),
        sa.Index(None, "status", "first_seen_at"),
        sa.Index(None, "order_id"),
    )

    @property
    def order_ref(self) -> str:
        """The prefix of this order's ledger idempotency keys."""
        return f"{self.platform}:{self.shop_id}:{self.order_id}:"


class OrderLineRow(Base):
    """One line of an order and the master variant it bound to (None: bound to none when last seen)."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_row_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    line_id: Mapped[str] = mapped_column(sa.String(64))
    item_id: Mapped[str] = mapped_column(sa.String(64))
    sku_id: Mapped[str] = mapped_column(sa.String(64))
    seller_sku: Mapped[str | None] = mapped_column(sa.String(100))
    quantity: Mapped[int] = mapped_column()
    cancelled_quantity: Mapped[int] = mapped_column(default=0)
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_variants.id", ondelete="SET NULL"))

    order: Mapped[Order] = relationship(back_populates="lines")

    __table_args__ = (
        sa.UniqueConstraint("order_row_id", "line_id"),
        sa.Index(None, "variant_id"),
        sa.Index(None, "seller_sku"),
    )


# An order's ledger rows are found by their key prefix (`Order.order_ref`): on PostgreSQL a LIKE 'prefix%'
# uses a btree only with the pattern operator class (whatever the collation). SQLite reads the unique index by
# range instead, so there the index is partial and empty (WHERE 0): it costs a ledger write nothing.
LEDGER_KEY_PREFIX_INDEX = sa.Index(
    "ix_inventory_history_idempotency_key_prefix",
    InventoryHistory.idempotency_key,
    postgresql_ops={"idempotency_key": "varchar_pattern_ops"},
    sqlite_where=sa.text("0"),
)
