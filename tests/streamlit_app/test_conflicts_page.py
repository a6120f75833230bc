# The Conflicts page: three values side by side for every role; Editors and Admins resolve, Viewers only read.
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from streamlit_app import i18n
from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.db.engine import transaction
from syncstore.db.models import (
    PlatformListing,
    PlatformListingSku,
    PlatformOverride,
    ProductConflict,
    ProductVariant,
)
from syncstore.errors import PermissionDenied
from syncstore.plan import conflicts
from syncstore.plan.conflicts import FoundConflict
from syncstore.security.auth import Role
from tests.streamlit_app.conftest import AppAs, SeededDatabase


@dataclass(frozen=True)
class Recorded:
    title: int  # conflict ids
    price: int
    other_shop_title: int
    product_id: int
    variant_id: int
    master_title: str


def _found(listing: PlatformListing, field: str, master: object, remote: object, base: object, variant: int | None):
    return FoundConflict(
        connection_id=listing.connection_id, listing_id=listing.id, product_id=listing.product_id, variant_id=variant,
        platform=listing.platform, field=field, master_value=master, platform_value=remote, base_value=base,
    )  # fmt: skip


@pytest.fixture
def recorded(seeded_db: SeededDatabase) -> Recorded:
    """Conflicts as a reconcile run records them: the title and a price on Shopee, the title on TikTok Shop."""
    engine = seeded_db.engine()
    with transaction(engine) as session:
        listings = session.scalars(sa.select(PlatformListing).order_by(PlatformListing.id)).all()
        shopee = next(item for item in listings if item.platform == "shopee")
        tiktok = next(
            item for item in listings if item.platform == "tiktokshop" and item.product_id != shopee.product_id
        )
        sku = session.scalars(sa.select(PlatformListingSku).where(PlatformListingSku.listing_id == shopee.id)).first()
        assert sku is not None and sku.variant_id is not None and shopee.product_id is not None
        title = catalog_reads.get_product(session, shopee.product_id).title
        conflicts.record(
            session,
            [
                _found(shopee, "title", title, f"{title} (seller edit)", "Old title", None),
                _found(shopee, "price", Decimal("61.00"), Decimal("58.00"), Decimal("59.90"), sku.variant_id),
                _found(tiktok, "title", tiktok.base_title, "TikTok edit", tiktok.base_title, None),
            ],
        )
        ids = {(c.platform, c.field): c.id for c in conflicts.list_conflicts(session)}
    engine.dispose()
    return Recorded(
        title=ids[("shopee", "title")], price=ids[("shopee", "price")], other_shop_title=ids[("tiktokshop", "title")],
        product_id=shopee.product_id, variant_id=sku.variant_id, master_title=title,
    )  # fmt: skip


def pending(db: SeededDatabase) -> set[int]:
    engine = db.engine()
    with transaction(engine) as session:
        found = {c.id for c in conflicts.list_conflicts(session)}
    engine.dispose()
    return found


def texts(at: object) -> list[str]:
    return [t.value for t in at.text]  # type: ignore[attr-defined]


def listed(at: object) -> list[int]:
    """The conflict ids the page offers to compare, from their labels ("#12 · shop · product · field")."""
    options = at.selectbox(key="selected").options  # type: ignore[attr-defined]
    return [int(option.split(" ", 1)[0].lstrip("#")) for option in options]


def recent_decisions(at: object):  # a pandas DataFrame
    """The page's list of recent decisions (the table with a "Decision" column)."""
    return next(d.value for d in at.dataframe if "Decision" in d.value.columns)  # type: ignore[attr-defined]


def choose(at: object, conflict_id: int) -> None:
    at.selectbox(key="selected").set_value(conflict_id).run()  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_every_role_sees_the_three_values_side_by_side(app_as: AppAs, recorded: Recorded, role: str) -> None:
    at = app_as(role, "conflicts")
    assert not at.exception
    assert at.metric[0].value == "3"
    assert len(at.dataframe[0].value) == 3
    choose(at, recorded.price)
    assert texts(at) == ["61.00", "58.00", "59.90"]  # master, marketplace, last synced
    choose(at, recorded.title)
    assert texts(at) == [recorded.master_title, f"{recorded.master_title} (seller edit)", "Old title"]
    labels = {b.label for b in at.button} | {b.label for b in at.form_submit_button}
    if role == "viewer":
        assert labels == {"Sign out"} and not at.multiselect
        assert any("Read only" in c.value for c in at.caption)
    else:
        assert {"Use master", "Use marketplace", "Use this value", "Resolve selected"} <= labels


def test_an_editor_keeps_the_master_value_and_the_conflict_is_gone(
    app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded
) -> None:
    at = app_as("editor", "conflicts")
    choose(at, recorded.title)
    at.button(key=f"use_master_{recorded.title}").click().run()
    assert not at.exception
    assert any(f"Conflict {recorded.title} resolved" in s.value for s in at.success)
    assert pending(seeded_db) == {recorded.price, recorded.other_shop_title}
    assert at.metric[0].value == "2" and recorded.title not in listed(at)


