# The migrations build the whole schema on an empty database, and agree with the models.
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import Base, MasterProduct, ProductVariant


# SQLite cannot reflect expression indexes; the lower(sku) index is checked on its own below.
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning", "ignore:.*expression-based index")
def test_models_and_migrations_agree(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_model_table_exists(engine: sa.Engine) -> None:
    tables = set(sa.inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert migrate.current_revision(engine) is not None


def test_upgrade_on_an_empty_sqlite_file(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(engine)
    migrate.upgrade(engine)  # a second run is a no-op
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    assert {"master_products", "outbox_events", "webhook_logs"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_times_come_back_aware_utc_and_money_as_decimal(engine: sa.Engine) -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    with transaction(engine) as session:
        product = MasterProduct(
            handle="h-1",
            title="Linen shirt",
            category="Fashion",
            base_price=Decimal("19.90"),
            currency="MYR",
            created_at=created,
        )
        session.add(product)
    with transaction(engine) as session:
        loaded = session.get_one(MasterProduct, product.id)
        assert loaded.created_at == created
        assert loaded.created_at.tzinfo is UTC or loaded.created_at.utcoffset() == timedelta(0)
        assert loaded.base_price == Decimal("19.90")
        assert isinstance(loaded.base_price, Decimal)


def test_naive_datetimes_are_refused(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), transaction(engine) as session:
        session.add(
            MasterProduct(
                handle="h-2",
                title="x",
                category="c",
                base_price=Decimal("1.00"),
                currency="MYR",
                created_at=datetime(2026, 1, 1),
            )
        )


def test_skus_differing_only_by_case_are_refused_by_the_database(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        product = MasterProduct(
            handle="h-3", title="Cap", category="Fashion", base_price=Decimal("9.90"), currency="MYR"
        )
        session.add(product)
        session.flush()
        session.execute(
            sa.insert(ProductVariant), [{"product_id": product.id, "sku": "CAP-red", "name": "Red", "attributes": {}}]
        )
    with pytest.raises(sa.exc.IntegrityError), transaction(engine) as session:
        session.execute(
            sa.insert(ProductVariant), [{"product_id": product.id, "sku": "cap-RED", "name": "Red", "attributes": {}}]
        )
