# Bulk SKU binding by CSV on SQLite and PostgreSQL: per-line preview with reasons, strict apply, shop column.
from __future__ import annotations

import pytest
import sqlalchemy as sa

from syncstore.catalog import binding_csv, bindings
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, PlatformConnection, PlatformListingSku
from syncstore.errors import InvalidInput, PermissionDenied
from tests.syncstore.catalog.conftest import EDITOR, VIEWER, Shop, add_listing


def preview(engine: sa.Engine, text: str) -> list[tuple[int, str, str, str]]:
    with transaction(engine) as session:
        result = binding_csv.preview_csv(session, text)
    return [(line.line, line.shop, line.outcome, line.reason) for line in result.lines]


def bound(engine: sa.Engine) -> dict[str, int | None]:
    with transaction(engine) as session:
        rows = session.execute(sa.select(PlatformListingSku.seller_sku, PlatformListingSku.variant_id)).all()
    return {str(row.seller_sku): row.variant_id for row in rows}


def test_the_preview_says_per_line_what_binds_and_why_the_rest_is_refused(engine: sa.Engine, world: Shop) -> None:
    with transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, world.skus["OTHER-1"], "LIN-M", expected_version=0)
        shop = session.get_one(PlatformConnection, world.shopee)
        add_listing(session, shop, "9004", "Twin", [("TWIN", "1.00", 1), ("twin ", "1.00", 1)])
    text = (
        "seller_sku,master_sku,shop\n"
        "Lin S,LIN-S,My Shopee\n"  # 2: binds (case and blanks of the seller SKU ignored)
        "MUG-1,LIN-S\n"  # 3: binds in the TikTok shop (no shop given: wherever it is)
        "OTHER-1,LIN-S,My Shopee\n"  # 4: bound to another master SKU
        "MUG-1,LIN-S,Nowhere\n"  # 5: unknown shop
        "GHOST,LIN-S\n"  # 6: no such seller SKU
        "TWIN,LIN-S\n"  # 7: two SKUs of the shop
        "OTHER-1,LIN-M\n"  # 8: already bound as asked
        "lin s,NOPE\n"  # 9: unknown master SKU
    )
    assert preview(engine, text) == [
        (2, "My Shopee", "bind", "binds to LIN-S"),
        (3, "My TikTok", "bind", "binds to LIN-S"),
        (4, "My Shopee", "refused", "seller SKU OTHER-1 is bound to LIN-M; unbind it first"),
        (5, "Nowhere", "refused", "no shop named Nowhere"),
        (6, "", "refused", "no listing SKU has the seller SKU GHOST"),
        (7, "My Shopee", "refused", "ambiguous: 2 SKUs of My Shopee have the seller SKU TWIN"),
        (8, "My Shopee", "unchanged", "already bound"),
        (9, "", "refused", "no master SKU NOPE"),
    ]


def test_apply_is_all_or_nothing(engine: sa.Engine, world: Shop) -> None:
    before = bound(engine)
    with pytest.raises(InvalidInput, match=r"line 2 .*line 1 already binds LIN-S"), transaction(engine) as session:
        binding_csv.apply_csv(EDITOR, session, "lin s,LIN-S\nOTHER-1,LIN-S\n")  # line 2 claims LIN-S again
    assert bound(engine) == before
    with transaction(engine) as session:
        applied = binding_csv.apply_csv(EDITOR, session, "lin s,LIN-S\nOTHER-1,LIN-M\nMUG-1,LIN-M,tiktokshop-7001\n")
    assert len(applied.to_bind) == 3
    after = bound(engine)
    assert (after["lin s"], after["OTHER-1"], after["MUG-1"]) == (
        world.variants["LIN-S"], world.variants["LIN-M"], world.variants["LIN-M"],
    )  # fmt: skip
    with transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "listing_sku.bind")) == 3


def test_a_viewer_cannot_apply_and_a_file_that_is_not_this_csv_is_refused(engine: sa.Engine, world: Shop) -> None:
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        binding_csv.apply_csv(VIEWER, session, "lin s,LIN-S\n")
    with pytest.raises(InvalidInput, match="expected seller_sku,master_sku"), transaction(engine) as session:
        binding_csv.preview_csv(session, "a,b,c,d\n")
    with pytest.raises(InvalidInput, match="no line to bind"), transaction(engine) as session:
        binding_csv.preview_csv(session, "seller_sku,master_sku\n")
