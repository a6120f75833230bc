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
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
import streamlit as st
from pydantic import ValidationError

from streamlit_app import rule_words, ui
from streamlit_app.i18n import t, tn
from streamlit_app.shop_names import shop_title
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import VariantRow
from syncstore.errors import InvalidInput
from syncstore.plan import reconcile, rules
from syncstore.plan.rules import Rule
from syncstore.security.auth import Actor, Permission
from syncstore.shops import connections
from syncstore.sync import rule_apply

NEW = 0
SAMPLE_SIZE = 20
ROUNDINGS = ("", "0.90", "0.99", "100", "1000")
APPLIED_KEY = "rules_applied"
ORDER_SEEN_KEY = "rules_order_seen"
ADOPTABLE = ["title", "description", "images", "price"]


def _platform_choice(platform: str) -> str:
    """A rule's platform as shown: "" is every platform."""
    return ui.platform_label(platform) if platform else t("All platforms")


def _rounding_choice(rounding: str) -> str:
    return rule_words.rounding_words(rounding or None)


def stock_help() -> str:
    return t(
        "Stock formula, in this order: keep back → list % of the rest → list 0 under the minimum → at most → "
        "sell-out protection (at or under N available, all of it to one shop, 0 to the others). "
        "“Always list” replaces all of them."
    )


@dataclass(frozen=True)
class Shops:
    """Connected shops by key: the name people know (`names`) and the label a picker shows (`labels`)."""

    names: dict[str, str]
    labels: dict[str, str]
    by_id: dict[int, str]

    def label(self, key: str) -> str:
        return self.labels.get(key) or key

    def listing(self, keys: Sequence[int]) -> str:
        return ", ".join(self.by_id.get(i, str(i)) for i in keys)


def _load() -> tuple[list[Rule], list[str], Shops]:
    with ui.session() as session:
        found = rules.list_rules(session)
        categories = catalog_reads.categories(session)
        rows = connections.list_connections(session)
    names = {f"{c.platform}-{c.shop_id}": c.shop_name.strip() or shop_title(c.platform, "", c.shop_id) for c in rows}
    labels = {f"{c.platform}-{c.shop_id}": shop_title(c.platform, c.shop_name, c.shop_id) for c in rows}
    by_id = {c.id: names[f"{c.platform}-{c.shop_id}"] for c in rows}
    return found, categories, Shops(names, labels, by_id)


def rules_table(found: Sequence[Rule], shops: Shops) -> None:
    if not found:
        st.info(t("No sync rule yet: every shop gets the master price and all available stock."))
        return
    st.dataframe(
        {
            t("Order"): list(range(1, len(found) + 1)),
            t("Rule"): [rule.label for rule in found],
            t("Status"): [t("active") if rule.is_active else t("inactive") for rule in found],
            t("Priority"): [rule.priority for rule in found],
            t("When"): [rule_words.when(rule, shops.names) for rule in found],
            t("Then"): [rule_words.then(rule, shops.names) for rule in found],
        },
        hide_index=True,
        width="stretch",
    )


# --- ordering --------------------------------------------------------------------------------


def _as_input(rule: Rule, **changes: Any) -> dict[str, Any]:
    data = rule.model_dump(mode="json", exclude={"id"})
    data.update(changes)
    return data


def move(
    found: Sequence[Rule], rule_id: int, direction: int, shown: Mapping[int, datetime | None], shops: Shops
) -> None:
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
    try:
        applied = rule_apply.update_and_apply(
            ui.current_actor(), ui.engine(), rule_id, moved, expected_updated_at=shown.get(rule_id),
            unchanged={neighbour.id: shown.get(neighbour.id)},
        )  # fmt: skip
    except Exception as error:
        ui.show_error(error)
        return
    _done(t("Rule moved."), applied, shops)


