# Bulk filler for the app benchmark: what the pages other than the catalog read (orders, logs, conflicts, stock...).
"""Activity filler for `bench.app`.

`fill(engine, shops)` adds, after a catalog filled by `bench.catalog_fill`, what a busy merchant's
database holds besides products, with SQLAlchemy Core bulk inserts:

- a low-stock threshold on every 50th variant (some of them at or under it);
- three more stock locations, each holding stock of a share of the variants, and every shop selling them;
- bundles: the first variant of every 500th product made of two other variants;
- orders with one to three lines each, over the last 30 days, on every shop;
- sync logs grouped in runs of 100 (some failed), over the last 14 days, and a few bulk sync jobs;
- pending and resolved conflicts, open and resolved alerts;
- webhook logs with their platform events, stock ledger rows, audit rows, users, category mappings and rules.

Ids are given explicitly (and PostgreSQL's sequences moved past them afterwards), so order lines can
point at their orders without reading anything back. On PostgreSQL the database is then vacuumed and
analyzed, as autovacuum does soon after a bulk load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bench.catalog_fill import CATEGORIES, CHUNK
from syncstore.db.models import (
    Alert,
    AuditLog,
    Base,
    BundleComponent,
    CategoryMapping,
    InventoryHistory,
    LocationStock,
    Order,
    OrderLineRow,
    PlatformEvent,
    PlatformListing,
    ProductConflict,
    ProductVariant,
    ShopStockSource,
    StockLocation,
    SyncJob,
    SyncLog,
    SyncRule,
    User,
    WebhookLog,
)
from syncstore.db.types import utcnow

ORDER_STATUSES = ("pending", "paid", "paid", "shipped", "completed", "completed", "completed", "cancelled")
OPERATIONS = ("update_stock", "update_stock", "update_price", "update_fields", "create")


@dataclass(frozen=True)
class Activity:
    orders: int
    order_lines: int
    sync_logs: int
    sync_runs: int
    pending_conflicts: int
    open_alerts: int
    locations: int
    location_stock: int
    bundles: int
    webhook_events: int
    ledger_rows: int


def _insert(conn: sa.Connection, model: type[Base], rows: Iterable[dict[str, Any]]) -> int:
    """Insert `rows` in chunks; how many."""
    count = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            conn.execute(sa.insert(model), batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(sa.insert(model), batch)
        count += len(batch)
    return count


def _next_id(conn: sa.Connection, model: Any) -> int:
    return int(conn.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0))) or 0) + 1


def _variant_range(conn: sa.Connection) -> tuple[int, int]:
    low, high = conn.execute(sa.select(sa.func.min(ProductVariant.id), sa.func.max(ProductVariant.id))).one()
    return int(low), int(high)


def fill(
    engine: sa.Engine,
    shops: Sequence[tuple[int, str, str]],
    *,
    orders: int = 3_000,
    sync_logs: int = 30_000,
    pending_conflicts: int = 60,
    webhook_events: int = 10_000,
    ledger_rows: int = 20_000,
    audit_rows: int = 20_000,
) -> Activity:
    """Add the activity (see the module docstring) for `shops` given as (connection_id, platform, shop_id)."""
    now = utcnow()
    with engine.begin() as conn:
        first_variant, last_variant = _variant_range(conn)
        variants = last_variant - first_variant + 1

        def variant(n: int) -> int:
            return first_variant + n % variants

        def product_of(variant_id: int) -> int:
            # catalog_fill gives each product two consecutive variant ids.
            return int((variant_id - first_variant) // 2) + 1

        # Low-stock thresholds: every 50th variant has one, every 100th is at or under it.
        conn.execute(
            sa.update(ProductVariant)
            .where((ProductVariant.id - first_variant) % 50 == 0)
            .values(low_stock_threshold=sa.case(((ProductVariant.id - first_variant) % 100 == 0, 60), else_=3))
        )

        # Locations: three besides the default (which the migrations made), each holding a share of the variants.
        location_ids = []
        for name in ("Kuala Lumpur store", "Penang store", "Johor depot"):
            location_ids.append(
                conn.execute(
                    sa.insert(StockLocation).returning(StockLocation.id),
                    {"name": name, "is_default": False, "created_at": now},
                ).scalar_one()
            )
        location_stock = _insert(
            conn,
            LocationStock,
            (
                {"variant_id": variant_id, "location_id": location_id, "on_hand": 1 + variant_id % 3, "reserved": 0}
                for n, location_id in enumerate(location_ids)
                for variant_id in range(first_variant + n, last_variant + 1, 4)
            ),
        )
        _insert(
            conn,
            ShopStockSource,
            ({"connection_id": shop, "location_id": location} for shop, _, _ in shops for location in location_ids),
        )

        # Bundles: the first variant of every 500th product is made of the two variants of the next product.
        bundles = _insert(
            conn,
            BundleComponent,
            (
                {"bundle_variant_id": bundle, "component_variant_id": bundle + offset, "quantity": offset}
                for bundle in range(first_variant, last_variant - 3, 1000)
                for offset in (2, 3)
            ),
        )
        bundles //= 2

        # Orders and their lines.
        order_id, line_id = _next_id(conn, Order), _next_id(conn, OrderLineRow)
        order_rows, line_rows = [], []
        for n in range(orders):
            shop, platform, shop_id = shops[n % len(shops)]
            seen = now - timedelta(minutes=n * 30 * 24 * 60 // max(orders, 1))
            count = 1 + n % 3
            for k in range(count):
                variant_id = variant(n * 37 + k * 11)
                line_rows.append({
                    "id": line_id, "order_row_id": order_id, "line_id": f"{n}-{k}",
                    "item_id": f"bench-{product_of(variant_id)}",
                    "sku_id": f"{product_of(variant_id)}-{k % 2}", "seller_sku": f"BENCH-{product_of(variant_id):07d}",
                    "quantity": 1 + k, "cancelled_quantity": 0, "variant_id": variant_id,
                })  # fmt: skip
                line_id += 1
            order_rows.append({
                "id": order_id, "connection_id": shop, "platform": platform, "shop_id": shop_id,
                "order_id": f"B{n:08d}", "status": ORDER_STATUSES[n % len(ORDER_STATUSES)], "raw_status": "",
                "updated_at": seen, "first_seen_at": seen, "last_seen_at": seen, "line_count": count,
                "units": sum(1 + k for k in range(count)),
            })  # fmt: skip
            order_id += 1
        _insert(conn, Order, order_rows)
        _insert(conn, OrderLineRow, line_rows)

        # Sync logs in runs of 100 over the last 14 days (one run in 20 with failures), and some bulk jobs.
        runs = max(sync_logs // 100, 1)
        _insert(
            conn,
            SyncLog,
            (
                {
                    "connection_id": shops[n % len(shops)][0], "product_id": product_of(variant(n * 7)),
                    "variant_id": variant(n * 7), "platform": shops[n % len(shops)][1],
                    "operation": OPERATIONS[n % len(OPERATIONS)],
                    "status": "failed" if (n // 100) % 20 == 0 and n % 5 == 0 else "success",
                    "platform_product_id": f"bench-{product_of(variant(n * 7))}", "idempotency_key": f"bench-{n}",
                    "error_message": "rate limited" if (n // 100) % 20 == 0 and n % 5 == 0 else None,
                    "request_data": {"stock": n % 40}, "response_data": {"ok": True}, "attempts": 1,
                    "duration_ms": 50 + n % 200, "run_id": f"bench-run-{n // 100:05d}",
                    "synced_at": now - timedelta(seconds=(sync_logs - n) * 14 * 86400 // sync_logs),
                    "created_at": now - timedelta(seconds=(sync_logs - n) * 14 * 86400 // sync_logs),
                }
                for n in range(sync_logs)
            ),
        )  # fmt: skip
        _insert(
            conn,
            SyncJob,
            (
                {"status": "done", "product_ids": list(range(1 + n * 50, 51 + n * 50)), "connection_ids": None,
                 "total": 50 * len(shops), "done": 50 * len(shops), "failed": 0, "requested_by": "bench@example.com",
                 "run_id": f"bench-job-{n}", "created_at": now - timedelta(hours=n),
                 "started_at": now - timedelta(hours=n), "finished_at": now - timedelta(hours=n)}
                for n in range(20)
            ),
        )  # fmt: skip

        # Conflicts: pending ones on price, resolved ones before them (listing ids from the first shop's listings).
        listings = conn.execute(
            sa.select(
                PlatformListing.id, PlatformListing.connection_id, PlatformListing.product_id, PlatformListing.platform
            )
            .order_by(PlatformListing.id)
            .limit(pending_conflicts * 5)
        ).all()  # fmt: skip
        _insert(
            conn,
            ProductConflict,
            (
                {
                    "conflict_key": f"{listing.id}:-:title", "connection_id": listing.connection_id,
                    "listing_id": listing.id, "product_id": listing.product_id, "platform": listing.platform,
                    "field": "title", "master_value": f"Bench product {listing.product_id:07d}",
                    "platform_value": f"Bench product {listing.product_id:07d} (edited in the shop)",
                    "base_value": f"Bench product {listing.product_id:07d}",
                    "status": "pending" if n < pending_conflicts else "resolved",
                    "resolution": None if n < pending_conflicts else {"choice": "master"},
                    "resolved_by": None if n < pending_conflicts else "bench@example.com",
                    "detected_at": now - timedelta(hours=n), "updated_at": now - timedelta(hours=n),
                    "resolved_at": None if n < pending_conflicts else now - timedelta(hours=n) + timedelta(minutes=5),
                }
                for n, listing in enumerate(listings)
            ),
        )  # fmt: skip

        # Alerts: a few open, more resolved.
        kinds = ("sync_failure_rate", "webhook_backlog", "quota", "run_failed", "low_stock")
        open_alerts = 8
        _insert(
            conn,
            Alert,
            (
                {
                    "alert_key": f"{kinds[n % len(kinds)]}:bench-{n}", "kind": kinds[n % len(kinds)],
                    "subject": f"bench-{n}", "severity": "critical" if n % 4 == 0 else "warning",
                    "message": f"Bench alert {n}", "details": {}, "status": "open" if n < open_alerts else "resolved",
                    "occurrences": 1 + n % 3, "first_seen_at": now - timedelta(hours=n),
                    "last_seen_at": now - timedelta(minutes=n), "resolved_at": None if n < open_alerts else now,
                }
                for n in range(200)
            ),
        )  # fmt: skip

        # Webhook logs and their events (processed), and the stock ledger.
        log_id = _next_id(conn, WebhookLog)
        _insert(
            conn,
            WebhookLog,
            (
                {
                    "id": log_id + n, "platform": shops[n % len(shops)][1], "event_id": f"bench-event-{n}",
                    "event_type": "order_status", "shop_id": shops[n % len(shops)][2],
                    "payload": {"order": f"B{n:08d}"},
                    "raw_body": "{}", "headers": {}, "signature": None, "status": "processed", "attempts": 1,
                    "received_at": now - timedelta(seconds=(webhook_events - n) * 7 * 86400 // webhook_events),
                    "processed_at": now - timedelta(seconds=(webhook_events - n) * 7 * 86400 // webhook_events),
                }
                for n in range(webhook_events)
            ),
        )  # fmt: skip
        _insert(
            conn,
            PlatformEvent,
            (
                {
                    "webhook_log_id": log_id + n, "platform": shops[n % len(shops)][1], "kind": "order_status",
                    "event_type": "order_status", "shop_id": shops[n % len(shops)][2], "order_id": f"B{n:08d}",
                    "status": "processed", "attempts": 1,
                    "created_at": now - timedelta(seconds=(webhook_events - n) * 7 * 86400 // webhook_events),
                    "processed_at": now - timedelta(seconds=(webhook_events - n) * 7 * 86400 // webhook_events),
                }
                for n in range(webhook_events)
            ),
        )  # fmt: skip
        _insert(
            conn,
            InventoryHistory,
            (
                {
                    "product_id": product_of(variant(n * 13)), "variant_id": variant(n * 13), "platform": None,
                    "previous_quantity": 20 + n % 10, "new_quantity": 19 + n % 10, "previous_reserved": 0,
                    "new_reserved": 0, "change_reason": "order" if n % 3 else "manual", "idempotency_key": f"bench:{n}",
                    "changed_by": "bench",
                    "created_at": now - timedelta(seconds=(ledger_rows - n) * 30 * 86400 // ledger_rows),
                }
                for n in range(ledger_rows)
            ),
        )  # fmt: skip

        # People, their audit trail, category mappings and rules.
        _insert(
            conn,
            User,
            (
                {"email": f"user{n}@example.com", "name": f"User {n}", "role": ("editor", "viewer")[n % 2],
                 "password_hash": None, "is_active": True, "created_at": now, "updated_at": now}
                for n in range(30)
            ),
        )  # fmt: skip
        _insert(
            conn,
            AuditLog,
            (
                {"actor_label": f"user{n % 30}@example.com", "action": "product.update", "entity_type": "product",
                 "entity_id": str(1 + n), "before": {"title": "old"}, "after": {"title": "new"},
                 "created_at": now - timedelta(minutes=n)}
                for n in range(audit_rows)
            ),
        )  # fmt: skip
        _insert(
            conn,
            CategoryMapping,
            (
                {"platform": platform, "master_category": category, "remote_category_id": str(100 + n),
                 "default_attributes": {}, "created_at": now, "updated_at": now}
                for platform in sorted({platform for _, platform, _ in shops})
                for n, category in enumerate(CATEGORIES)
            ),
        )  # fmt: skip
        _insert(
            conn,
            SyncRule,
            (
                {"name": f"Bench rule {n}", "description": "", "platform": None,
                 "conditions": {"categories": [CATEGORIES[n % len(CATEGORIES)]]},
                 "actions": {"buffer_stock": n}, "priority": n, "is_active": n % 2 == 0,
                 "created_at": now, "updated_at": now}
                for n in range(10)
            ),
        )  # fmt: skip

        if engine.dialect.name == "postgresql":
            for model in (Order, OrderLineRow, WebhookLog):
                sequence = sa.func.pg_get_serial_sequence(model.__tablename__, "id")
                conn.execute(sa.select(sa.func.setval(sequence, sa.select(sa.func.max(model.id)).scalar_subquery())))
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that lets counts
        # read an index alone (right after the load every count would read the table).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return Activity(
        orders=orders, order_lines=len(line_rows), sync_logs=sync_logs, sync_runs=runs,
        pending_conflicts=min(pending_conflicts, len(listings)), open_alerts=open_alerts,
        locations=1 + len(location_ids),
        location_stock=location_stock, bundles=bundles, webhook_events=webhook_events, ledger_rows=ledger_rows,
    )  # fmt: skip
