# Column types shared by the models: UTC timestamps, money, JSON and big integer ids on both databases.
"""Portable column types.

SQLite stores no time zone, so `UTCDateTime` refuses naive datetimes on the way in and
attaches UTC on the way out: every time a caller sees is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on PostgreSQL and SQLite alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; SyncStore stores timezone-aware UTC times only")
        value = value.astimezone(UTC)
        # SQLite keeps the text as given; dropping the offset keeps values sortable as strings.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


# Money: two decimals, read back as Decimal (SQLite has no decimal type; scale 2 round-trips exactly).
Money = sa.Numeric(12, 2, asdecimal=True)
# Weights and dimensions.
Measure = sa.Numeric(10, 3, asdecimal=True)
# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType: sa.types.TypeEngine[Any] = sa.JSON().with_variant(JSONB(), "postgresql")
# 64-bit ids for high-volume tables; SQLite needs plain INTEGER for an autoincrementing rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
