# Each planned change's handler against a recording connector, without a database: the call, the outcome, the write.
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

from connectors.base import (
    ConnectorError,
    CreatedListing,
    ListingDraft,
    ListingFields,
    QuotaExhausted,
    SkuDraft,
    SkuResult,
    WriteResult,
)
from syncstore.plan import handlers
from syncstore.plan.changes import (
    Activate,
    AddVariant,
    Adopt,
    Bind,
    ChosenAttribute,
    CreateListing,
    Deactivate,
    NewSku,
    PlannedChange,
    UpdateContent,
    UpdatePrice,
    UpdateStock,
)
from syncstore.plan.handlers import (
    ContentWritten,
    ListingCreated,
    Outcome,
    SkuBound,
    SkuPriceWritten,
    SkuStockWritten,
    StatusWritten,
    VariantAdded,
)

D = Decimal


class RecordingConnector:
    """The calls a handler makes, answered as configured: `refuse` SKU or item ids fail, `silent` ones go unanswered."""

    platform = "shopee"

    def __init__(self, refuse: Sequence[str] = (), silent: Sequence[str] = ()) -> None:
        self.calls: list[tuple[str, object]] = []
        self.refuse, self.silent = set(refuse), set(silent)

    def _results(self, ids: Sequence[str]) -> tuple[SkuResult, ...]:
        return tuple(
            SkuResult(sku_id=i, ok=i not in self.refuse, error_code="error_param" if i in self.refuse else None,
                      message="refused" if i in self.refuse else None)
            for i in ids
            if i not in self.silent
        )  # fmt: skip

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        self.calls.append(("update_price", (item_id, dict(prices))))
        return WriteResult(item_id=item_id, results=self._results(list(prices)))

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        self.calls.append(("update_stock", (item_id, dict(stock))))
        return WriteResult(item_id=item_id, results=self._results(list(stock)))

    def update_fields(self, item_id: str, fields: ListingFields) -> None:
        self.calls.append(("update_fields", (item_id, fields)))

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]:
        self.calls.append(("set_active", (list(item_ids), active)))
        return list(self._results(item_ids))

    def add_variants(self, item_id: str, skus: Sequence[SkuDraft], location_id: str | None = None) -> CreatedListing:
        self.calls.append(("add_variants", (item_id, [s.seller_sku for s in skus], location_id)))
        added = {s.seller_sku: f"m-{s.seller_sku}" for s in skus if s.seller_sku not in self.refuse}
        return CreatedListing(item_id=item_id, sku_ids=added)

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        self.calls.append(("create_listing", draft))
        return CreatedListing(item_id="9900", sku_ids={sku.seller_sku: f"m-{sku.seller_sku}" for sku in draft.skus})


def run(calls: Sequence[handlers.Call], connector: RecordingConnector) -> list[Outcome]:
    return [outcome for call in calls for outcome in call.run(connector)]


def price(sku: int, item: str, value: str) -> UpdatePrice:
    return UpdatePrice(price=D(value), product_id=1, variant_id=sku, listing_id=int(item), listing_sku_id=sku,
                       remote_item_id=item, remote_sku_id=f"s{sku}")  # fmt: skip


def test_prices_are_sent_as_decimals_one_item_per_call_and_a_refused_sku_fails_alone() -> None:
    changes = [price(1, "100", "12.50"), price(2, "100", "13.00"), price(3, "200", "9.90")]
    connector = RecordingConnector(refuse=["s2"])
    calls = handlers.price_calls(changes)
    assert [len(call.changes) for call in calls] == [2, 1]
    outcomes = run(calls, connector)
    assert connector.calls == [
        ("update_price", ("100", {"s1": D("12.50"), "s2": D("13.00")})),
        ("update_price", ("200", {"s3": D("9.90")})),
    ]
    assert [(o.ok, o.write) for o in outcomes] == [
        (True, SkuPriceWritten(1, D("12.50"))), (False, None), (True, SkuPriceWritten(3, D("9.90"))),
    ]  # fmt: skip
    assert outcomes[1].error == "s2: refused" and outcomes[1].response is not None
    assert outcomes[1].response["error_code"] == "error_param"


