# The Rules page: create with a preview first, edit, reorder, delete; read only for viewers.
from __future__ import annotations

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, PlatformConnection, ProductVariant, SyncJob
from syncstore.plan import rules
from syncstore.security.auth import Actor, Role
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with

SHOPEE, TIKTOK = "Shopee · Demo Shopee MY", "TikTok Shop · Demo TikTok MY"


def saved_rules(db: SeededDatabase) -> list[rules.Rule]:
    engine = db.engine()
    with transaction(engine) as session:
        found = rules.list_rules(session)
    engine.dispose()
    return found


def add_rule(db: SeededDatabase, name: str, priority: int, **actions: object) -> rules.Rule:
    engine = db.engine()
    with transaction(engine) as session:
        rule = rules.create_rule(
            Actor.command_line(), session, {"name": name, "priority": priority, "actions": actions}
        )
    engine.dispose()
    return rule


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return at.button[[b.label for b in at.button].index(label)]


def fill_markup_rule(at: AppTest) -> AppTest:
    at.text_input(key="rule_0_name").input("Shopee markup")
    at.selectbox(key="rule_0_platform").select("shopee")
    at.text_input(key="rule_0_pct").input("10")
    at.selectbox(key="rule_0_rounding").select("0.90")
    at.number_input(key="rule_0_buffer").set_value(2)
    at.text_input(key="rules_sample").input("KS-TEE00001-BLACK-S")
    return at


