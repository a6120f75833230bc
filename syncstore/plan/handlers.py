# One handler per planned-change variant: the platform call it makes and what its answer means, without a database.
"""Handlers.

A handler turns the valid changes of one variant into `Call`s. A call runs against the shop's
connector and returns one `Outcome` per change: success or failure (per SKU for batch writes that
fail partly), the JSON response for the sync log, and on success the `SnapshotWrite` that moves the
snapshot's remote value and the baseline to what was sent. A call raises `ConnectorError` when the
platform refuses it as a whole. The database side (logs, writes, stopping on quota or revoked
authorization) is `syncstore.sync.apply`'s; nothing here reads or writes the database.

Grouping follows the platform's limits: one item per price or stock call (the connector packs the
SKUs), one call per listing's content, one call per kind of status change (the connector packs the
items), one call per listing to create, one call per listed item to add variants to. Binds make no call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias, TypeVar

from connectors.base import (
    AttributeChoice,
    Connector,
    Dimensions,
    ListingDraft,
    ListingFields,
    SkuDraft,
    SkuResult,
    WriteResult,
)
from syncstore.media.errors import MediaError
from syncstore.plan.changes import (
    Activate,
    AddVariant,
    Bind,
    CreateListing,
    Deactivate,
    JsonObject,
    PlannedChange,
    UpdateContent,
    UpdatePrice,
    UpdateStock,
)

# --- what a call leaves behind ----------------------------------------------------------------


@dataclass(frozen=True)
class SkuPriceWritten:
    listing_sku_id: int
    price: Decimal


@dataclass(frozen=True)
class SkuStockWritten:
    listing_sku_id: int
    stock: int


@dataclass(frozen=True)
class ContentWritten:
    listing_id: int
    change: UpdateContent


@dataclass(frozen=True)
class StatusWritten:
    listing_id: int
    active: bool


@dataclass(frozen=True)
class SkuBound:
    listing_sku_id: int
    variant_id: int
    product_id: int | None


@dataclass(frozen=True)
class ListingCreated:
    change: CreateListing
    item_id: str
    sku_ids: Mapping[str, str]  # seller SKU -> remote SKU id
    in_review: bool = False  # the platform audits it before it goes live


@dataclass(frozen=True)
class VariantAdded:
    change: AddVariant
    listing_id: int
    remote_sku_id: str
    in_review: bool = False


SnapshotWrite: TypeAlias = (
    SkuPriceWritten | SkuStockWritten | ContentWritten | StatusWritten | SkuBound | ListingCreated | VariantAdded
)


@dataclass(frozen=True)
class Outcome:
    change: PlannedChange
    ok: bool
    response: JsonObject | None = None
    error: str | None = None
    remote_item_id: str | None = None
    write: SnapshotWrite | None = None


@dataclass(frozen=True)
class Call:
    """One platform call (or none, `remote` False) for `changes`; `run` raises ConnectorError if refused whole."""

    changes: tuple[PlannedChange, ...]
    run: Callable[[Connector], list[Outcome]]
    remote: bool = True


# A listing's image references -> the ids this shop's platform gave them (uploading what it lacks);
# raises MediaError or ConnectorError. `syncstore.sync.apply` passes `syncstore.media.ensure_uploaded`
# bound to the shop; without one, references are sent as they are.
ImageIds: TypeAlias = Callable[[Connector, Sequence[str]], tuple[str, ...]]


def _image_ids(images: ImageIds | None, connector: Connector, refs: Sequence[str]) -> tuple[str, ...]:
    return tuple(refs) if images is None else images(connector, refs)


def _failed(change: PlannedChange, error: str, result: SkuResult | None = None) -> Outcome:
    return Outcome(change, False, response=result.model_dump() if result is not None else None, error=error)


# --- the handlers -------------------------------------------------------------------------------


def bind_calls(changes: Sequence[Bind]) -> list[Call]:
    """Binding a remote SKU to its master variant: no platform call, the snapshot only."""
    if not changes:
        return []

    def run(_connector: Connector) -> list[Outcome]:
        outcomes = []
        for change in changes:
            if change.listing_sku_id is None or change.variant_id is None:
                outcomes.append(_failed(change, "nothing to bind: no listing SKU or no variant"))
                continue
            bound = SkuBound(change.listing_sku_id, change.variant_id, change.product_id)
            outcomes.append(Outcome(change, True, response={"bound": True}, write=bound))
        return outcomes

    return [Call(tuple(changes), run, remote=False)]


def content_calls(changes: Sequence[UpdateContent], images: ImageIds | None = None) -> list[Call]:
    """Title, description and images of one listing per call (images as the shop's uploaded image ids)."""
    return [Call((change,), _content_call(change, images)) for change in changes]


def _content_call(change: UpdateContent, images: ImageIds | None) -> Callable[[Connector], list[Outcome]]:
    def run(connector: Connector) -> list[Outcome]:
        if change.remote_item_id is None or change.listing_id is None:
            return [_failed(change, "the listing has no remote item")]
        try:
            ids = None if change.images is None else _image_ids(images, connector, change.images)
        except MediaError as error:
            return [_failed(change, f"images: {error}")]
        fields = ListingFields(title=change.title, description=change.description, images=ids)
        connector.update_fields(change.remote_item_id, fields)
        written = ContentWritten(change.listing_id, change)
        return [
            Outcome(change, True, response={"updated": [str(name) for name in sorted(change.fields)]}, write=written)
        ]

    return run


def price_calls(changes: Sequence[UpdatePrice]) -> list[Call]:
    """One call per item with the new price of each of its SKUs."""
    calls = []
    for item_id, group in _per_item(changes).items():
        prices = {str(c.remote_sku_id): c.price for c in group if c.price is not None}

        def send(connector: Connector, item_id: str = item_id, prices: dict[str, Decimal] = prices) -> WriteResult:
            return connector.update_price(item_id, prices)

        def written(change: UpdatePrice, listing_sku_id: int) -> SkuPriceWritten | None:
            return None if change.price is None else SkuPriceWritten(listing_sku_id, change.price)

        calls.append(Call(tuple(group), _sku_write(group, send, written)))
    return calls


def stock_calls(changes: Sequence[UpdateStock]) -> list[Call]:
    """One call per item with the new stock of each of its SKUs."""
    calls = []
    for item_id, group in _per_item(changes).items():
        stock = {str(c.remote_sku_id): c.stock for c in group if c.stock is not None}

        def send(connector: Connector, item_id: str = item_id, stock: dict[str, int] = stock) -> WriteResult:
            return connector.update_stock(item_id, stock)

        def written(change: UpdateStock, listing_sku_id: int) -> SkuStockWritten | None:
            return None if change.stock is None else SkuStockWritten(listing_sku_id, change.stock)

        calls.append(Call(tuple(group), _sku_write(group, send, written)))
    return calls


SkuChange = TypeVar("SkuChange", UpdatePrice, UpdateStock)


def _per_item(changes: Sequence[SkuChange]) -> dict[str, list[SkuChange]]:
    per_item: dict[str, list[SkuChange]] = defaultdict(list)
    for change in changes:
        per_item[str(change.remote_item_id)].append(change)
    return per_item


def _sku_write(
    group: Sequence[SkuChange],
    send: Callable[[Connector], WriteResult],
    written: Callable[[SkuChange, int], SnapshotWrite | None],
) -> Callable[[Connector], list[Outcome]]:
    """A batch write's outcome per SKU: a SKU the platform refused or left out fails alone."""

    def run(connector: Connector) -> list[Outcome]:
        results: dict[str, SkuResult] = {r.sku_id: r for r in send(connector).results}
        outcomes = []
        for change in group:
            sku_id = str(change.remote_sku_id)
            result = results.get(sku_id)
            write = written(change, change.listing_sku_id) if change.listing_sku_id is not None else None
            if result is None or not result.ok or write is None:
                reason = result.message if result is not None else "the platform did not answer for this SKU"
                outcomes.append(_failed(change, f"{sku_id}: {reason}", result))
                continue
            outcomes.append(Outcome(change, True, response=result.model_dump(), write=write))
        return outcomes

    return run


def activate_calls(changes: Sequence[Activate]) -> list[Call]:
    return _status_calls(changes, active=True)


def deactivate_calls(changes: Sequence[Deactivate]) -> list[Call]:
    return _status_calls(changes, active=False)


def _status_calls(changes: Sequence[Activate] | Sequence[Deactivate], *, active: bool) -> list[Call]:
    """Every listing to (de)activate in one call: the connector packs them to the platform's batch size."""
    if not changes:
        return []
    by_item: dict[str, Activate | Deactivate] = {str(c.remote_item_id): c for c in changes}

    def run(connector: Connector) -> list[Outcome]:
        results = {r.sku_id: r for r in connector.set_active(list(by_item), active)}
        outcomes = []
        for item_id, change in by_item.items():
            result = results.get(item_id)
            if result is None or not result.ok or change.listing_id is None:
                reason = result.message if result is not None else "the platform did not answer for this item"
                outcomes.append(_failed(change, f"{item_id}: {reason}", result))
                continue
            written = StatusWritten(change.listing_id, active)
            outcomes.append(Outcome(change, True, response=result.model_dump(), write=written))
        return outcomes

    return [Call(tuple(by_item.values()), run)]


def create_calls(changes: Sequence[CreateListing], images: ImageIds | None = None) -> list[Call]:
    """One call per listing to create, carrying the change's key to the platform (and its uploaded image ids)."""
    return [Call((change,), _create_call(change, images)) for change in changes]


def draft(change: CreateListing, image_ids: Sequence[str] | None = None) -> ListingDraft | None:
    """The listing draft the platform receives (`image_ids` in place of the change's image references);
    None when the change lacks what a draft needs."""
    if change.title is None or change.category_id is None or change.weight_kg is None or change.currency is None:
        return None
    skus = []
    for sku in change.skus:
        if sku.price is None or sku.stock is None:
            return None
        skus.append(SkuDraft(seller_sku=sku.seller_sku, price=sku.price, stock=sku.stock, attributes=sku.attributes))
    box = change.dimensions
    return ListingDraft(
        title=change.title, description=change.description, category_id=change.category_id,
        images=change.images if image_ids is None else tuple(image_ids), weight_kg=change.weight_kg,
        dimensions=Dimensions(**{k: Decimal(v) for k, v in box.items()}) if box else None,
        currency=change.currency, skus=tuple(skus), idempotency_key=change.draft_key,
        brand_id=change.brand_id,
        attributes=tuple(AttributeChoice(attribute_id=a.attribute_id, value_ids=a.value_ids, text=a.text)
                         for a in change.attributes),
        logistics_channel_ids=change.logistics_channel_ids, location_id=change.location_id,
    )  # fmt: skip


def _create_call(change: CreateListing, images: ImageIds | None) -> Callable[[Connector], list[Outcome]]:
    def run(connector: Connector) -> list[Outcome]:
        if draft(change) is None:
            return [_failed(change, "the listing draft is incomplete (title, category, weight, currency, prices)")]
        try:
            ids = _image_ids(images, connector, change.images)
        except MediaError as error:
            return [_failed(change, f"images: {error}")]
        listing = draft(change, ids)
        if listing is None:  # pragma: no cover - checked above
            return [_failed(change, "the listing draft is incomplete")]
        created = connector.create_listing(listing)
        response: JsonObject = {"item_id": created.item_id, "sku_ids": dict(created.sku_ids),
                                "in_review": created.in_review}  # fmt: skip
        write = ListingCreated(change, created.item_id, dict(created.sku_ids), created.in_review)
        return [Outcome(change, True, response=response, remote_item_id=created.item_id, write=write)]

    return run


def add_variant_calls(changes: Sequence[AddVariant]) -> list[Call]:
    """One call per listed item with its new variants (`Connector.add_variants`); each is bound like a create."""
    per_item: dict[str, list[AddVariant]] = defaultdict(list)
    for change in changes:
        per_item[str(change.remote_item_id)].append(change)
    return [Call(tuple(group), _add_variant_call(item_id, group)) for item_id, group in per_item.items()]


def _add_variant_call(item_id: str, group: Sequence[AddVariant]) -> Callable[[Connector], list[Outcome]]:
    def run(connector: Connector) -> list[Outcome]:
        ready = [c for c in group if c.new_sku is not None and c.new_sku.price is not None
                 and c.new_sku.stock is not None and c.listing_id is not None]  # fmt: skip
        outcomes = [_failed(c, "the new variant is incomplete (price, stock or listing)") for c in group
                    if c not in ready]  # fmt: skip
        if not ready:
            return outcomes
        skus = []
        for change in ready:
            assert change.new_sku is not None and change.new_sku.price is not None and change.new_sku.stock is not None
            skus.append(SkuDraft(seller_sku=change.new_sku.seller_sku, price=change.new_sku.price,
                                 stock=change.new_sku.stock, attributes=change.new_sku.attributes))  # fmt: skip
        added = connector.add_variants(item_id, skus, ready[0].location_id)
        for change in ready:
            assert change.new_sku is not None and change.listing_id is not None
            sku_id = added.sku_ids.get(change.new_sku.seller_sku)
            if sku_id is None:
                outcomes.append(_failed(change, f"{item_id}: the platform did not add {change.new_sku.seller_sku}"))
                continue
            response: JsonObject = {"item_id": item_id, "sku_id": sku_id, "in_review": added.in_review}
            write = VariantAdded(change, change.listing_id, sku_id, added.in_review)
            outcomes.append(Outcome(change, True, response=response, remote_item_id=item_id, write=write))
        return outcomes

    return run


Handled = TypeVar("Handled", Bind, UpdateContent, UpdatePrice, UpdateStock, Activate, Deactivate, CreateListing,
                  AddVariant)  # fmt: skip


def _only(changes: Sequence[PlannedChange], kind: type[Handled]) -> list[Handled]:
    return [change for change in changes if isinstance(change, kind)]


def calls_for(changes: Sequence[PlannedChange], images: ImageIds | None = None) -> list[Call]:
    """The calls that apply these changes, each variant by its handler, in the order they are sent:
    binds, content, prices, stock, activations, deactivations, creates. Adopt changes make no call
    (`syncstore.sync.engine.sync_shop` takes them into the overrides) and are left out. `images`
    turns image references into the shop's image ids for content and create calls."""
    return [
        *bind_calls(_only(changes, Bind)),
        *content_calls(_only(changes, UpdateContent), images),
        *price_calls(_only(changes, UpdatePrice)),
        *stock_calls(_only(changes, UpdateStock)),
        *activate_calls(_only(changes, Activate)),
        *deactivate_calls(_only(changes, Deactivate)),
        *create_calls(_only(changes, CreateListing), images),
        *add_variant_calls(_only(changes, AddVariant)),
    ]