def test_an_editor_keeps_the_marketplace_price_for_that_platform(
    app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded
) -> None:
    at = app_as("editor", "conflicts")
    choose(at, recorded.price)
    at.button(key=f"use_platform_{recorded.price}").click().run()
    assert not at.exception
    engine = seeded_db.engine()
    with transaction(engine) as session:
        override = session.scalars(sa.select(PlatformOverride)).one()
    engine.dispose()
    assert (override.platform, override.field, override.value) == ("shopee", "price", "58.00")
    assert recorded.price not in pending(seeded_db)


def test_use_marketplace_is_named_alike_in_button_and_message_and_the_override_names_its_author(
    app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded
) -> None:
    at = app_as("editor", "conflicts")
    choose(at, recorded.price)
    button = at.button(key=f"use_platform_{recorded.price}")
    assert button.label == "Use marketplace"
    button.click().run()
    assert not at.exception
    said = " ".join(s.value for s in at.success)
    assert f"Conflict {recorded.price} resolved with “Use marketplace”" in said, said
    assert "use platform" not in said.lower() and "use_platform" not in said
    editor = seeded_db.actors[Role.EDITOR].label
    assert f"made by {editor}" in said
    engine = seeded_db.engine()
    with transaction(engine) as session:
        override = session.scalars(sa.select(PlatformOverride)).one()
    engine.dispose()
    assert override.updated_by == editor
    # The page lists the decision under its button's name, with who made the override.
    recent = recent_decisions(at)
    row = recent[recent["Conflict"] == recorded.price].iloc[0]
    assert (row["Decision"], row["Decided by"], row["Override made by"]) == ("Use marketplace", editor, editor)


def test_use_master_is_named_alike_in_button_and_message(app_as: AppAs, recorded: Recorded) -> None:
    at = app_as("admin", "conflicts")
    choose(at, recorded.title)
    button = at.button(key=f"use_master_{recorded.title}")
    assert button.label == "Use master"
    button.click().run()
    said = " ".join(s.value for s in at.success)
    assert f"Conflict {recorded.title} resolved with “Use master”" in said and "use_master" not in said, said
    recent = recent_decisions(at)
    assert list(recent["Decision"]) == ["Use master"] and list(recent["Override made by"]) == ["—"]


def test_a_manual_value_is_written_to_the_master(app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded) -> None:
    at = app_as("admin", "conflicts")
    choose(at, recorded.title)
    at.text_area[0].input("Handwoven batik shirt")
    at.form_submit_button[0].click().run()
    assert not at.exception
    engine = seeded_db.engine()
    with transaction(engine) as session:
        assert catalog_reads.get_product(session, recorded.product_id).title == "Handwoven batik shirt"
    engine.dispose()
    assert recorded.title not in pending(seeded_db)


def test_an_invalid_manual_price_is_shown_and_nothing_changes(
    app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded
) -> None:
    at = app_as("editor", "conflicts")
    choose(at, recorded.price)
    at.text_area[0].input("cheap")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert any("price" in e.value for e in at.error)
    assert recorded.price in pending(seeded_db)


def test_bulk_resolve_settles_every_chosen_conflict(
    app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded
) -> None:
    at = app_as("editor", "conflicts")
    at.multiselect(key="bulk_ids").set_value([recorded.title, recorded.other_shop_title]).run()
    at.radio(key="bulk_strategy").set_value(conflicts.Strategy.USE_PLATFORM).run()
    at.button(key="bulk_resolve").click().run()
    assert not at.exception
    assert any("2 conflicts resolved with “Use marketplace”." in s.value for s in at.success)
    assert at.radio(key="bulk_strategy").options == ["Use master", "Use marketplace"]
    assert pending(seeded_db) == {recorded.price}
    engine = seeded_db.engine()
    with transaction(engine) as session:
        resolved = session.scalars(sa.select(ProductConflict).where(ProductConflict.status == "resolved")).all()
    engine.dispose()
    assert {(c.resolution or {}).get("strategy") for c in resolved} == {"use_platform"}


def test_the_shop_filter_shows_only_that_shops_conflicts(app_as: AppAs, recorded: Recorded) -> None:
    at = app_as("viewer", "conflicts")
    tiktok = next(option for option in at.selectbox(key="shop").options if "TikTok" in option)
    at.selectbox(key="shop").select(tiktok).run()
    assert not at.exception
    assert listed(at) == [recorded.other_shop_title]