def test_an_editor_previews_then_saves_a_rule(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = fill_markup_rule(app_as("editor", "rules"))
    button(at, "Preview on sample products").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert saved_rules(seeded_db) == []  # a preview writes nothing
    preview = frame_with(at, "Listed price")
    shopee = preview[preview["Shop"] == "Shopee · Demo Shopee MY"].iloc[0]
    tiktok = preview[preview["Shop"] == "TikTok Shop · Demo TikTok MY"].iloc[0]
    # 69.00 + 10 % = 75.90 -> ends in .90 already; stock keeps 2 back, on Shopee only.
    assert (shopee["Master price"], shopee["Listed price"], shopee["Price rule"]) == (
        "69.00",
        "75.90",
        "#1 Shopee markup",
    )
    assert shopee["Listed stock"] == shopee["Available"] - 2
    assert (tiktok["Listed price"], tiktok["Listed stock"]) == ("69.00", tiktok["Available"])

    fill_markup_rule(at)
    button(at, "Save rule").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    [rule] = saved_rules(seeded_db)
    assert (rule.name, rule.platform, str(rule.actions.price_markup_percent)) == ("Shopee markup", "shopee", "10")
    assert "#1 Shopee markup" in list(frame_with(at, "Rule")["Rule"])


def test_a_bad_rule_shows_its_field_errors(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = app_as("editor", "rules")
    at.text_input(key="rule_0_name").input("Broken")
    at.text_input(key="rule_0_amin").input("50")
    at.text_input(key="rule_0_amax").input("10")
    button(at, "Save rule").click().run()
    assert not at.exception
    assert "min_price must not be above max_price" in " ".join(e.value for e in at.error).replace("\\", "")
    assert saved_rules(seeded_db) == []


def test_rules_are_reordered_and_deleted(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    first = add_rule(seeded_db, "First", 10, price_markup_percent="5")
    second = add_rule(seeded_db, "Second", 0, buffer_stock=1)
    at = app_as("editor", "rules")
    assert list(frame_with(at, "Rule")["Rule"]) == [first.label, second.label]
    at.button(key=f"rule_up_{second.id}").click().run()
    assert not at.exception
    assert [r.name for r in rules.ordered(saved_rules(seeded_db))] == ["Second", "First"]
    at.selectbox(key="rules_pick").select(first.id).run()
    at.checkbox(key=f"rule_delete_confirm_{first.id}").check().run()
    at.button(key=f"rule_delete_{first.id}").click().run()
    assert [r.name for r in saved_rules(seeded_db)] == ["Second"]
    engine = seeded_db.engine()
    with transaction(engine) as session:
        actions = session.scalars(sa.select(AuditLog.action).where(AuditLog.entity_type == "sync_rule")).all()
    engine.dispose()
    assert "rule.delete" in actions and "rule.update" in actions


def test_a_viewer_sees_rules_and_their_effect_but_cannot_change_them(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    add_rule(seeded_db, "Keep two back", 0, buffer_stock=2)
    at = app_as("viewer", "rules")
    assert not at.exception
    labels = [b.label for b in at.button]
    assert "Save rule" not in labels and "↑" not in labels and "Delete rule" not in labels
    at.text_input(key="rules_sample").input("KS-TEE00001-BLACK-S").run()
    at.button(key="rules_preview_saved").click().run()
    assert not at.exception
    assert set(frame_with(at, "Stock rule")["Stock rule"]) == {"#1 Keep two back"}


# --- issue 14 item 2: a rule is saved only over the version the person opened (S2) ----------------


def test_saving_a_rule_someone_changed_since_is_refused(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    rule = add_rule(seeded_db, "Markup", 0, price_markup_percent="5")
    at = app_as("editor", "rules")
    at.selectbox(key="rules_pick").select(rule.id).run()
    engine = seeded_db.engine()
    with transaction(engine) as session:  # another editor, in another browser, saves first
        rules.update_rule(seeded_db.actors[Role.ADMIN], session, rule.id, {"name": "Admin's markup", "priority": 3})
    engine.dispose()
    [name] = [t for t in at.text_input if t.label == "Name"]
    name.input("Mine")
    button(at, "Save rule").click().run()
    assert not at.exception
    said = " ".join(e.value for e in at.error).replace("\\", "")
    assert "changed by admin@example.com since you opened it" in said, said
    assert [(r.name, r.priority) for r in saved_rules(seeded_db)] == [("Admin's markup", 3)]
    # Moving from the order shown before is refused the same way.
    other = add_rule(seeded_db, "Other", 1)
    at.run()
    engine = seeded_db.engine()
    with transaction(engine) as session:
        rules.update_rule(seeded_db.actors[Role.ADMIN], session, other.id, {"name": "Other", "priority": 2})
    engine.dispose()
    at.button(key=f"rule_down_{rule.id}").click().run()
    said = " ".join(e.value for e in at.error).replace("\\", "")
    assert "changed by admin@example.com since you opened it" in said, said
    assert [(r.name, r.priority) for r in saved_rules(seeded_db)] == [("Admin's markup", 3), ("Other", 2)]
    # Opened again, the current rule saves.
    [name] = [t for t in at.text_input if t.label == "Name"]
    assert name.value == "Admin's markup"
    name.input("Mine")
    button(at, "Save rule").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "Mine" in [r.name for r in saved_rules(seeded_db)]


# --- issue 17 item 4: stock formulas and the preview per shop ------------------------------------


def test_sell_out_protection_is_previewed_per_shop_then_saved(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = app_as("editor", "rules")
    at.text_input(key="rule_0_name").input("Last units on Shopee")
    at.number_input(key="rule_0_protect_below").set_value(1_000_000)  # every sample is "nearly sold out"
    at.selectbox(key="rule_0_protect_shop").select("shopee-1001")
    at.text_input(key="rules_sample").input("KS-TEE00001-BLACK-S")
    button(at, "Preview on sample products").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    per_shop = frame_with(at, SHOPEE)
    row = per_shop[per_shop["SKU"] == "KS-TEE00001-BLACK-S"].iloc[0]
    available = int(str(row[SHOPEE]).split(" → ")[0])
    assert available > 0
    # Shopee gets all of it; TikTok Shop 0, where the saved rules (none) list everything today.
    assert row[SHOPEE] == f"{available} → {available}"
    assert row[TIKTOK] == f"{available} → 0 (now {available})"
    assert saved_rules(seeded_db) == []
    at.text_input(key="rule_0_name").input("Last units on Shopee")
    at.number_input(key="rule_0_protect_below").set_value(1_000_000)
    at.selectbox(key="rule_0_protect_shop").select("shopee-1001")
    button(at, "Save rule").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    [rule] = saved_rules(seeded_db)
    assert (rule.actions.protect_below, rule.actions.protect_shop_key) == (1_000_000, "shopee-1001")
    then = frame_with(at, "Then")["Then"].tolist()
    # In words, with the shop's name (never its key).
    assert then == ["stock: at 1000000 available or less, all of it to Demo Shopee MY only"]


def test_a_virtual_quantity_warns_and_refuses_a_formula_beside_it(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = app_as("editor", "rules")
    at.text_input(key="rule_0_name").input("Made to order")
    at.number_input(key="rule_0_virtual").set_value(50)
    at.text_input(key="rule_0_alloc").input("300")
    at.text_input(key="rules_sample").input("KS-TEE00001-BLACK-S")
    button(at, "Preview on sample products").click().run()
    assert not at.exception
    assert "replaces the stock formula" in " ".join(e.value for e in at.error)
    at.text_input(key="rule_0_name").input("Made to order")
    at.number_input(key="rule_0_virtual").set_value(50)
    at.text_input(key="rule_0_alloc").input("")
    button(at, "Preview on sample products").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("can sell more than you hold" in w.value for w in at.warning)
    per_shop = frame_with(at, TIKTOK)
    assert all(cell.split(" → ")[1].startswith("50") for cell in per_shop[TIKTOK])


def test_allocation_over_100_percent_and_a_minimum_in_the_preview(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = app_as("editor", "rules")
    at.text_input(key="rule_0_name").input("Slow shops list more")
    at.text_input(key="rule_0_alloc").input("250")
    at.number_input(key="rule_0_minq").set_value(3)
    at.text_input(key="rules_sample").input("KS-TEE00001")
    button(at, "Preview on sample products").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    cells = [cell for column in (SHOPEE, TIKTOK) for cell in frame_with(at, column)[column]]
    assert cells
    for cell in cells:
        available, listed = cell.split(" (now")[0].split(" → ")
        expected = 0 if int(available) < 3 else int(available) * 5 // 2
        assert int(listed) == expected, cell
    # The form explains the order of the steps.
    assert any("keep back → list % of the rest → list 0 under the minimum" in c.value for c in at.caption)


# --- issue 18 items 3 and 6: a saved rule applies at once, and rules read in words ----------------


def test_saving_a_rule_says_what_it_applies_and_queues_exactly_those_listings(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    at = sqlite_app_as("editor", "rules")
    at.text_input(key="rule_0_name").input("Shopee tees")
    at.selectbox(key="rule_0_platform").select("shopee")
    at.multiselect(key="rule_0_shops").select("shopee-1001")
    at.text_input(key="rule_0_sku").input("KS-TEE00001-*")
    at.text_input(key="rule_0_pct").input("10")
    at.selectbox(key="rule_0_rounding").select("0.90")
    button(at, "Save rule").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]

    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        [job] = session.scalars(sa.select(SyncJob)).all()
        tee = session.scalars(
            sa.select(ProductVariant.product_id).where(ProductVariant.sku.like("KS-TEE00001-%")).distinct()
        ).all()
        shopee = session.scalars(sa.select(PlatformConnection.id).where(PlatformConnection.platform == "shopee")).one()
    engine.dispose()
    # Only the listed tee, only in the rule's shop: not the whole catalog, not the TikTok shop.
    assert (job.product_ids, job.connection_ids, job.status) == (list(tee), [shopee], "queued")
    said = " ".join(s.value for s in at.success)
    assert "Rule Shopee tees created. Applying it now to 1 product in Demo Shopee MY." in said, said
    # The progress of the job, which the worker runs within seconds.
    assert any(f"Bulk sync job {job.id}: queued" in p.proto.text for p in at.get("progress")), "no progress bar"
    # The rule in words, with the shop's name.
    assert frame_with(at, "When")["When"].tolist() == ["Shopee shop Demo Shopee MY, SKU KS-TEE00001-*"]
    assert frame_with(at, "Then")["Then"].tolist() == ["+10 %, ends in .90"]


def test_a_rule_matching_no_listing_says_nothing_is_sent(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    at = sqlite_app_as("editor", "rules")
    at.text_input(key="rule_0_name").input("Nothing")
    at.text_input(key="rule_0_sku").input("NO-SUCH-*")
    at.text_input(key="rule_0_pct").input("5")
    button(at, "Save rule").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    said = " ".join(s.value for s in at.success)
    assert "Rule Nothing created. No listed product is affected: nothing to send." in said, said
    assert not at.get("progress")
