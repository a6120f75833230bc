# The Rules page: list, create, edit, order and delete sync rules, with a preview of their effect.
"""Rules.

Rules apply in order (higher priority first, then lower id); the first matching rule with a price
action sets the price, the first with a stock action sets the stock. The preview runs the same
code the sync runs (`reconcile.desired_state` with `rules.apply_rules`) on sample variants, with
the rule being edited included, before anything is saved.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
import streamlit as st
from pydantic import ValidationError
from sqlalchemy.orm import Session

from streamlit_app import ui
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import VariantRow
from syncstore.errors import InvalidInput
from syncstore.plan import reconcile, rules
from syncstore.plan.rules import Rule
from syncstore.security.auth import Actor, Permission
from syncstore.shops import connections

NEW = 0
SAMPLE_SIZE = 20
ROUNDINGS = {"": "none", "0.90": "end in .90", "0.99": "end in .99", "100": "nearest 100", "1000": "nearest 1,000"}
ORDER_SEEN_KEY = "rules_order_seen"
ADOPTABLE = ["title", "description", "images", "price"]
STOCK_FIELDS = frozenset(
    {"buffer_stock", "allocation_percent", "min_available", "max_quantity", "protect_below", "protect_shop_key",
     "virtual_quantity"}
)  # fmt: skip
STOCK_HELP = (
    "Stock formula, in this order: keep back → list % of the rest → list 0 under the minimum → at most → "
    "sell-out protection (at or under N available, all of it to one shop, 0 to the others). "
    "“Always list” replaces all of them."
)


def _platform_choice(platform: str) -> str:
    """A rule's platform as shown: "" is every platform."""
    return ui.platform_label(platform) if platform else "All platforms"


def _load() -> tuple[list[Rule], list[str], list[str]]:
    with ui.session() as session:
        found = rules.list_rules(session)
        categories = catalog_reads.categories(session)
        shops = [f"{c.platform}-{c.shop_id}" for c in connections.list_connections(session)]
    return found, categories, shops


def _summary(rule: Rule) -> tuple[str, str]:
    """The rule's conditions and actions as shown; the stock formula is said in words, in the order it applies."""
    conditions = {k: v for k, v in rule.conditions.model_dump(mode="json", exclude_defaults=True).items()}
    actions = {
        k: v for k, v in rule.actions.model_dump(mode="json", exclude_defaults=True).items() if k not in STOCK_FIELDS
    }
    stock = rule.actions.stock_summary()
    said = [f"{k}={v}" for k, v in actions.items()] + ([f"stock: {stock}"] if stock else [])
    return ", ".join(f"{k}={v}" for k, v in conditions.items()) or "every variant", ", ".join(said) or "nothing"


def rules_table(found: Sequence[Rule]) -> None:
    if not found:
        st.info("No sync rule yet: every shop gets the master price and all available stock.")
        return
    st.dataframe(
        {
            "Order": list(range(1, len(found) + 1)),
            "Rule": [rule.label for rule in found],
            "Platform": [_platform_choice(rule.platform or "") for rule in found],
            "Priority": [rule.priority for rule in found],
            "Active": [rule.is_active for rule in found],
            "When": [_summary(rule)[0] for rule in found],
            "Then": [_summary(rule)[1] for rule in found],
        },
        hide_index=True,
        width="stretch",
    )


# --- ordering --------------------------------------------------------------------------------


def _as_input(rule: Rule, **changes: Any) -> dict[str, Any]:
    data = rule.model_dump(mode="json", exclude={"id"})
    data.update(changes)
    return data


