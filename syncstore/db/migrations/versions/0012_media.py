# Migration 0012: media, images stored once by content hash and the ids each shop's platform gave them.
"""Media: media_files, media_sources, media_variants, media_uploads

- `media_files`: an image's bytes and what they are (type, size in pixels and bytes, where they were
  fetched from), keyed by the SHA-256 of the bytes.
- `media_sources`: each URL already fetched and the image it gave (a URL is fetched once).
- `media_variants`: the resized copy of an image that fits a platform's upload limits.
- `media_uploads`: the platform image id (and URL) per (shop, image hash), reused by every listing.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_files",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.String(length=1000), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_media_files")),
    )
    op.create_table(
        "media_sources",
        sa.Column("source_url", sa.String(length=1000), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_hash"],
            ["media_files.content_hash"],
            name=op.f("fk_media_sources_content_hash_media_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_url", name=op.f("pk_media_sources")),
    )
    op.create_table(
        "media_variants",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("limits_key", sa.String(length=100), nullable=False),
        sa.Column("variant_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_hash"],
            ["media_files.content_hash"],
            name=op.f("fk_media_variants_content_hash_media_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_hash"],
            ["media_files.content_hash"],
            name=op.f("fk_media_variants_variant_hash_media_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("content_hash", "limits_key", name=op.f("pk_media_variants")),
    )
    op.create_table(
        "media_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("remote_image_id", sa.String(length=500), nullable=False),
        sa.Column("remote_url", sa.String(length=1000), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_media_uploads_connection_id_platform_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_uploads")),
        sa.UniqueConstraint("connection_id", "content_hash", name=op.f("uq_media_uploads_connection_id_content_hash")),
    )


def downgrade() -> None:
    op.drop_table("media_uploads")
    op.drop_table("media_variants")
    op.drop_table("media_sources")
    op.drop_table("media_files")