def ordering(found: Sequence[Rule], shops: Shops) -> None:
    active = rules.ordered(found)
    # The rules as the buttons were drawn last run: a click acts on what the person saw.
    shown: dict[int, datetime | None] = dict(st.session_state.get(ORDER_SEEN_KEY) or {})
    st.session_state[ORDER_SEEN_KEY] = {rule.id: rule.updated_at for rule in found}
    if len(active) < 2:
        return
    st.caption(t("Order of the active rules (the first matching rule wins):"))
    for position, rule in enumerate(active):
        name_col, up_col, down_col = st.columns([8, 1, 1])
        name_col.markdown(
            t("{position}. **{name}** (priority {priority})", position=position + 1, name=ui.plain(rule.name),
              priority=rule.priority)
        )  # fmt: skip
        if position > 0 and up_col.button("↑", key=f"rule_up_{rule.id}", help=t("Apply earlier")):
            move(found, rule.id, -1, shown, shops)
        if position < len(active) - 1 and down_col.button("↓", key=f"rule_down_{rule.id}", help=t("Apply later")):
            move(found, rule.id, +1, shown, shops)


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
    rule: Rule | None, categories: Sequence[str], shops: Shops, seen: datetime | None = None
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
        name = name_col.text_input(t("Name"), current.name, key=f"{key}_name")
        platform = platform_col.selectbox(
            t("Platform"), choices, index=choices.index(current.platform or ""),
            format_func=_platform_choice, key=f"{key}_platform",
        )  # fmt: skip
        priority = priority_col.number_input(t("Priority"), -1000, 1000, current.priority, key=f"{key}_priority")
        active = active_col.checkbox(t("Active"), current.is_active, key=f"{key}_active")
        description = st.text_input(t("Description"), current.description, key=f"{key}_description")
        st.markdown(t("**When** (every condition given must hold)"))
        c1, c2, c3 = st.columns(3)
        chosen_categories = c1.multiselect(
            t("Categories"), sorted({*categories, *cond.categories}), cond.categories, key=f"{key}_categories"
        )
        chosen_shops = c2.multiselect(
            t("Shops"), sorted({*shops.labels, *cond.shop_keys}), cond.shop_keys, format_func=shops.label,
            key=f"{key}_shops",
        )  # fmt: skip
        sku_pattern = c3.text_input(t("SKU pattern (e.g. KS-*)"), cond.sku_pattern or "", key=f"{key}_sku")
        c4, c5, c6 = st.columns(3)
        min_price = c4.text_input(t("Master price from"), _text(cond.min_price), key=f"{key}_cmin")
        max_price = c5.text_input(t("Master price up to"), _text(cond.max_price), key=f"{key}_cmax")
        tags = c6.text_input(t("Any of these tags (comma separated)"), ", ".join(cond.tags), key=f"{key}_tags")
        st.markdown(t("**Then**"))
        a1, a2, a3, a4, a5 = st.columns(5)
        markup_percent = a1.text_input(t("Markup %"), _text(act.price_markup_percent), key=f"{key}_pct")
        markup_fixed = a2.text_input(t("Markup amount"), _text(act.price_markup_fixed), key=f"{key}_fixed")
        rounding = a3.selectbox(
            t("Rounding"), ROUNDINGS, index=ROUNDINGS.index(act.price_rounding or ""),
            format_func=_rounding_choice, key=f"{key}_rounding",
        )  # fmt: skip
        floor = a4.text_input(t("Price at least"), _text(act.min_price), key=f"{key}_amin")
        ceiling = a5.text_input(t("Price at most"), _text(act.max_price), key=f"{key}_amax")
        st.caption(stock_help())
        s1, s2, s3, s4 = st.columns(4)
        buffer = s1.number_input(t("Keep back (units)"), 0, None, act.buffer_stock, key=f"{key}_buffer")
        allocation = s2.text_input(
            t("List % of the rest"), _text(act.allocation_percent), key=f"{key}_alloc",
            help=t("0 to {limit} %; over 100 lists more than you hold (rounded down).",
                   limit=rules.MAX_ALLOCATION_PERCENT),
        )  # fmt: skip
        minimum = s3.number_input(
            t("List 0 when available is under"), 1, None, act.min_available, key=f"{key}_minq",
            help=t("Below this many available units, the shop shows 0."),
        )  # fmt: skip
        max_quantity = s4.number_input(t("List at most"), 0, None, act.max_quantity, key=f"{key}_maxq")
        p1, p2, p3, p4 = st.columns(4)
        protect_below = p1.number_input(
            t("Sell-out protection: at or under"), 0, None, act.protect_below, key=f"{key}_protect_below",
            help=t("When available is at or under this, all of it goes to the protected shop and 0 to the others."),
        )  # fmt: skip
        shop_choices = ["", *sorted({*shops.labels, *([act.protect_shop_key] if act.protect_shop_key else [])})]
        protect_shop = p2.selectbox(
            t("…only to shop"), shop_choices, index=shop_choices.index(act.protect_shop_key or ""),
            format_func=lambda k: shops.label(k) if k else t("no protection"), key=f"{key}_protect_shop",
        )  # fmt: skip
        virtual = p3.number_input(
            t("Always list (virtual quantity)"), 0, None, act.virtual_quantity, key=f"{key}_virtual",
            help=t("Made to order or dropship: every matching shop shows exactly this, whatever the stock."),
        )  # fmt: skip
        exclude = p4.checkbox(t("Do not list"), act.exclude, key=f"{key}_exclude")
        st.caption(
            ui.badge(t("can oversell"), "orange") + " "
            + t("A virtual quantity can oversell: shops keep selling after the stock is gone.")
        )  # fmt: skip
        adopt = st.multiselect(
            t("Adopt marketplace edits of (instead of a conflict)"), ADOPTABLE, list(act.adopt_fields),
            format_func=rule_words.field_words, key=f"{key}_adopt",
        )  # fmt: skip
        preview_col, save_col = st.columns(2)
        preview = preview_col.form_submit_button(t("Preview on sample products"), icon=":material/visibility:")
        save = save_col.form_submit_button(t("Save rule"), type="primary", icon=":material/save:")
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