def test_a_viewer_forcing_a_resolve_is_refused(seeded_db: SeededDatabase, recorded: Recorded) -> None:
    engine = seeded_db.engine()
    for strategy in ("use_master", "use_platform"):
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            conflicts.resolve(seeded_db.actors[Role.VIEWER], session, recorded.title, strategy)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        conflicts.resolve_many(seeded_db.actors[Role.VIEWER], session, [recorded.price], "use_master")
    engine.dispose()
    assert pending(seeded_db) == {recorded.title, recorded.price, recorded.other_shop_title}


def test_no_conflict_says_so(app_as: AppAs) -> None:
    at = app_as("viewer", "conflicts")
    assert not at.exception
    assert any("No pending conflicts" in s.value for s in at.success)


def test_a_conflict_someone_else_resolved_meanwhile_is_explained(
    app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded
) -> None:
    at = app_as("editor", "conflicts")
    choose(at, recorded.title)
    engine = seeded_db.engine()
    with transaction(engine) as session:  # another editor, in another browser, was quicker
        conflicts.resolve(seeded_db.actors[Role.ADMIN], session, recorded.title, "use_platform")
    engine.dispose()
    at.button(key=f"use_master_{recorded.title}").click().run()
    assert not at.exception
    said = " ".join(e.value for e in at.error).replace("\\", "")
    assert f"conflict {recorded.title} was already resolved by admin@example.com" in said, said
    # The click settled nothing else (the list had changed under it).
    assert pending(seeded_db) == {recorded.price, recorded.other_shop_title}


# --- issue 14 items 2 and 3: manual values checked like the editor's, no traceback, no lost update ---


def page_text(at: AppTest) -> str:
    """Everything the page shows as text (errors, markdown, text, exceptions)."""
    parts = [e.value for e in at.error] + [m.value for m in at.markdown] + texts(at)
    parts += [str(e.value) for e in at.exception]
    return " ".join(str(p) for p in parts)


@pytest.mark.parametrize("bad", ["1e40", "Infinity", "NaN", "-1", "cheap"])
def test_an_impossible_manual_price_is_a_field_error_and_nothing_is_stored(
    app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded, bad: str
) -> None:
    at = app_as("editor", "conflicts")
    choose(at, recorded.price)
    at.text_area[0].input(bad)
    at.form_submit_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert "value: a price such as 19.90" in errors.replace("*", ""), errors
    shown = page_text(at)
    assert "Traceback" not in shown and "/work/" not in shown and ".py" not in shown, shown
    engine = seeded_db.engine()
    with transaction(engine) as session:
        variant = session.get_one(ProductVariant, recorded.variant_id)
        assert variant.price != Decimal(bad) if bad not in ("cheap", "NaN") else True
        assert catalog_reads.get_product(session, recorded.product_id).version == 1
    engine.dispose()
    assert recorded.price in pending(seeded_db)


def test_a_manual_value_over_an_edit_made_since_is_refused(
    app_as: AppAs, seeded_db: SeededDatabase, recorded: Recorded
) -> None:
    at = app_as("editor", "conflicts")
    choose(at, recorded.title)
    engine = seeded_db.engine()
    with transaction(engine) as session:  # another editor saves the product meanwhile
        product = catalog_reads.get_product(session, recorded.product_id)
        catalog.update_product(seeded_db.actors[Role.ADMIN], session, product.id, expected_version=product.version,
                               changes={"title": "Saved by the admin"})  # fmt: skip
    engine.dispose()
    at.text_area[0].input("Mine")
    at.form_submit_button[0].click().run()
    assert not at.exception
    said = " ".join(e.value for e in at.error).replace("\\", "")
    assert "changed by admin@example.com since you opened it" in said, said
    engine = seeded_db.engine()
    with transaction(engine) as session:
        assert catalog_reads.get_product(session, recorded.product_id).title == "Saved by the admin"
    engine.dispose()
    assert recorded.title in pending(seeded_db)
    # Drawn again, the page holds the new version, and the same value now goes through.
    at.text_area[0].input("Mine")
    at.form_submit_button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert recorded.title not in pending(seeded_db)


def test_in_malay_the_button_and_its_message_share_one_name(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user's language (AppTest also formats options outside the page's run, so it is set for both).
    monkeypatch.setattr(i18n, "_session_value", lambda key: "ms" if key == i18n.LANGUAGE_KEY else None)
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        listing = session.scalars(sa.select(PlatformListing).where(PlatformListing.platform == "shopee")).first()
        assert listing is not None
        conflicts.record(session, [_found(listing, "title", "Kemeja", "Kemeja (suntingan)", "Lama", None)])
        conflict_id = conflicts.list_conflicts(session)[0].id
    engine.dispose()
    at = sqlite_app_as("editor", "conflicts")
    assert not at.exception
    button = at.button(key=f"use_platform_{conflict_id}")
    assert button.label == "Guna platform"
    button.click().run()
    said = " ".join(s.value for s in at.success)
    assert f"Konflik {conflict_id} diselesaikan dengan “Guna platform”" in said, said
