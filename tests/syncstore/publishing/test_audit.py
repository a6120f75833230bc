# An audited platform: a new listing is "in review" until the audit; a refusal is a failed change resent after a fix.
from __future__ import annotations

import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformListing, SyncLog
from syncstore.publishing import cache, mappings
from syncstore.publishing.attributes import AttributeValue
from syncstore.sync import engine as sync
from syncstore.sync import publish as publishing
from syncstore.sync import snapshot
from syncstore.sync.logs import list_sync_logs
from tests.syncstore.publishing.marts import EDITOR, REVIEW, World


def listing(world: World, product_id: int) -> PlatformListing:
    with transaction(world.engine) as session:
        row = session.scalars(sa.select(PlatformListing).where(PlatformListing.product_id == product_id)).one()
        session.expunge(row)
        return row


def published(world: World, *skus: str) -> list[int]:
    cache.refresh_categories(EDITOR, world.engine, world.review_connection, world.review)
    cache.ensure_category_details(world.engine, world.review_connection, world.review, "101")
    defaults = {"7001": AttributeValue(value_ids=("1",)), "7003": AttributeValue(text="Hand wash")}
    with transaction(world.engine) as session:
        mappings.set_category_mapping(EDITOR, session, REVIEW, "Shirts", "101", defaults=defaults)
    products = [world.product(sku, title=f"Linen shirt with long sleeves {sku}").id for sku in skus]
    [result] = publishing.publish(EDITOR, world.engine, products, [world.review_connection], world.connector)
    assert result.ok and result.created == len(products) and result.in_review == len(products)
    return products


def test_a_listing_is_in_review_until_the_platform_approves_it(world: World) -> None:
    [shirt] = published(world, "LIN-1")
    assert (listing(world, shirt).sync_status, listing(world, shirt).remote_status) == ("in_review", "in_review")
    snapshot.pull(world.engine, world.review_connection, world.review)  # still pending: still in review
    assert listing(world, shirt).sync_status == "in_review"
    [item_id] = world.review.items
    world.review.approve(item_id)
    snapshot.pull(world.engine, world.review_connection, world.review)
    assert (listing(world, shirt).sync_status, listing(world, shirt).remote_status) == ("synced", "active")


def test_a_refused_audit_is_a_failed_change_with_the_reason_and_is_resent_after_a_fix(world: World) -> None:
    [shirt] = published(world, "LIN-1")
    [item_id] = world.review.items
    world.review.refuse(item_id, "The title contains a prohibited word")
    snapshot.pull(world.engine, world.review_connection, world.review)
    refused = listing(world, shirt)
    assert refused.sync_status == "failed" and refused.remote_status == "review_failed"
    assert "prohibited word" in (refused.last_error or "")
    with transaction(world.engine) as session:
        [log], total = list_sync_logs(session, status="failed", product_id=shirt)
    assert total == 1 and log.operation == "review" and "prohibited word" in (log.error_message or "")
    # The scheduled sync does not resend a refused listing on its own: it waits for a fix and a retry.
    sync.sync_shop(world.engine, world.review_connection, world.review)
    assert not [call for call in world.review.calls if call[0] == "update_fields"]

    # The merchant fixes the title, then retries the failed change: the listing is sent again, for review.
    with transaction(world.engine) as session:
        product = catalog.get_product(session, shirt)
        catalog.update_product(EDITOR, session, shirt, expected_version=product.version,
                               changes={"title": "Linen shirt with long sleeves, washed"})  # fmt: skip
    view = sync.retry_failed(EDITOR, world.engine, log.id, world.connector)
    assert view.status == "superseded" and "sent again for review" in (view.error_message or "")
    [(_, (sent_item, fields))] = [call for call in world.review.calls if call[0] == "update_fields"]
    assert sent_item == item_id and fields.title == "Linen shirt with long sleeves, washed"
    assert listing(world, shirt).sync_status == "in_review"
    world.review.approve(item_id)
    snapshot.pull(world.engine, world.review_connection, world.review)
    assert listing(world, shirt).sync_status == "synced"
    with transaction(world.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncLog).where(SyncLog.status == "failed")) == 0
