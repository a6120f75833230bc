# A sync rule in words a merchant reads ("<Platform> shop Kedai Demo: +10 %, ends in .90"), in the user's language.
"""Rules in words.

`when(rule, shop_names)` says which variants and shops a rule applies to, `then(rule, shop_names)`
what it does, `sentence(rule, shop_names)` both ("<Platform> shop Kedai Demo: +10 %, ends in .90").
`shop_names` maps a shop key (<platform>-<shop id>) to the shop's name; shops are never shown by key
when their name is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from streamlit_app import ui
from streamlit_app.i18n import t
from syncstore.plan.rules import RuleActions, RuleInput


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _signed(value: Decimal) -> str:
    return ("+" if value >= 0 else "-") + _number(abs(value))


def shop_name(key: str, shop_names: Mapping[str, str]) -> str:
    """A shop as people know it: its name, else its key (a shop no longer connected)."""
    return shop_names.get(key) or key


def rounding_words(rounding: str | None) -> str:
    if not rounding:
        return t("no rounding")
    return {
        "0.90": t("ends in .90"),
        "0.99": t("ends in .99"),
        "100": t("rounded to the nearest 100"),
        "1000": t("rounded to the nearest 1,000"),
    }[rounding]


def field_words(name: str) -> str:
    return {"title": t("title"), "description": t("description"), "images": t("images"), "price": t("price")}.get(
        name, name
    )


def when(rule: RuleInput, shop_names: Mapping[str, str]) -> str:
    """Which shops and variants the rule applies to, e.g. "<Platform> shop Kedai Demo, SKU LIN-*"."""
    conditions = rule.conditions
    platform = ui.platform_label(rule.platform) if rule.platform else ""
    if conditions.shop_keys:
        names = ", ".join(shop_name(key, shop_names) for key in conditions.shop_keys)
        where = (
            t("{platform} shop {names}", platform=platform, names=names)
            if platform and len(conditions.shop_keys) == 1
            else t("{platform} shops {names}", platform=platform, names=names)
            if platform
            else t("shops {names}", names=names)
        )
    else:
        where = t("every {platform} shop", platform=platform) if platform else t("every shop")
    parts = [where]
    if conditions.categories:
        parts.append(t("category {categories}", categories=", ".join(conditions.categories)))
    if conditions.sku_pattern:
        parts.append(t("SKU {pattern}", pattern=conditions.sku_pattern))
    if conditions.min_price is not None and conditions.max_price is not None:
        parts.append(t("price {low} to {high}", low=_number(conditions.min_price), high=_number(conditions.max_price)))
    elif conditions.min_price is not None:
        parts.append(t("price from {low}", low=_number(conditions.min_price)))
    elif conditions.max_price is not None:
        parts.append(t("price up to {high}", high=_number(conditions.max_price)))
    if conditions.tags:
        parts.append(t("tagged {tags}", tags=" / ".join(conditions.tags)))
    return ", ".join(parts)


def stock_words(actions: RuleActions, shop_names: Mapping[str, str]) -> str:
    """The stock formula in words, in the order it applies ("" when the rule sets no stock)."""
    if actions.virtual_quantity is not None:
        return t("always list {n} whatever the stock (can oversell)", n=actions.virtual_quantity)
    steps: list[str] = []
    if actions.buffer_stock is not None:
        steps.append(t("keep {n} back", n=actions.buffer_stock))
    if actions.allocation_percent is not None:
        steps.append(t("list {percent} % of the rest", percent=_number(actions.allocation_percent)))
    if actions.min_available is not None:
        steps.append(t("list 0 when under {n} available", n=actions.min_available))
    if actions.max_quantity is not None:
        steps.append(t("at most {n}", n=actions.max_quantity))
    if actions.protect_below is not None:
        shop = shop_name(actions.protect_shop_key or "", shop_names)
        steps.append(t("at {n} available or less, all of it to {shop} only", n=actions.protect_below, shop=shop))
    return t(", then ").join(steps)


def then(rule: RuleInput, shop_names: Mapping[str, str]) -> str:
    """What the rule does, e.g. "+10 %, ends in .90, stock: keep 2 back"."""
    actions = rule.actions
    said: list[str] = []
    if actions.exclude:
        said.append(t("not listed"))
    if actions.price_markup_percent is not None:
        said.append(t("{amount} %", amount=_signed(actions.price_markup_percent)))
    if actions.price_markup_fixed is not None:
        said.append(_signed(actions.price_markup_fixed))
    if actions.price_rounding:
        said.append(rounding_words(actions.price_rounding))
    if actions.min_price is not None:
        said.append(t("price at least {amount}", amount=_number(actions.min_price)))
    if actions.max_price is not None:
        said.append(t("price at most {amount}", amount=_number(actions.max_price)))
    stock = stock_words(actions, shop_names)
    if stock:
        said.append(t("stock: {formula}", formula=stock))
    if actions.adopt_fields:
        said.append(
            t("adopts marketplace edits of {fields}", fields=", ".join(field_words(f) for f in actions.adopt_fields))
        )
    return ", ".join(said) or t("changes nothing")


def sentence(rule: RuleInput, shop_names: Mapping[str, str]) -> str:
    """The whole rule in one line: "<Platform> shop Kedai Demo: +10 %, ends in .90"."""
    return t("{when}: {then}", when=when(rule, shop_names), then=then(rule, shop_names))