def move(found: Sequence[Rule], rule_id: int, direction: int, shown: Mapping[int, datetime | None]) -> None:
    """Move an active rule one place up (-1) or down (+1) by giving it a priority past its neighbour's.

    Conditional on both rules being as shown (S2): a move computed from an order someone changed since is refused.
    """
    active = rules.ordered(found)
    index = next(i for i, rule in enumerate(active) if rule.id == rule_id)
    target = index + direction
    if not 0 <= target < len(active):
        return
    neighbour = active[target]
    priority = neighbour.priority + (1 if direction < 0 else -1)
    moved = _as_input(active[index], priority=priority)

    def act(actor: Actor, session: Session) -> object:
        rules.check_version(session, neighbour.id, shown.get(neighbour.id))
        return rules.update_rule(actor, session, rule_id, moved, expected_updated_at=shown.get(rule_id))

    ui.write(act, "Rule moved.")


def ordering(found: Sequence[Rule]) -> None:
    active = rules.ordered(found)
    # The rules as the buttons were drawn last run: a click acts on what the person saw.
    shown: dict[int, datetime | None] = dict(st.session_state.get(ORDER_SEEN_KEY) or {})
    st.session_state[ORDER_SEEN_KEY] = {rule.id: rule.updated_at for rule in found}
    if len(active) < 2:
        return
    st.caption("Order of the active rules (the first matching rule wins):")
    for position, rule in enumerate(active):
        name_col, up_col, down_col = st.columns([8, 1, 1])
        name_col.markdown(f"{position + 1}. **{ui.plain(rule.name)}** (priority {rule.priority})")
        if position > 0 and up_col.button("↑", key=f"rule_up_{rule.id}", help="Apply earlier"):
            move(found, rule.id, -1, shown)
        if position < len(active) - 1 and down_col.button("↓", key=f"rule_down_{rule.id}", help="Apply later"):
            move(found, rule.id, +1, shown)


# --- the form --------------------------------------------------------------------------------


def _decimal(text: str) -> Decimal | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return text  # validation names the field


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def form_key(rule: Rule | None, seen: datetime | None) -> str:
    """The form's widget key prefix: a saved rule's includes the version shown, so a newer one draws afresh."""
    if rule is None:
        return f"rule_{NEW}"
    return f"rule_{rule.id}_{int(seen.timestamp() * 1_000_000) if seen else 0}"


