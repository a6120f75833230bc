# Rules in words: what the Rules page shows for a rule, with shop names and the user's language.
from __future__ import annotations

import pytest

from streamlit_app import i18n, rule_words
from syncstore.plan.rules import RuleInput

NAMES = {"shopee-1001": "Kedai Demo", "tiktokshop-7001": "Kedai TikTok"}


def rule(**fields: object) -> RuleInput:
    return RuleInput.model_validate({"name": "r", **fields})


def test_a_rule_reads_as_a_sentence_with_the_shop_name() -> None:
    markup = rule(platform="shopee", conditions={"shop_keys": ["shopee-1001"]},
                  actions={"price_markup_percent": "10", "price_rounding": "0.90"})  # fmt: skip
    assert rule_words.sentence(markup, NAMES) == "Shopee shop Kedai Demo: +10 %, ends in .90"


def test_conditions_stock_and_exclusions_in_words() -> None:
    full = rule(
        conditions={"categories": ["Fashion"], "sku_pattern": "KS-*", "min_price": "10", "tags": ["sale", "new"]},
        actions={"price_markup_fixed": "-2.50", "buffer_stock": 2, "max_quantity": 5, "protect_below": 1,
                 "protect_shop_key": "tiktokshop-7001", "adopt_fields": ["title"]},
    )  # fmt: skip
    assert rule_words.when(full, NAMES) == "every shop, category Fashion, SKU KS-*, price from 10, tagged sale / new"
    assert rule_words.then(full, NAMES) == (
        "-2.5, stock: keep 2 back, then at most 5, then at 1 available or less, all of it to Kedai TikTok only, "
        "adopts marketplace edits of title"
    )
    assert rule_words.then(rule(actions={"exclude": True}), NAMES) == "not listed"
    assert rule_words.then(rule(), NAMES) == "changes nothing"
    # A shop no longer connected is still named, by its key.
    assert rule_words.when(rule(conditions={"shop_keys": ["shopee-9"]}), NAMES) == "shops shopee-9"


def test_in_bahasa_malaysia(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "current_language", lambda: "ms")
    markup = rule(platform="shopee", conditions={"shop_keys": ["shopee-1001"]},
                  actions={"price_markup_percent": "10", "price_rounding": "0.90", "buffer_stock": 1})  # fmt: skip
    assert rule_words.sentence(markup, NAMES) == "Kedai Shopee Kedai Demo: +10 %, berakhir dengan .90, stok: simpan 1"
