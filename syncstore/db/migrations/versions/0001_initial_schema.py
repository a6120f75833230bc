"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 10:38:57.512082
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("master_category", sa.String(length=200), nullable=False),
        sa.Column("remote_category_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_mappings")),
        sa.UniqueConstraint("platform", "master_category", name=op.f("uq_category_mappings_platform_master_category")),
    )
    op.create_table(
        "master_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("base_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("weight_kg", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("length_cm", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("width_cm", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("height_cm", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column(
            "images",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'inactive', 'deleted')", name=op.f("ck_master_products_status")),
        sa.CheckConstraint("base_price > 0", name=op.f("ck_master_products_base_price_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_products")),
        sa.UniqueConstraint("handle", name=op.f("uq_master_products_handle")),
    )
    with op.batch_alter_table("master_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_master_products_status_base_price"), ["status", "base_price"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_master_products_status_category"), ["status", "category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_master_products_status_updated_at"), ["status", "updated_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_master_products_title"), ["title"], unique=False)

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("aggregate_type", sa.String(length=50), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name=op.f("ck_outbox_events_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_events_aggregate_type_aggregate_id"),
            ["aggregate_type", "aggregate_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_events_status_next_attempt_at"), ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "platform_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("shop_name", sa.String(length=255), nullable=False),
        sa.Column("region", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("access_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shop_cipher", sa.String(length=255), nullable=True),
        sa.Column("api_quota_used", sa.Integer(), nullable=False),
        sa.Column("api_quota_limit", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot_cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("platform IN ('shopee', 'tiktokshop')", name=op.f("ck_platform_connections_platform")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_connections")),
        sa.UniqueConstraint("platform", "shop_id", name=op.f("uq_platform_connections_platform_shop_id")),
    )
    with op.batch_alter_table("platform_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_connections_status_access_token_expires_at"),
            ["status", "access_token_expires_at"],
            unique=False,
        )

    op.create_table(
        "sync_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=True),
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "actions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_rules")),
    )
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_rules_is_active_priority"), ["is_active", "priority"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'editor', 'viewer')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "webhook_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("raw_body", sa.Text(), nullable=False),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("signature", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_logs")),
        sa.UniqueConstraint("platform", "event_id", name=op.f("uq_webhook_logs_platform_event_id")),
    )
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_logs_platform_event_type_received_at"),
            ["platform", "event_type", "received_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_webhook_logs_status_received_at"), ["status", "received_at"], unique=False)

    op.create_table(
        "audit_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_logs_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_logs_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_logs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_logs_entity_type_entity_id"), ["entity_type", "entity_id"], unique=False
        )

    op.create_table(
        "platform_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("remote_item_id", sa.String(length=64), nullable=False),
        sa.Column("remote_status", sa.String(length=30), nullable=False),
        sa.Column("remote_category_id", sa.String(length=64), nullable=True),
        sa.Column("remote_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote_title", sa.String(length=500), nullable=True),
        sa.Column("base_title", sa.String(length=500), nullable=True),
        sa.Column("remote_description", sa.Text(), nullable=True),
        sa.Column("base_description", sa.Text(), nullable=True),
        sa.Column(
            "remote_images",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "base_images",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("remote_weight_kg", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("base_weight_kg", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column(
            "remote_dimensions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "base_dimensions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("sync_status", sa.String(length=20), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_platform_listings_connection_id_platform_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["master_products.id"],
            name=op.f("fk_platform_listings_product_id_master_products"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_listings")),
        sa.UniqueConstraint(
            "connection_id", "remote_item_id", name=op.f("uq_platform_listings_connection_id_remote_item_id")
        ),
    )
    with op.batch_alter_table("platform_listings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_listings_connection_id_sync_status"),
            ["connection_id", "sync_status"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_platform_listings_product_id"), ["product_id"], unique=False)

    op.create_table(
        "product_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("image_url", sa.String(length=1000), nullable=True),
        sa.Column("weight_kg", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price IS NULL OR price > 0", name=op.f("ck_product_variants_price_positive")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_product_variants_reserved_non_negative")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_product_variants_stock_non_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["master_products.id"],
            name=op.f("fk_product_variants_product_id_master_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("sku", name=op.f("uq_product_variants_sku")),
    )
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_variants_product_id"), ["product_id"], unique=False)

    op.create_table(
        "rate_limit_tracking",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=255), nullable=False),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quota_limit", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_rate_limit_tracking_connection_id_platform_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_tracking")),
        sa.UniqueConstraint(
            "platform",
            "shop_id",
            "endpoint",
            "window_start",
            name=op.f("uq_rate_limit_tracking_platform_shop_id_endpoint_window_start"),
        ),
    )
    op.create_table(
        "inventory_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=True),
        sa.Column("previous_quantity", sa.Integer(), nullable=False),
        sa.Column("new_quantity", sa.Integer(), nullable=False),
        sa.Column("previous_reserved", sa.Integer(), nullable=False),
        sa.Column("new_reserved", sa.Integer(), nullable=False),
        sa.Column("change_reason", sa.String(length=50), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("changed_by", sa.String(length=320), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_inventory_history_connection_id_platform_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["master_products.id"],
            name=op.f("fk_inventory_history_product_id_master_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_inventory_history_variant_id_product_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_history")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_inventory_history_idempotency_key")),
    )
    with op.batch_alter_table("inventory_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inventory_history_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inventory_history_variant_id_created_at"),
            ["variant_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "platform_listing_skus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("remote_sku_id", sa.String(length=64), nullable=False),
        sa.Column("seller_sku", sa.String(length=100), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("remote_price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("base_price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("remote_stock", sa.Integer(), nullable=True),
        sa.Column("base_stock", sa.Integer(), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_platform_listing_skus_connection_id_platform_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["platform_listings.id"],
            name=op.f("fk_platform_listing_skus_listing_id_platform_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_platform_listing_skus_variant_id_product_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_listing_skus")),
        sa.UniqueConstraint(
            "connection_id", "variant_id", name=op.f("uq_platform_listing_skus_connection_id_variant_id")
        ),
        sa.UniqueConstraint(
            "listing_id", "remote_sku_id", name=op.f("uq_platform_listing_skus_listing_id_remote_sku_id")
        ),
    )
    with op.batch_alter_table("platform_listing_skus", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_listing_skus_connection_id_seller_sku"),
            ["connection_id", "seller_sku"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_platform_listing_skus_variant_id"), ["variant_id"], unique=False)

    op.create_table(
        "platform_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["master_products.id"],
            name=op.f("fk_platform_overrides_product_id_master_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_platform_overrides_variant_id_product_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_overrides")),
        sa.UniqueConstraint(
            "product_id",
            "variant_id",
            "platform",
            "field",
            name=op.f("uq_platform_overrides_product_id_variant_id_platform_field"),
        ),
    )
    with op.batch_alter_table("platform_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_overrides_variant_id"), ["variant_id"], unique=False)

    op.create_table(
        "product_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conflict_key", sa.String(length=200), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column(
            "master_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "platform_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "base_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "resolution",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("resolved_by", sa.String(length=320), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_product_conflicts_connection_id_platform_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["platform_listings.id"],
            name=op.f("fk_product_conflicts_listing_id_platform_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["master_products.id"],
            name=op.f("fk_product_conflicts_product_id_master_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_product_conflicts_variant_id_product_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_conflicts")),
        sa.UniqueConstraint("conflict_key", name=op.f("uq_product_conflicts_conflict_key")),
    )
    with op.batch_alter_table("product_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_conflicts_connection_id_status"), ["connection_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_product_conflicts_product_id"), ["product_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_product_conflicts_status_detected_at"), ["status", "detected_at"], unique=False
        )

    op.create_table(
        "sync_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("operation", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("platform_product_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "request_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "response_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_sync_logs_connection_id_platform_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["master_products.id"],
            name=op.f("fk_sync_logs_product_id_master_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_sync_logs_variant_id_product_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_logs")),
    )
    with op.batch_alter_table("sync_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_logs_connection_id_created_at"), ["connection_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_logs_idempotency_key"), ["idempotency_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_logs_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_logs_status_created_at"), ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_logs_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_sync_logs_product_id"))
        batch_op.drop_index(batch_op.f("ix_sync_logs_idempotency_key"))
        batch_op.drop_index(batch_op.f("ix_sync_logs_connection_id_created_at"))

    op.drop_table("sync_logs")
    with op.batch_alter_table("product_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_conflicts_status_detected_at"))
        batch_op.drop_index(batch_op.f("ix_product_conflicts_product_id"))
        batch_op.drop_index(batch_op.f("ix_product_conflicts_connection_id_status"))

    op.drop_table("product_conflicts")
    with op.batch_alter_table("platform_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_overrides_variant_id"))

    op.drop_table("platform_overrides")
    with op.batch_alter_table("platform_listing_skus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_listing_skus_variant_id"))
        batch_op.drop_index(batch_op.f("ix_platform_listing_skus_connection_id_seller_sku"))

    op.drop_table("platform_listing_skus")
    with op.batch_alter_table("inventory_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_history_variant_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_inventory_history_created_at"))

    op.drop_table("inventory_history")
    op.drop_table("rate_limit_tracking")
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_variants_product_id"))

    op.drop_table("product_variants")
    with op.batch_alter_table("platform_listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_listings_product_id"))
        batch_op.drop_index(batch_op.f("ix_platform_listings_connection_id_sync_status"))

    op.drop_table("platform_listings")
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_logs_entity_type_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_logs_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_logs_actor_id"))

    op.drop_table("audit_logs")
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_logs_status_received_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_logs_platform_event_type_received_at"))

    op.drop_table("webhook_logs")
    op.drop_table("users")
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_rules_is_active_priority"))

    op.drop_table("sync_rules")
    with op.batch_alter_table("platform_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_connections_status_access_token_expires_at"))

    op.drop_table("platform_connections")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_status_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_events_aggregate_type_aggregate_id"))

    op.drop_table("outbox_events")
    with op.batch_alter_table("master_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_master_products_title"))
        batch_op.drop_index(batch_op.f("ix_master_products_status_updated_at"))
        batch_op.drop_index(batch_op.f("ix_master_products_status_category"))
        batch_op.drop_index(batch_op.f("ix_master_products_status_base_price"))

    op.drop_table("master_products")
    op.drop_table("category_mappings")