def rule_form(
    rule: Rule | None, categories: Sequence[str], shops: Sequence[str], seen: datetime | None = None
) -> tuple[dict[str, Any], str | None]:
    """The form; returns the entered rule and which button was pressed ("preview", "save" or None)."""
    current = rule or Rule.model_construct(
        id=NEW, name="", description="", platform=None, priority=0, is_active=True,
        conditions=rules.RuleConditions(), actions=rules.RuleActions(),
    )  # fmt: skip
    cond, act = current.conditions, current.actions
    key = form_key(rule, seen)
    choices = ["", *ui.platform_names()]
    with st.form(f"{key}_form"):
        name_col, platform_col, priority_col, active_col = st.columns([4, 2, 1, 1])
        name = name_col.text_input("Name", current.name, key=f"{key}_name")
        platform = platform_col.selectbox(
            "Platform", choices, index=choices.index(current.platform or ""),
            format_func=_platform_choice, key=f"{key}_platform",
        )  # fmt: skip
        priority = priority_col.number_input("Priority", -1000, 1000, current.priority, key=f"{key}_priority")
        active = active_col.checkbox("Active", current.is_active, key=f"{key}_active")
        description = st.text_input("Description", current.description, key=f"{key}_description")
        st.markdown("**When** (every condition given must hold)")
        c1, c2, c3 = st.columns(3)
        chosen_categories = c1.multiselect(
            "Categories", sorted({*categories, *cond.categories}), cond.categories, key=f"{key}_categories"
        )
        chosen_shops = c2.multiselect("Shops", sorted({*shops, *cond.shop_keys}), cond.shop_keys, key=f"{key}_shops")
        sku_pattern = c3.text_input("SKU pattern (e.g. KS-*)", cond.sku_pattern or "", key=f"{key}_sku")
        c4, c5, c6 = st.columns(3)
        min_price = c4.text_input("Master price from", _text(cond.min_price), key=f"{key}_cmin")
        max_price = c5.text_input("Master price up to", _text(cond.max_price), key=f"{key}_cmax")
        tags = c6.text_input("Any of these tags (comma separated)", ", ".join(cond.tags), key=f"{key}_tags")
        st.markdown("**Then**")
        a1, a2, a3, a4, a5 = st.columns(5)
        markup_percent = a1.text_input("Markup %", _text(act.price_markup_percent), key=f"{key}_pct")
        markup_fixed = a2.text_input("Markup amount", _text(act.price_markup_fixed), key=f"{key}_fixed")
        rounding = a3.selectbox(
            "Rounding", list(ROUNDINGS), index=list(ROUNDINGS).index(act.price_rounding or ""),
            format_func=ROUNDINGS.__getitem__, key=f"{key}_rounding",
        )  # fmt: skip
        floor = a4.text_input("Price at least", _text(act.min_price), key=f"{key}_amin")
        ceiling = a5.text_input("Price at most", _text(act.max_price), key=f"{key}_amax")
        st.caption(STOCK_HELP)
        s1, s2, s3, s4 = st.columns(4)
        buffer = s1.number_input("Keep back (units)", 0, None, act.buffer_stock, key=f"{key}_buffer")
        allocation = s2.text_input(
            "List % of the rest", _text(act.allocation_percent), key=f"{key}_alloc",
            help=f"0 to {rules.MAX_ALLOCATION_PERCENT} %; over 100 lists more than you hold (rounded down).",
        )  # fmt: skip
        minimum = s3.number_input(
            "List 0 when available is under", 1, None, act.min_available, key=f"{key}_minq",
            help="Below this many available units, the shop shows 0.",
        )  # fmt: skip
        max_quantity = s4.number_input("List at most", 0, None, act.max_quantity, key=f"{key}_maxq")
        p1, p2, p3, p4 = st.columns(4)
        protect_below = p1.number_input(
            "Sell-out protection: at or under", 0, None, act.protect_below, key=f"{key}_protect_below",
            help="When available is at or under this, all of it goes to the protected shop and 0 to the others.",
        )  # fmt: skip
        shop_choices = ["", *sorted({*shops, *([act.protect_shop_key] if act.protect_shop_key else [])})]
        protect_shop = p2.selectbox(
            "…only to shop", shop_choices, index=shop_choices.index(act.protect_shop_key or ""),
            format_func=lambda k: k or "no protection", key=f"{key}_protect_shop",
        )  # fmt: skip
        virtual = p3.number_input(
            "Always list (virtual quantity)", 0, None, act.virtual_quantity, key=f"{key}_virtual",
            help="Made to order or dropship: every matching shop shows exactly this, whatever the stock.",
        )  # fmt: skip
        exclude = p4.checkbox("Do not list", act.exclude, key=f"{key}_exclude")
        st.caption("⚠️ A virtual quantity can oversell: shops keep selling after the stock is gone.")
        adopt = st.multiselect(
            "Adopt marketplace edits of (instead of a conflict)", ADOPTABLE, list(act.adopt_fields), key=f"{key}_adopt"
        )
        preview_col, save_col = st.columns(2)
        preview = preview_col.form_submit_button("Preview on sample products", icon=":material/visibility:")
        save = save_col.form_submit_button("Save rule", type="primary", icon=":material/save:")
    data = {
        "name": name.strip(), "description": description, "platform": platform or None, "priority": int(priority),
        "is_active": active,
        "conditions": {
            "categories": chosen_categories, "shop_keys": chosen_shops, "sku_pattern": sku_pattern.strip() or None,
            "min_price": _decimal(min_price), "max_price": _decimal(max_price),
            "tags": [t.strip() for t in tags.split(",") if t.strip()],
        },
        "actions": {
            "price_markup_percent": _decimal(markup_percent), "price_markup_fixed": _decimal(markup_fixed),
            "price_rounding": rounding or None, "min_price": _decimal(floor), "max_price": _decimal(ceiling),
            "buffer_stock": _int(buffer), "allocation_percent": _decimal(allocation),
            "max_quantity": _int(max_quantity), "min_available": _int(minimum),
            "protect_below": _int(protect_below), "protect_shop_key": protect_shop or None,
            "virtual_quantity": _int(virtual), "exclude": exclude, "adopt_fields": adopt,
        },
    }  # fmt: skip
    return data, "save" if save else "preview" if preview else None


