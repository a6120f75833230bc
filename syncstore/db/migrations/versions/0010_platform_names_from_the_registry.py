# Migration 0010: the database no longer lists the platforms; the registry checks a name where it comes in.
"""Platform names from the registry: drop platform_connections' CHECK (platform IN (...))

A marketplace is added by registering its spec (`connectors.registry`), with no schema change:
the platform a connection names is checked at the boundary (OAuth, the app's inputs) against the
registry instead of by a constraint that lists two platforms.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The platforms the dropped constraint listed (a downgrade restores it as it was).
_PLATFORMS_BEFORE = ("shopee", "tiktokshop")


def upgrade() -> None:
    with op.batch_alter_table("platform_connections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_platform_connections_platform"), type_="check")


def downgrade() -> None:
    listed = ", ".join(f"'{name}'" for name in _PLATFORMS_BEFORE)
    with op.batch_alter_table("platform_connections", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f("ck_platform_connections_platform"), f"platform IN ({listed})")