def preview(draft: Rule | None, found: Sequence[Rule], search: str | None, shops: Shops) -> None:
    """Desired price and stock per shop for sample variants, with the draft rule in place of its saved self."""
    engine = ui.engine()
    with ui.session() as session:
        samples = catalog_reads.variant_rows(
            session, filters=catalog_reads.ProductFilter(search=search), limit=SAMPLE_SIZE
        )
    shop_frame = reconcile.load_shops(engine)
    if not samples:
        st.info(t("Nothing to preview: no variant matches."))
        return
    if shop_frame.is_empty():
        st.info(t("Nothing to preview: no shop is connected."))
        return
    product_ids = {v.product_id for v in samples}
    overrides = reconcile.load_overrides(engine).filter(pl.col("product_id").is_in(list(product_ids)))
    in_effect = [r for r in found if draft is None or r.id != draft.id] + ([draft] if draft else [])
    variants = _variants_frame(samples)
    desired = reconcile.desired_state(
        variants, overrides, shop_frame, functools.partial(rules.apply_rules, rules=in_effect)
    )
    saved = reconcile.desired_state(variants, overrides, shop_frame, functools.partial(rules.apply_rules, rules=found))
    master = {v.variant_id: v for v in samples}
    st.dataframe(
        desired.select(
            pl.col("sku").alias(t("SKU")),
            pl.col("shop_key").replace_strict(shops.labels, default=pl.col("shop_key")).alias(t("Shop")),
            pl.col("variant_id")
            .replace_strict({k: str(v.effective_price) for k, v in master.items()}, return_dtype=pl.String)
            .alias(t("Master price")),
            pl.col("desired_price").cast(pl.String).alias(t("Listed price")),
            pl.col("price_rule").alias(t("Price rule")),
            pl.col("variant_id")
            .replace_strict({k: v.available for k, v in master.items()}, return_dtype=pl.Int64)
            .alias(t("Available")),
            pl.col("desired_stock").alias(t("Listed stock")),
            pl.col("stock_rule").alias(t("Stock rule")),
            pl.col("excluded").alias(t("Not listed")),
            pl.col("adopt_fields")
            .list.eval(
                pl.element().replace_strict({f: rule_words.field_words(f) for f in ADOPTABLE}, default=pl.element())
            )
            .list.join(", ")
            .alias(t("Adopts")),
        ),
        hide_index=True,
        width="stretch",
        key="rules_preview",
    )
    st.markdown(t("**Stock per shop**: available → listed with this rule; (now N) when the saved rules list N"))
    per_shop = stock_per_shop(saved, desired)
    per_shop = per_shop.rename({c: shops.label(c) for c in per_shop.columns if c != "SKU"} | {"SKU": t("SKU")})
    st.dataframe(per_shop, hide_index=True, width="stretch", key="rules_preview_stock")
    if draft is not None and draft.actions.virtual_quantity is not None:
        st.warning(
            t(
                "{name} lists {n} whatever the stock: the matching shops can sell more than you hold.",
                name=ui.plain(draft.name),
                n=draft.actions.virtual_quantity,
            )
        )


