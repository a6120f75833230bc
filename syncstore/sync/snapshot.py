# Shop snapshots: a shop's listings pulled through its connector into platform_listings / platform_listing_skus.
"""Snapshot pulls.

A pull writes what the marketplace shows into the `remote_*` columns (never the `base_*` baseline,
which only a successful push or a settled conflict moves). `remote_status` holds
`connectors.base.ListingStatus` values (active, inactive, deleted, other).

- Incremental (the default once a shop has a cursor): the items changed in
  [snapshot_cursor - OVERLAP, now], then their details. OVERLAP re-reads the last seconds of the
  previous window: the platforms compare update times in whole seconds, and an item saved in the
  very second the previous pull ended must not slip between two windows. A shop where nothing
  changed costs one listing call.
- Full (`full=True`, or no cursor yet): every item the shop has; listings of this shop that the
  platform no longer returns are marked `deleted`.
- The cursor moves to `now` only after the whole pull was stored: a failed pull is simply repeated.

New remote items and SKUs arrive unbound (no product or variant): the sync binds them by seller SKU
(by its `sku_key`, written here with the shop's prefix and suffix stripped).
A SKU that vanished from its item is removed; an item the detail call no longer returns is `deleted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from connectors.base import Connector, ListingStatus, RemoteListing
from syncstore.catalog.sku_keys import sku_key
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing, PlatformListingSku, SyncLog
from syncstore.db.types import utcnow
from syncstore.errors import NotFoundError
from syncstore.media.uploads import refs_for_remote_batch
from syncstore.plan import validation as sync_validation
from syncstore.sync import logs as sync_logs

OVERLAP: Final = timedelta(seconds=10)
# Before any marketplace existed: a full pull asks for everything updated since then.
BEGINNING: Final = datetime(2000, 1, 1, tzinfo=UTC)
# Items fetched and stored per transaction.
DETAIL_CHUNK: Final = 200


@dataclass(frozen=True)
class PullReport:
    connection_id: int
    full: bool
    listings: int  # remote items stored (new or updated)
    skus: int
    api_calls: int  # as the platform's batch limits count them
    cursor: datetime | None  # the shop's cursor after this pull


def _connection(session: Session, connection_id: int) -> PlatformConnection:
    connection = session.get(PlatformConnection, connection_id)
    if connection is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    return connection


def pull(
    engine: sa.Engine, connection_id: int, connector: Connector, *, full: bool = False, now: datetime | None = None
) -> PullReport:
    """Pull the shop's changed items (or all of them) into the snapshot; see the module docstring."""
    started = utcnow()
    now = now or started
    with transaction(engine) as session:
        connection = _connection(session, connection_id)
        cursor, platform = connection.snapshot_cursor, connection.platform
    full = full or cursor is None
    since = BEGINNING if full or cursor is None else cursor - OVERLAP
    rules = sync_validation.rules_for(platform)
    item_ids = list(dict.fromkeys(change.item_id for change in connector.list_changed_items(since, now)))
    calls = sync_validation.list_calls(rules, len(item_ids))
    listings, skus, detail = _fetch_and_store(engine, connection_id, platform, connector, item_ids)
    with transaction(engine) as session:
        if full:
            _mark_deleted_except(session, connection_id, set(item_ids), stored_before=started)
        connection = _connection(session, connection_id)
        connection.snapshot_cursor = now
    return PullReport(connection_id, full, listings, skus, calls + detail, now)


def pull_items(engine: sa.Engine, connection_id: int, connector: Connector, item_ids: Sequence[str]) -> PullReport:
    """Refresh the given items (e.g. after a product-change webhook); the cursor is left as it is."""
    with transaction(engine) as session:
        connection = _connection(session, connection_id)
        platform, cursor = connection.platform, connection.snapshot_cursor
    ids = list(dict.fromkeys(str(item_id) for item_id in item_ids))
    listings, skus, calls = _fetch_and_store(engine, connection_id, platform, connector, ids)
    return PullReport(connection_id, False, listings, skus, calls, cursor)


def _fetch_and_store(
    engine: sa.Engine, connection_id: int, platform: str, connector: Connector, item_ids: Sequence[str]
) -> tuple[int, int, int]:
    """Fetch details chunk by chunk and store each chunk in its own transaction: (listings, skus, calls)."""
    rules = sync_validation.rules_for(platform)
    listings = skus = calls = 0
    for start in range(0, len(item_ids), DETAIL_CHUNK):
        chunk = item_ids[start : start + DETAIL_CHUNK]
        fetched_at = utcnow()
        fetched = connector.get_listings(chunk)
        with_models = sum(1 for listing in fetched if _has_models(listing))
        calls += sync_validation.detail_calls(rules, len(chunk), with_models)
        with transaction(engine) as session:
            store(session, connection_id, platform, fetched, missing=set(chunk) - {f.item_id for f in fetched},
                  fetched_at=fetched_at)  # fmt: skip
        listings += len(fetched)
        skus += sum(len(listing.skus) for listing in fetched)
    return listings, skus, calls


def _has_models(listing: RemoteListing) -> bool:
    return len(listing.skus) > 1 or any(sku.sku_id != "0" for sku in listing.skus)