def test_stock_a_sku_the_platform_does_not_answer_for_fails_and_keeps_its_baseline() -> None:
    changes = [
        UpdateStock(
            stock=n, product_id=1, listing_id=100, listing_sku_id=n, remote_item_id="100", remote_sku_id=f"s{n}"
        )
        for n in (4, 5)
    ]
    connector = RecordingConnector(silent=["s5"])
    outcomes = run(handlers.stock_calls(changes), connector)
    assert connector.calls == [("update_stock", ("100", {"s4": 4, "s5": 5}))]
    assert [(o.ok, o.write) for o in outcomes] == [(True, SkuStockWritten(4, 4)), (False, None)]
    assert outcomes[1].error == "s5: the platform did not answer for this SKU"


def test_content_sends_only_the_fields_that_change() -> None:
    change = UpdateContent(fields=("title",), title="Linen shirt, blue", product_id=1, listing_id=100,
                           remote_item_id="100")  # fmt: skip
    connector = RecordingConnector()
    [outcome] = run(handlers.content_calls([change]), connector)
    assert connector.calls == [("update_fields", ("100", ListingFields(title="Linen shirt, blue")))]
    assert outcome.ok and outcome.write == ContentWritten(100, change) and outcome.response == {"updated": ["title"]}


@pytest.mark.parametrize(("kind", "active"), [(Activate, True), (Deactivate, False)])
def test_status_changes_go_in_one_call_and_each_item_has_its_outcome(
    kind: type[Activate] | type[Deactivate], active: bool
) -> None:
    changes = [kind(product_id=p, listing_id=p, remote_item_id=str(p)) for p in (100, 200)]
    connector = RecordingConnector(refuse=["200"])
    calls = handlers.activate_calls(changes) if active else handlers.deactivate_calls(changes)
    outcomes = run(calls, connector)
    assert connector.calls == [("set_active", (["100", "200"], active))]
    assert [(o.ok, o.write) for o in outcomes] == [(True, StatusWritten(100, active)), (False, None)]
    assert outcomes[1].error == "200: refused"


def draft_change(**values: object) -> CreateListing:
    fields: dict[str, object] = {
        "title": "Linen shirt", "description": "Soft", "category_id": "100017", "images": ("a.jpg",),
        "weight_kg": D("0.30"), "dimensions": {"length_cm": "30", "width_cm": "20", "height_cm": "2.5"},
        "currency": "MYR", "draft_key": "ss-1-1-0", "generation": 0, "product_id": 1,
        "skus": (NewSku(variant_id=10, seller_sku="LIN-10", price=D("10.00"), stock=5, attributes={"Size": "M"}),),
    }  # fmt: skip
    return CreateListing(**{**fields, **values})


def test_a_create_sends_the_draft_with_its_key_and_binds_the_new_skus() -> None:
    change = draft_change()
    connector = RecordingConnector()
    [outcome] = run(handlers.create_calls([change]), connector)
    [(name, draft)] = connector.calls
    assert name == "create_listing" and isinstance(draft, ListingDraft)
    assert draft.idempotency_key == "ss-1-1-0" and draft.weight_kg == D("0.30")
    assert draft.dimensions is not None and draft.dimensions.height_cm == D("2.5")
    assert [(s.seller_sku, s.price, s.stock, dict(s.attributes)) for s in draft.skus] == [
        ("LIN-10", D("10.00"), 5, {"Size": "M"})
    ]
    assert outcome.ok and outcome.remote_item_id == "9900"
    assert outcome.write == ListingCreated(change, "9900", {"LIN-10": "m-LIN-10"})
    assert outcome.response == {"item_id": "9900", "sku_ids": {"LIN-10": "m-LIN-10"}, "in_review": False}