def stock_per_shop(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """One row per variant: SKU, then per shop key "available → listed", and "(now N)" when the saved rules list N.

    `before` and `after` are `reconcile.desired_state` frames (same variants and shops) under the
    saved rules and with the draft in effect; an excluded row lists "not listed".
    """

    def listed(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        value = (
            pl.when(pl.col("excluded")).then(pl.lit(t("not listed"))).otherwise(pl.col("desired_stock").cast(pl.String))
        )
        return frame.select("variant_id", "sku", "shop_key", "available", value.alias(name))

    joined = listed(after, "after").join(
        listed(before, "before").select("variant_id", "shop_key", "before"), on=["variant_id", "shop_key"], how="left"
    )
    now = pl.format(" " + t("(now {n})", n="{}"), pl.col("before"))
    cell = pl.format("{} → {}", pl.col("available").clip(lower_bound=0), pl.col("after")) + pl.when(
        pl.col("before") == pl.col("after")
    ).then(pl.lit("")).otherwise(now)
    wide = joined.with_columns(cell.alias("cell")).pivot(
        on="shop_key", index=["variant_id", "sku"], values="cell", sort_columns=True
    )
    return wide.sort("sku").drop("variant_id").rename({"sku": "SKU"})


# --- writing ---------------------------------------------------------------------------------


def _applying(verb: str, applied: rule_apply.Applied, shops: Shops) -> str:
    """What a save did, in words: the rule, and the listings it is being applied to now."""
    if applied.job_id is None:
        return t("{saved} No listed product is affected: nothing to send.", saved=verb)
    products = tn("{n} product", "{n} products", len(applied.scope.product_ids))
    where = shops.listing(applied.scope.connection_ids)
    return t("{saved} Applying it now to {products} in {shops}.", saved=verb, products=products, shops=where)


def save(actor: Actor, rule: Rule | None, data: dict[str, Any], seen: datetime | None, shops: Shops) -> None:
    """Save (or create) the rule and queue its affected listings at once; the page then shows the progress."""
    engine = ui.engine()
    try:
        if rule is None:
            applied = rule_apply.create_and_apply(actor, engine, data)
            verb = t("Rule {name} created.", name=data["name"])
        else:
            # Saved or refused, the next run draws the rule as it then is.
            st.session_state.pop(_seen_key(rule.id), None)
            applied = rule_apply.update_and_apply(actor, engine, rule.id, data, expected_updated_at=seen)
            verb = t("Rule {name} saved.", name=data["name"])
    except Exception as error:
        ui.show_error(error)
        return
    _done(verb, applied, shops)


def delete(actor: Actor, rule: Rule, seen: datetime | None, shops: Shops) -> None:
    st.session_state.pop(_seen_key(rule.id), None)
    try:
        applied = rule_apply.delete_and_apply(actor, ui.engine(), rule.id, expected_updated_at=seen)
    except Exception as error:
        ui.show_error(error)
        return
    _done(t("Rule {name} deleted.", name=rule.name), applied, shops)


def _done(verb: str, applied: rule_apply.Applied, shops: Shops) -> None:
    message = _applying(verb, applied, shops)
    st.session_state[APPLIED_KEY] = (message, applied.job_id)
    ui.after_write(verb)
    st.rerun()


def applied_section() -> None:
    """The last save's message and the progress of applying it (until the person dismisses it)."""
    shown = st.session_state.get(APPLIED_KEY)
    if not shown:
        return
    message, job_id = shown
    st.success(ui.plain(message))
    if job_id is not None:
        ui.job_progress(job_id)
    if st.button(t("Dismiss"), key="rules_applied_dismiss"):
        st.session_state.pop(APPLIED_KEY, None)
        st.rerun()


def main() -> None:
    actor = ui.current_actor()
    st.title(t("Rules"))
    found, categories, shops = _load()
    applied_section()
    rules_table(found, shops)
    can_write = ui.can(Permission.RULES_WRITE)
    if can_write:
        ordering(found, shops)
    else:
        ui.read_only_note(Permission.RULES_WRITE)
    by_id = {rule.id: rule for rule in found}
    options = ([NEW] if can_write else []) + list(by_id)
    if not options:
        return
    chosen = st.selectbox(
        t("Edit") if can_write else t("Show"), options, key="rules_pick",
        format_func=lambda i: t("New rule") if i == NEW else by_id[i].label,
    )  # fmt: skip
    rule = by_id.get(chosen) if chosen is not None else None
    search = st.text_input(
        t("Sample products for the preview"), placeholder=t("title, handle or SKU"), key="rules_sample"
    )
    if not can_write:
        if rule is not None:
            st.markdown(ui.plain(rule_words.sentence(rule, shops.names)))
        if st.button(t("Preview the saved rules"), key="rules_preview_saved"):
            preview(None, found, search or None, shops)
        return
    if rule is not None:
        st.caption(ui.plain(rule_words.sentence(rule, shops.names)))
    seen = _seen_version(rule)
    data, pressed = rule_form(rule, categories, shops, seen)
    if pressed == "preview":
        try:
            checked = rules.RuleInput.model_validate(data)
        except ValidationError as error:
            ui.show_error(InvalidInput.from_exception(error))
        else:
            draft = Rule(id=rule.id if rule else max(by_id, default=0) + 1, **checked.model_dump())
            st.markdown(t("**This rule**: {words}", words=ui.plain(rule_words.sentence(draft, shops.names))))
            preview(draft, found, search or None, shops)
    elif pressed == "save":
        save(actor, rule, data, seen, shops)
    if rule is not None:
        confirm = st.checkbox(t("Yes, delete {rule}", rule=ui.plain(rule.label)), key=f"rule_delete_confirm_{rule.id}")
        if st.button(t("Delete rule"), disabled=not confirm, key=f"rule_delete_{rule.id}"):
            delete(actor, rule, seen, shops)


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