def store(
    session: Session,
    connection_id: int,
    platform: str,
    listings: Sequence[RemoteListing],
    *,
    missing: set[str] | frozenset[str] = frozenset(),
    fetched_at: datetime | None = None,
) -> None:
    """Write remote listings (and their SKUs) into the snapshot; `missing` items are marked deleted.

    `fetched_at`: when the listings were read from the platform. A listing a push reached since (its
    or one of its SKUs' `last_synced_at` is later) is left as the push wrote it: the values read are
    older than the push, and storing them would bring the marketplace's old value back as an edit
    (a resolved conflict reopened, a pushed title "changed" back). The push moved the item's update
    time past this pull's window start, so the next pull reads it again."""
    ids = [listing.item_id for listing in listings] + sorted(missing)
    if not ids:
        return
    existing = {
        row.remote_item_id: row
        for row in session.scalars(
            sa.select(PlatformListing)
            .where(PlatformListing.connection_id == connection_id, PlatformListing.remote_item_id.in_(ids))
            .options(selectinload(PlatformListing.skus))
        )
    }
    # Images SyncStore uploaded come back as the platform's ids or URLs: read them as the master's references.
    images = refs_for_remote_batch(
        session,
        connection_id,
        [
            (listing.images, (row.base_images or []) if (row := existing.get(listing.item_id)) else [])
            for listing in listings
        ],
    )
    shop = _connection(session, connection_id)
    affixes = (shop.sku_prefix, shop.sku_suffix)
    for listing, listing_images in zip(listings, images, strict=True):
        row = existing.get(listing.item_id)
        if row is not None and fetched_at is not None and _pushed_since(row, fetched_at):
            continue
        if row is None:
            row = PlatformListing(
                connection_id=connection_id, platform=platform, remote_item_id=listing.item_id, sync_status="pending"
            )
            session.add(row)
        _write_listing(row, connection_id, listing, session, listing_images, affixes)
    for item_id in missing:
        if (row := existing.get(item_id)) is not None:
            row.remote_status = ListingStatus.DELETED.value
    session.flush()


IN_REVIEW: Final = "in_review"


def _pushed_since(row: PlatformListing, moment: datetime) -> bool:
    """Whether a push reached the listing (or one of its SKUs) after `moment`."""
    times = [row.last_synced_at, *(sku.last_synced_at for sku in row.skus)]
    return any(at is not None and at >= moment for at in times)


def _record_review(session: Session, row: PlatformListing, connection_id: int, listing: RemoteListing) -> None:
    """Platform audits (TikTok Shop): "in review" while PENDING; a refusal is a failed change with its reason."""
    before = row.remote_status
    if listing.status is ListingStatus.IN_REVIEW:
        row.sync_status = IN_REVIEW
    elif listing.status is ListingStatus.REVIEW_FAILED and before != ListingStatus.REVIEW_FAILED.value:
        reason = listing.review_message or "no reason given"
        message = f"{listing.platform} review refused the listing: {reason}"
        row.sync_status, row.last_error = "failed", sync_logs.redact_message(message)
        session.add(
            SyncLog(
                connection_id=connection_id, product_id=row.product_id, platform=listing.platform,
                operation="review", status="failed", platform_product_id=listing.item_id,
                error_message=row.last_error, attempts=1,
                response_data={"status": listing.raw_status, "reason": listing.review_message},
            )
        )  # fmt: skip
    elif before == ListingStatus.IN_REVIEW.value and row.sync_status == IN_REVIEW:
        row.sync_status = "synced" if listing.status is ListingStatus.ACTIVE else "pending"


def _write_listing(
    row: PlatformListing,
    connection_id: int,
    listing: RemoteListing,
    session: Session,
    images: list[str],
    affixes: tuple[str, str],
) -> None:
    _record_review(session, row, connection_id, listing)
    row.remote_status = listing.status.value
    row.remote_category_id = listing.category_id
    row.remote_updated_at = listing.updated_at
    row.remote_title = listing.title
    row.remote_description = listing.description
    row.remote_images = images
    row.remote_weight_kg = listing.weight_kg
    row.remote_dimensions = (
        {key: str(value) for key, value in listing.dimensions.model_dump().items()} if listing.dimensions else None
    )
    current = {sku.remote_sku_id: sku for sku in row.skus}
    seen: set[str] = set()
    for remote in listing.skus:
        seen.add(remote.sku_id)
        sku = current.get(remote.sku_id)
        if sku is None:
            sku = PlatformListingSku(connection_id=connection_id, remote_sku_id=remote.sku_id)
            row.skus.append(sku)
        sku.seller_sku = remote.seller_sku
        sku.sku_key = sku_key(remote.seller_sku, *affixes)  # what auto-binding matches (indexed per shop)
        sku.currency = remote.currency
        sku.remote_price = remote.price
        sku.remote_stock = remote.total_stock
    for sku_id, sku in current.items():
        if sku_id not in seen:
            row.skus.remove(sku)  # delete-orphan: the row goes


def _mark_deleted_except(session: Session, connection_id: int, returned: set[str], stored_before: datetime) -> int:
    """After a full pull: this shop's listings the platform no longer returned are deleted there.

    Only listings stored before the pull began are judged: one a concurrent sync created meanwhile
    was simply not there yet when the platform listed the shop.
    """
    rows = session.execute(
        sa.select(PlatformListing.id, PlatformListing.remote_item_id).where(
            PlatformListing.connection_id == connection_id,
            PlatformListing.remote_status != ListingStatus.DELETED.value,
            PlatformListing.created_at < stored_before,
        )
    ).all()
    gone = [row.id for row in rows if row.remote_item_id not in returned]
    for start in range(0, len(gone), 500):
        session.execute(
            sa.update(PlatformListing)
            .where(PlatformListing.id.in_(gone[start : start + 500]))
            .values(remote_status=ListingStatus.DELETED.value)
        )
    return len(gone)
