# Publish to shops: per shop and product, exactly what would be sent and what is missing; then the scoped sync.
"""Publishing chosen products to chosen shops.

`publish_preview(engine, product_ids, connection_ids)` plans those products for those shops now
(the dry run, `syncstore.sync.engine.dry_run` scoped by product) and answers, per shop and product,
every change with the exact fields it would send, and every issue that blocks it (what is missing,
each saying what to do). Nothing is sent and nothing is written.

`publish(actor, engine, product_ids, connection_ids, connectors, progress=...)` first makes sure what
the plan needs is known (a shop's logistics channels and locations when never fetched; the attributes
of the platform categories the products map to), then runs the scoped sync of those products to each
chosen shop (`sync_shop(..., product_ids=...)`), reporting progress per shop, and answers per shop. A
listing the platform's audit refused is sent again for review (publishing it again is the merchant's
"resend"); the scheduled syncs never resend a refused listing on their own.

Choosing shops and the per-platform exclusions: a publish sends to the chosen shops now and to no
other; it does not record the choice. What decides, durably, whether a product is listed on a
platform stays the exclusion override and the sync rules: a product excluded on a platform is never
created there by a publish either (its preview says "nothing to send"), and an active product not
excluded is created by the next whole-shop sync in every connected shop, chosen now or not. To keep a
product off a shop for good, exclude it on that platform (Product editor, overrides).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from connectors.base import ConnectorError
from syncstore.db.engine import transaction
from syncstore.db.models import CategoryMapping, MasterProduct, PlatformListing, RemoteCategoryRow, SyncLog
from syncstore.errors import InvalidInput, Message, SyncStoreError, msg
from syncstore.plan.changes import Json, PlannedChange
from syncstore.plan.inputs import shops as load_shops
from syncstore.publishing import cache, logistics
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires
from syncstore.sync import engine as sync
from syncstore.sync.apply import ConnectorFactory, SyncReport


@dataclass(frozen=True)
class PreviewChange:
    operation: str  # create, update_price, update_stock, update_fields, activate, deactivate, bind, ...
    sku: str | None
    request: dict[str, Json]  # exactly what is sent (images are uploaded and sent as the platform's ids)
    missing: tuple[str, ...]  # "field: what is wrong and what to do"; empty: it is sent


@dataclass(frozen=True)
class ProductPreview:
    product_id: int
    title: str
    changes: tuple[PreviewChange, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for change in self.changes for m in change.missing))

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def summary(self) -> str:
        if not self.changes:
            return "nothing to send (in sync, or excluded on this platform)"
        return ", ".join(sorted({change.operation for change in self.changes}))


@dataclass(frozen=True)
class ShopPreview:
    connection_id: int
    platform: str
    shop_name: str
    connected: bool  # a disconnected (expired, revoked) shop is refused by `publish` until reconnected
    products: tuple[ProductPreview, ...]
    api_calls: int

    @property
    def ready(self) -> int:
        return sum(1 for product in self.products if product.ready and product.changes)

    @property
    def blocked(self) -> int:
        return sum(1 for product in self.products if not product.ready)


def _checked_ids(product_ids: Sequence[int], connection_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    errors: dict[str, Message] = {}
    if not product_ids:
        errors["product_ids"] = msg("choose at least one product")
    if not connection_ids:
        errors["connection_ids"] = msg("choose at least one shop")
    if errors:
        raise InvalidInput(errors)
    return sorted(set(product_ids)), sorted(set(connection_ids))


def _preview_change(change: PlannedChange) -> PreviewChange:
    missing = tuple(f"{issue.field}: {issue.message}" for issue in change.issues)
    return PreviewChange(change.operation, change.sku, change.request(), missing)


def publish_preview(engine: sa.Engine, product_ids: Sequence[int], connection_ids: Sequence[int]) -> list[ShopPreview]:
    """Per chosen shop and product: the changes a publish would send (exact fields) and what blocks them.

    Reads only (the stored snapshot and the cache). It takes the engine, like `dry_run`: the plan reads
    in transactions of its own (a caller's open SQLite write transaction would lock it out).
    """
    products, shop_ids = _checked_ids(product_ids, connection_ids)
    with transaction(engine) as session:
        query = sa.select(MasterProduct.id, MasterProduct.title).where(MasterProduct.id.in_(products))
        titles = {pid: title for pid, title in session.execute(query)}
    missing = [product_id for product_id in products if product_id not in titles]
    if missing:
        raise InvalidInput({"product_ids": msg("product {product_id} not found", product_id=missing[0])})
    status = {shop.connection_id: shop.status for shop in load_shops(engine, shop_ids)}
    previews = []
    for plan in sync.dry_run(engine, product_ids=products, connection_ids=shop_ids):
        per_product: dict[int, list[PreviewChange]] = {product_id: [] for product_id in products}
        for change in plan.changes:
            if change.product_id in per_product:
                per_product[change.product_id].append(_preview_change(change))
        previews.append(
            ShopPreview(
                plan.connection_id, plan.platform, plan.shop_name,
                status[plan.connection_id] == "connected",
                tuple(ProductPreview(pid, titles[pid], tuple(changes)) for pid, changes in per_product.items()),
                plan.api_calls,
            )
        )  # fmt: skip
    return previews


# --- publish ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopProgress:
    """Sent to `progress` before (`done` False) and after (`done` True) each shop."""

    connection_id: int
    shop_name: str
    index: int  # 1-based
    total: int
    done: bool


@dataclass(frozen=True)
class PublishResult:
    connection_id: int
    platform: str
    shop_name: str
    report: SyncReport | None  # None: the shop could not be reached (see `error`)
    error: str | None
    created: int  # listings created (or variants added) in this run
    in_review: int  # of the chosen products' listings in this shop, waiting for the platform's audit
    failures: tuple[str, ...]  # "product <id>: <reason>" for each change that failed

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failures


def _prepare(
    engine: sa.Engine, connection_id: int, platform: str, products: Sequence[int], connector_factory: ConnectorFactory
) -> None:
    """Fetch what the plan of a publish needs and the cache lacks: the shop's logistics, its category tree, and
    the attributes of the categories the products map to."""
    connector = connector_factory(connection_id)
    cache.ensure_tree(engine, connection_id, connector)
    with transaction(engine) as session:
        known = logistics.shop_logistics(session, connection_id)
        categories = set(
            session.scalars(
                sa.select(CategoryMapping.remote_category_id)
                .join(MasterProduct, MasterProduct.category == CategoryMapping.master_category)
                .where(CategoryMapping.platform == platform, MasterProduct.id.in_(list(products)))
            )
        )
        in_tree = set(
            session.scalars(
                sa.select(RemoteCategoryRow.category_id).where(
                    RemoteCategoryRow.connection_id == connection_id, RemoteCategoryRow.category_id.in_(categories)
                )
            )
        )
    if known.fetched_at is None:
        logistics.fetch_shop_logistics(engine, connection_id, connector)
    for category_id in sorted(in_tree):
        cache.ensure_category_details(engine, connection_id, connector, category_id)


def _outcome(
    engine: sa.Engine, connection_id: int, products: Sequence[int], run_id: str
) -> tuple[int, int, tuple[str, ...]]:
    with transaction(engine) as session:
        created = session.scalar(
            sa.select(sa.func.count()).where(SyncLog.run_id == run_id, SyncLog.connection_id == connection_id,
                                             SyncLog.operation == "create", SyncLog.status == "success")
        )  # fmt: skip
        in_review = session.scalar(
            sa.select(sa.func.count()).where(PlatformListing.connection_id == connection_id,
                                             PlatformListing.product_id.in_(list(products)),
                                             PlatformListing.sync_status == "in_review")
        )  # fmt: skip
        failures = session.execute(
            sa.select(SyncLog.product_id, SyncLog.error_message)
            .where(SyncLog.run_id == run_id, SyncLog.connection_id == connection_id, SyncLog.status == "failed")
            .order_by(SyncLog.id)
        ).all()
    return int(created or 0), int(in_review or 0), tuple(f"product {p}: {m}" for p, m in failures)


@requires(Permission.SYNC_RUN)
def publish(
    actor: Actor | None,
    engine: sa.Engine,
    product_ids: Sequence[int],
    connection_ids: Sequence[int],
    connectors: ConnectorFactory,
    *,
    progress: Callable[[ShopProgress], None] | None = None,
) -> list[PublishResult]:
    """Send the chosen products to the chosen shops now (see the module docstring); per shop results."""
    products, shop_ids = _checked_ids(product_ids, connection_ids)
    shops = load_shops(engine, shop_ids)
    run_id = f"publish-{uuid.uuid4().hex[:12]}"
    with transaction(engine) as session:
        audit.record(session, actor, "publish", "product", None,
                     after={"product_ids": products, "connection_ids": shop_ids, "run_id": run_id})  # fmt: skip
    results = []
    for index, shop in enumerate(shops, start=1):
        if progress is not None:
            progress(ShopProgress(shop.connection_id, shop.shop_name, index, len(shops), False))
        report: SyncReport | None = None
        error: str | None = None
        try:
            if shop.status != "connected":
                raise InvalidInput(
                    {
                        "connection_ids": msg(
                            "shop {shop_name} is {status}: reconnect it first",
                            shop_name=shop.shop_name,
                            status=shop.status,
                        )
                    }
                )
            _prepare(engine, shop.connection_id, shop.platform, products, connectors)
            report = sync.sync_shop(engine, shop.connection_id, connectors(shop.connection_id),
                                    product_ids=products, run_id=run_id, resubmit_refused=True)  # fmt: skip
        except (SyncStoreError, ConnectorError) as failure:
            error = str(failure)
        created, in_review, failures = _outcome(engine, shop.connection_id, products, run_id)
        results.append(PublishResult(shop.connection_id, shop.platform, shop.shop_name, report, error, created,
                                     in_review, failures))  # fmt: skip
        if progress is not None:
            progress(ShopProgress(shop.connection_id, shop.shop_name, index, len(shops), True))
    return results
