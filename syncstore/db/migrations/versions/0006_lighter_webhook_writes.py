"""Lighter webhook writes: platform_events no longer has a foreign key to webhook_logs, and webhook_logs
loses its (status, received_at) index

Both are paid on the receiver's hot path for every event, and neither protects anything the code does
not already guarantee (measured with `python -m bench.webhooks`: PostgreSQL CPU per event 39 -> 30 us):
- the foreign key's check runs a query per inserted event and locks the webhook_logs row it points to
  (a second write to that row, and its WAL). The two rows are written by ONE statement (or one
  transaction on SQLite), so the reference cannot dangle when it is created; the only code that
  deletes webhook_logs rows (`syncstore.events.platform_events.prune`) deletes their platform_events rows first, in
  the same transaction. The unique index on platform_events.webhook_log_id stays (joins use it).
- the status index served only the Webhooks page's status filter and counts, which the received_at
  index serves as well (they are always bounded by time or paged by it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_platform_events_webhook_log_id_webhook_logs"
STATUS_INDEX = "ix_webhook_logs_status_received_at"


def upgrade() -> None:
    with op.batch_alter_table("platform_events", schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.drop_index(STATUS_INDEX)


def downgrade() -> None:
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.create_index(STATUS_INDEX, ["status", "received_at"], unique=False)
    with op.batch_alter_table("platform_events", schema=None) as batch_op:
        batch_op.create_foreign_key(FOREIGN_KEY, "webhook_logs", ["webhook_log_id"], ["id"], ondelete="CASCADE")