def _text(value: object) -> str:
    return "" if value is None else str(value)


# --- the preview -----------------------------------------------------------------------------


def _variants_frame(samples: Sequence[VariantRow]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "product_id": [v.product_id for v in samples],
            "variant_id": [v.variant_id for v in samples],
            "sku": [v.sku for v in samples],
            "product_status": [v.product_status for v in samples],
            "variant_active": [v.is_active for v in samples],
            "category": [v.category for v in samples],
            "tags": [list(v.tags) for v in samples],
            "currency": [v.currency for v in samples],
            "price": [v.effective_price for v in samples],
            "stock": [v.stock for v in samples],
            "reserved": [v.reserved for v in samples],
            "available": [v.available for v in samples],
        },
        schema_overrides={"price": reconcile.MONEY, "tags": reconcile.TEXT_LIST},
    )


def preview(draft: Rule | None, found: Sequence[Rule], search: str | None) -> None:
    """Desired price and stock per shop for sample variants, with the draft rule in place of its saved self."""
    engine = ui.engine()
    with ui.session() as session:
        samples = catalog_reads.variant_rows(
            session, filters=catalog_reads.ProductFilter(search=search), limit=SAMPLE_SIZE
        )
    shops = reconcile.load_shops(engine)
    if not samples or shops.is_empty():
        st.info("Nothing to preview: " + ("no variant matches." if not samples else "no shop is connected."))
        return
    product_ids = {v.product_id for v in samples}
    overrides = reconcile.load_overrides(engine).filter(pl.col("product_id").is_in(list(product_ids)))
    in_effect = [r for r in found if draft is None or r.id != draft.id] + ([draft] if draft else [])
    variants = _variants_frame(samples)
    desired = reconcile.desired_state(variants, overrides, shops, functools.partial(rules.apply_rules, rules=in_effect))
    saved = reconcile.desired_state(variants, overrides, shops, functools.partial(rules.apply_rules, rules=found))
    master = {v.variant_id: v for v in samples}
    st.dataframe(
        desired.select(
            pl.col("sku").alias("SKU"),
            pl.col("shop_key").alias("Shop"),
            pl.col("variant_id")
            .replace_strict({k: str(v.effective_price) for k, v in master.items()}, return_dtype=pl.String)
            .alias("Master price"),
            pl.col("desired_price").cast(pl.String).alias("Listed price"),
            pl.col("price_rule").alias("Price rule"),
            pl.col("variant_id")
            .replace_strict({k: v.available for k, v in master.items()}, return_dtype=pl.Int64)
            .alias("Available"),
            pl.col("desired_stock").alias("Listed stock"),
            pl.col("stock_rule").alias("Stock rule"),
            pl.col("excluded").alias("Not listed"),
            pl.col("adopt_fields").list.join(", ").alias("Adopts"),
        ),
        hide_index=True,
        width="stretch",
        key="rules_preview",
    )
    st.markdown("**Stock per shop**: available → listed with this rule; (now N) when the saved rules list N")
    st.dataframe(stock_per_shop(saved, desired), hide_index=True, width="stretch", key="rules_preview_stock")
    if draft is not None and draft.actions.virtual_quantity is not None:
        st.warning(
            f"{ui.plain(draft.name)} lists {draft.actions.virtual_quantity} whatever the stock: "
            "the matching shops can sell more than you hold."
        )