def test_an_incomplete_draft_is_not_sent() -> None:
    connector = RecordingConnector()
    [outcome] = run(handlers.create_calls([draft_change(weight_kg=None)]), connector)
    assert connector.calls == [] and not outcome.ok and "incomplete" in (outcome.error or "")


def test_a_bind_makes_no_call() -> None:
    change = Bind(seller_sku="LIN-10", product_id=1, variant_id=10, listing_id=100, listing_sku_id=1000,
                  remote_item_id="100", remote_sku_id="s1")  # fmt: skip
    connector = RecordingConnector()
    [call] = handlers.bind_calls([change])
    assert not call.remote
    assert call.run(connector) == [Outcome(change, True, response={"bound": True}, write=SkuBound(1000, 10, 1))]
    assert connector.calls == []


def new_variant(variant_id: int, sku: str, **values: object) -> AddVariant:
    fields: dict[str, object] = {
        "product_id": 1, "variant_id": variant_id, "sku": sku, "listing_id": 100, "remote_item_id": "9100",
        "new_sku": NewSku(variant_id=variant_id, seller_sku=sku, price=D("11.00"), stock=4, attributes={"Size": "L"}),
        "currency": "MYR", "location_id": "WH-2",
    }  # fmt: skip
    return AddVariant(**{**fields, **values})


def test_new_variants_of_one_item_are_added_in_one_call_and_bound() -> None:
    first, second = new_variant(11, "LIN-11"), new_variant(12, "LIN-12")
    connector = RecordingConnector(refuse=["LIN-12"])
    outcomes = run(handlers.add_variant_calls([first, second]), connector)
    assert connector.calls == [("add_variants", ("9100", ["LIN-11", "LIN-12"], "WH-2"))]
    assert outcomes[0].ok and outcomes[0].write == VariantAdded(first, 100, "m-LIN-11")
    assert not outcomes[1].ok and "did not add LIN-12" in (outcomes[1].error or "")


def test_a_create_carries_brand_attributes_logistics_and_location() -> None:
    attributes = (ChosenAttribute("100", ("7",)), ChosenAttribute("101", (), "Cotton"))
    change = draft_change(brand_id="B1", logistics_channel_ids=("2001",), location_id="WH-1", attributes=attributes)
    connector = RecordingConnector()
    run(handlers.create_calls([change]), connector)
    [(_, draft)] = connector.calls
    assert isinstance(draft, ListingDraft)
    assert (draft.brand_id, draft.logistics_channel_ids, draft.location_id) == ("B1", ("2001",), "WH-1")
    assert [(a.attribute_id, a.value_ids, a.text) for a in draft.attributes] == [
        ("100", ("7",), None), ("101", (), "Cotton"),
    ]  # fmt: skip


def test_a_refused_call_raises_for_the_runner_to_fail_its_changes() -> None:
    class Exhausted(RecordingConnector):
        def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
            raise QuotaExhausted("daily quota used", platform="shopee")

    with pytest.raises(ConnectorError):
        run(handlers.price_calls([price(1, "100", "12.50")]), Exhausted())


def test_every_change_but_adopt_has_its_handler_in_the_order_they_are_sent() -> None:
    changes: list[PlannedChange] = [
        draft_change(),
        Deactivate(product_id=2, listing_id=200, remote_item_id="200"),
        Activate(product_id=3, listing_id=300, remote_item_id="300"),
        UpdateStock(stock=1, product_id=1, listing_id=100, listing_sku_id=1, remote_item_id="100", remote_sku_id="s1"),
        price(1, "100", "12.50"),
        UpdateContent(fields=("title",), title="T", product_id=1, listing_id=100, remote_item_id="100"),
        Bind(seller_sku="X", product_id=1, variant_id=10, listing_sku_id=1000, remote_sku_id="s1"),
        Adopt(field="price", value=D("8.50"), product_id=1, variant_id=10, listing_sku_id=1000),
    ]
    calls = handlers.calls_for(changes)
    assert [call.changes[0].operation for call in calls] == [
        "bind", "update_fields", "update_price", "update_stock", "activate", "deactivate", "create",
    ]  # fmt: skip