def stock_per_shop(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """One row per variant: SKU, then per shop "available → listed", and "(now N)" when the saved rules list N.

    `before` and `after` are `reconcile.desired_state` frames (same variants and shops) under the
    saved rules and with the draft in effect; an excluded row lists "not listed".
    """

    def listed(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        value = (
            pl.when(pl.col("excluded")).then(pl.lit("not listed")).otherwise(pl.col("desired_stock").cast(pl.String))
        )
        return frame.select("variant_id", "sku", "shop_key", "available", value.alias(name))

    joined = listed(after, "after").join(
        listed(before, "before").select("variant_id", "shop_key", "before"), on=["variant_id", "shop_key"], how="left"
    )
    cell = pl.format("{} → {}", pl.col("available").clip(lower_bound=0), pl.col("after")) + pl.when(
        pl.col("before") == pl.col("after")
    ).then(pl.lit("")).otherwise(pl.format(" (now {})", pl.col("before")))
    wide = joined.with_columns(cell.alias("cell")).pivot(
        on="shop_key", index=["variant_id", "sku"], values="cell", sort_columns=True
    )
    return wide.sort("sku").drop("variant_id").rename({"sku": "SKU"})


# --- writing ---------------------------------------------------------------------------------


def main() -> None:
    ui.current_actor()
    st.title("Rules")
    found, categories, shops = _load()
    rules_table(found)
    can_write = ui.can(Permission.RULES_WRITE)
    if can_write:
        ordering(found)
    else:
        ui.read_only_note(Permission.RULES_WRITE)
    by_id = {rule.id: rule for rule in found}
    options = ([NEW] if can_write else []) + list(by_id)
    if not options:
        return
    chosen = st.selectbox(
        "Edit" if can_write else "Show", options, key="rules_pick",
        format_func=lambda i: "New rule" if i == NEW else by_id[i].label,
    )  # fmt: skip
    rule = by_id.get(chosen) if chosen is not None else None
    search = st.text_input("Sample products for the preview", placeholder="title, handle or SKU", key="rules_sample")
    if not can_write:
        if rule is not None:
            st.json(rule.model_dump(mode="json"))
        if st.button("Preview the saved rules", key="rules_preview_saved"):
            preview(None, found, search or None)
        return
    seen = _seen_version(rule)
    data, pressed = rule_form(rule, categories, shops, seen)
    if pressed == "preview":
        try:
            checked = rules.RuleInput.model_validate(data)
        except ValidationError as error:
            ui.show_error(InvalidInput.from_exception(error))
        else:
            draft = Rule(id=rule.id if rule else max(by_id, default=0) + 1, **checked.model_dump())
            preview(draft, found, search or None)
    elif pressed == "save":
        if rule is None:
            ui.write(lambda actor, session: rules.create_rule(actor, session, data), f"Rule {data['name']} created.")
        else:
            # Saved or refused, the next run draws the rule as it then is.
            st.session_state.pop(_seen_key(rule.id), None)
            ui.write(
                lambda actor, session: rules.update_rule(actor, session, rule.id, data, expected_updated_at=seen),
                f"Rule {rule.name} saved.",
            )
    if rule is not None:
        confirm = st.checkbox(f"Yes, delete {ui.plain(rule.label)}", key=f"rule_delete_confirm_{rule.id}")
        if st.button("Delete rule", disabled=not confirm, key=f"rule_delete_{rule.id}"):
            st.session_state.pop(_seen_key(rule.id), None)
            ui.write(
                lambda actor, session: rules.delete_rule(actor, session, rule.id, expected_updated_at=seen),
                f"Rule {rule.name} deleted.",
            )


def _seen_key(rule_id: int) -> str:
    return f"rules_seen_{rule_id}"


def _seen_version(rule: Rule | None) -> datetime | None:
    """The version of `rule` the person has on screen: kept while its form stays drawn, else the current one."""
    if rule is None:
        return None
    seen = st.session_state.get(_seen_key(rule.id))
    if not isinstance(seen, datetime) or f"{form_key(rule, seen)}_name" not in st.session_state:
        seen = rule.updated_at
        st.session_state[_seen_key(rule.id)] = seen
    return seen


main()
