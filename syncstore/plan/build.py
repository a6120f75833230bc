# Building one shop's plan: the reconcile diff rows turned into validated, keyed, typed changes and conflicts.
"""From the three-way diff (`syncstore.plan.reconcile.plan`) to the changes the sync sends.

Each diff row is read as a `DiffRow` (the frame's columns, typed). Each change carries its validation
issues against the platform's rules (`syncstore.plan.validation`); a change with issues is not sent.
Its idempotency key is derived from the change itself (see `syncstore.plan.changes`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final, Literal, NotRequired, TypeAlias, TypedDict, cast

import polars as pl
import sqlalchemy as sa

from syncstore.plan import inputs as sync_inputs
from syncstore.plan import reconcile
from syncstore.plan import validation as sync_validation
from syncstore.plan.changes import (
    OPERATIONS,
    Activate,
    AddVariant,
    Adopt,
    AdoptedValue,
    Bind,
    ContentField,
    CreateListing,
    Deactivate,
    NewSku,
    PlannedChange,
    UpdateContent,
    UpdatePrice,
    UpdateStock,
    ValidationIssue,
)
from syncstore.plan.conflicts import FoundConflict
from syncstore.plan.inputs import CatalogInputs, Shop, desired

FieldName: TypeAlias = Literal["price", "stock", "title", "description", "images"]
ITEM_FIELDS: Final[tuple[ContentField, ...]] = ("title", "description", "images")
REVIEW_FAILED: Final = "review_failed"  # connectors.base.ListingStatus.REVIEW_FAILED
# A remote value the baseline catches up with: a price, a stock level, a title or description, images.
BaselineValue: TypeAlias = Decimal | int | str | list[str] | None
# Lagging baselines: (listing SKU id -> field -> value, listing id -> field -> value).
Baselines: TypeAlias = tuple[dict[int, dict[str, BaselineValue]], dict[int, dict[str, BaselineValue]]]


class DiffRow(TypedDict):
    """One row of the plan frame, as the planner reads it (see `reconcile.plan` for the columns)."""

    listing_action: str
    product_id: int | None
    variant_id: int | None
    sku: str | None
    listing_id: int | None
    listing_sku_id: int | None
    remote_item_id: str | None
    remote_sku_id: str | None
    seller_sku: str | None
    auto_bound: bool
    remote_status: NotRequired[str | None]
    category: NotRequired[str | None]
    currency: NotRequired[str | None]
    desired_price: Decimal | None
    remote_price: Decimal | None
    base_price: Decimal | None
    desired_stock: int | None
    remote_stock: int | None
    base_stock: int | None
    desired_title: str | None
    remote_title: str | None
    base_title: str | None
    desired_description: str | None
    remote_description: str | None
    base_description: str | None
    desired_images: list[str] | None
    remote_images: list[str] | None
    base_images: list[str] | None
    price_action: NotRequired[str | None]
    stock_action: NotRequired[str | None]
    title_action: NotRequired[str | None]
    description_action: NotRequired[str | None]
    images_action: NotRequired[str | None]


_ACTION: Final[dict[FieldName, Literal["price_action", "stock_action", "title_action", "description_action",
                                      "images_action"]]] = {
    "price": "price_action", "stock": "stock_action", "title": "title_action",
    "description": "description_action", "images": "images_action",
}  # fmt: skip
_DESIRED: Final[dict[FieldName, Literal["desired_price", "desired_stock", "desired_title", "desired_description",
                                       "desired_images"]]] = {
    "price": "desired_price", "stock": "desired_stock", "title": "desired_title",
    "description": "desired_description", "images": "desired_images",
}  # fmt: skip
_REMOTE: Final[dict[FieldName, Literal["remote_price", "remote_stock", "remote_title", "remote_description",
                                      "remote_images"]]] = {
    "price": "remote_price", "stock": "remote_stock", "title": "remote_title",
    "description": "remote_description", "images": "remote_images",
}  # fmt: skip
_BASE: Final[dict[FieldName, Literal["base_price", "base_stock", "base_title", "base_description",
                                    "base_images"]]] = {
    "price": "base_price", "stock": "base_stock", "title": "base_title",
    "description": "base_description", "images": "base_images",
}  # fmt: skip


def diff_rows(frame: pl.DataFrame) -> list[DiffRow]:
    """The plan frame's rows, typed (the frame's schema is `reconcile.plan`'s)."""
    return [cast(DiffRow, row) for row in frame.iter_rows(named=True)]


@dataclass
class ShopPlanning:
    shop: Shop
    frame: pl.DataFrame
    changes: list[PlannedChange]
    conflicts: list[FoundConflict]
    summary: dict[str, int] = field(default_factory=dict)


def plan_shop(engine: sa.Engine, shop: Shop, inputs: CatalogInputs) -> ShopPlanning:
    """The shop's plan frame, its changes (validated, keyed) and its conflicts. Reads only."""
    remote_skus, remote_listings = reconcile.load_remote(engine, shop.connection_id, product_ids=inputs.product_ids)
    frame = reconcile.plan(desired(inputs, shop), remote_skus, remote_listings)
    scoped_skus = remote_skus["listing_sku_id"].to_list() if inputs.product_ids is not None else []
    currency = sync_inputs.shop_currency(engine, shop.connection_id, scoped_skus)
    creates = frame.filter(pl.col("listing_action") == "create")
    extras = sync_inputs.create_extras(engine, shop, creates["product_id"].unique().to_list()) if creates.height else {}
    return ShopPlanning(shop, frame, *build_changes(shop, inputs, currency, extras, diff_rows(frame)),
                        reconcile.summary(frame))  # fmt: skip


def build_changes(
    shop: Shop,
    inputs: CatalogInputs,
    currency: str | None,
    extras: dict[int, sync_inputs.ProductExtras],
    rows: Sequence[DiffRow],
) -> tuple[list[PlannedChange], list[FoundConflict]]:
    """The changes (sorted by operation, product, variant) and conflicts of a shop's diff rows. No I/O."""
    builder = _Builder(shop, inputs, currency, extras)
    for row in rows:
        builder.add(row)
    return builder.finish(), builder.conflicts


def agreed_baselines(frame: pl.DataFrame) -> Baselines:
    """Fields where master and marketplace agree but the baseline lags: (per listing SKU, per listing).

    This happens when a push landed but its answer was lost (a timeout): the next pull shows the
    value, the diff says in sync, and the baseline must catch up, or the next master change would
    look like an edit on both sides (a false conflict).
    """
    skus: dict[int, dict[str, BaselineValue]] = defaultdict(dict)
    items: dict[int, dict[str, BaselineValue]] = defaultdict(dict)
    for name in reconcile.FIELD_NAMES:
        if f"{name}_action" not in frame.columns:
            continue
        lagging = frame.filter(
            (pl.col(f"{name}_action") == "in_sync") & pl.col(f"base_{name}").ne_missing(pl.col(f"remote_{name}"))
        )
        key = "listing_sku_id" if name in ("price", "stock") else "listing_id"
        target = skus if key == "listing_sku_id" else items
        for row_id, value in lagging.select(key, f"remote_{name}").iter_rows():
            if row_id is not None:
                target[int(row_id)][name] = value
    return dict(skus), dict(items)


def _issues(pairs: Sequence[tuple[str, str]]) -> tuple[ValidationIssue, ...]:
    return tuple(ValidationIssue(name, message) for name, message in pairs)


def _keyed(change: PlannedChange, connection_id: int) -> PlannedChange:
    return replace(change, idempotency_key=change.key(connection_id))


def _images(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _remote_value(row: DiffRow, name: FieldName) -> AdoptedValue:
    value = row[_REMOTE[name]]
    return tuple(value) if isinstance(value, list) else value


class _Builder:
    """Collects the changes of one shop's diff rows, row by row."""

    def __init__(
        self, shop: Shop, inputs: CatalogInputs, currency: str | None, extras: dict[int, sync_inputs.ProductExtras]
    ) -> None:
        self.shop, self.inputs, self.currency, self.extras = shop, inputs, currency, extras
        self.limits = sync_validation.rules_for(shop.platform)
        self.region = shop.region
        self.decimals = sync_validation.price_decimals(self.limits, shop.region)
        # Every SKU's desired price per listing: the regional variation ratio is checked over them all.
        self.listing_prices: dict[int, list[Decimal | None]] = defaultdict(list)
        self.changes: list[PlannedChange] = []
        self.conflicts: list[FoundConflict] = []
        self.creates: dict[int, list[DiffRow]] = defaultdict(list)
        self.content: dict[int, tuple[DiffRow, dict[ContentField, DiffRow]]] = {}
        self.status: dict[int, tuple[str, DiffRow]] = {}
        self.item_seen: set[tuple[int, str]] = set()
        # Listings the platform's audit refused: their content is sent again (after a fix) to be audited again.
        self.refused: dict[int, DiffRow] = {}
        self.item_ids: dict[int, str] = {}  # listing id -> remote item id (a new variant's row lacks it)

    def _add(self, change: PlannedChange) -> None:
        self.changes.append(_keyed(change, self.shop.connection_id))

    def add(self, row: DiffRow) -> None:
        action = row["listing_action"]
        if action == "orphan":
            return
        if row["listing_id"] is not None and row["remote_item_id"] is not None:
            self.item_ids[row["listing_id"]] = row["remote_item_id"]
        if row["listing_id"] is not None and action != "create":
            self.listing_prices[row["listing_id"]].append(row["desired_price"])
        if action == "create":
            assert row["product_id"] is not None
            self.creates[row["product_id"]].append(row)
            return
        if (
            self.inputs.resubmit_refused
            and row.get("remote_status") == REVIEW_FAILED
            and row["listing_id"] is not None
            and row["product_id"] is not None
        ):
            self.refused.setdefault(row["listing_id"], row)
        if row["auto_bound"]:
            self._add(Bind(seller_sku=row["seller_sku"], **_sku_target(row)))
        if action in ("activate", "deactivate") and row["listing_id"] is not None:
            self.status[row["listing_id"]] = (action, row)
        for name in ("price", "stock"):
            self._sku_field(row, name)
        for item_field in ITEM_FIELDS:
            self._item_field(row, item_field)

    def _sku_field(self, row: DiffRow, name: Literal["price", "stock"]) -> None:
        action = row.get(_ACTION[name])
        if action == "conflict":
            self.conflicts.append(self._conflict(row, name, variant_level=True))
        elif action == "adopt":
            self._add(Adopt(field=name, value=_remote_value(row, name), **_sku_target(row)))
        elif action == "push" and name == "price":
            price = row["desired_price"]
            issues = sync_validation.check_price(price, decimals=self.decimals, region=self.region)
            self._add(UpdatePrice(price=price, issues=_issues(issues), **_sku_target(row)))
        elif action == "push":
            stock = row["desired_stock"]
            issues = sync_validation.check_stock(self.limits, stock)
            self._add(UpdateStock(stock=stock, issues=_issues(issues), **_sku_target(row)))

    def _item_field(self, row: DiffRow, name: ContentField) -> None:
        listing_id, action = row["listing_id"], row.get(_ACTION[name])
        if action is None or listing_id is None or (listing_id, name) in self.item_seen:
            return
        self.item_seen.add((listing_id, name))
        if action == "conflict":
            self.conflicts.append(self._conflict(row, name, variant_level=False))
        elif action == "adopt":
            self._add(Adopt(field=name, value=_remote_value(row, name), **_item_target(row)))
        elif action == "push":
            self.content.setdefault(listing_id, (row, {}))[1][name] = row

    def _conflict(self, row: DiffRow, name: FieldName, *, variant_level: bool) -> FoundConflict:
        assert row["listing_id"] is not None
        return FoundConflict(
            connection_id=self.shop.connection_id, listing_id=row["listing_id"], product_id=row["product_id"],
            variant_id=row["variant_id"] if variant_level else None, platform=self.shop.platform, field=name,
            master_value=row[_DESIRED[name]], platform_value=row[_REMOTE[name]], base_value=row[_BASE[name]],
        )  # fmt: skip

    def finish(self) -> list[PlannedChange]:
        for listing_id, row in self.refused.items():
            first, fields = self.content.get(listing_id, (row, {}))
            self.content[listing_id] = (first, {name: fields.get(name, row) for name in ITEM_FIELDS})
        for row, fields in self.content.values():
            self._add(self._content(row, fields))
        for action, row in self.status.values():
            status = Activate if action == "activate" else Deactivate
            self._add(status(**_item_target(row)))
        for product_id, rows in self.creates.items():
            for change in self._creates(product_id, rows):
                self._add(change)
        self._check_variation_ratio()
        order = {name: index for index, name in enumerate(OPERATIONS)}
        return sorted(self.changes, key=lambda c: (order[c.operation], c.product_id or 0, c.variant_id or 0))

    def _content(self, row: DiffRow, fields: dict[ContentField, DiffRow]) -> UpdateContent:
        issues: list[tuple[str, str]] = []
        title = fields["title"]["desired_title"] if "title" in fields else None
        description = fields["description"]["desired_description"] if "description" in fields else None
        images = fields["images"]["desired_images"] if "images" in fields else None
        if "title" in fields:
            issues += sync_validation.check_title(self.limits, title, self.region)
        if "description" in fields:
            issues += sync_validation.check_description(self.limits, description)
            issues += sync_validation.check_description_format(self.limits, description)
        if "images" in fields:
            issues += sync_validation.check_images(self.limits, images)
        return UpdateContent(
            fields=tuple(fields), title=title, description=description, images=_images(images),
            issues=_issues(issues), **_item_target(row),
        )  # fmt: skip

    def _check_variation_ratio(self) -> None:
        """A price change that would break the regional ratio between one item's variations fails first."""
        for index, change in enumerate(self.changes):
            if not isinstance(change, UpdatePrice) or change.listing_id is None:
                continue
            ratio_issues = sync_validation.check_variation_prices(
                self.limits, self.region, self.listing_prices.get(change.listing_id, [])
            )
            if ratio_issues:
                self.changes[index] = replace(change, issues=change.issues + _issues(ratio_issues))

    def _creates(self, product_id: int, rows: list[DiffRow]) -> list[PlannedChange]:
        changes: list[PlannedChange] = [
            self._add_variant(product_id, row) for row in rows if row["listing_id"] is not None
        ]
        new = [row for row in rows if row["listing_id"] is None]
        if new:
            changes.append(self._new_listing(product_id, new))
        return changes

    def _add_variant(self, product_id: int, row: DiffRow) -> AddVariant:
        """A variant of a listed product: added to its listing (same price, stock and location checks as a create)."""
        extras = self.extras.get(product_id)
        requirements = extras.requirements if extras else None
        issues = sync_validation.check_price(row["desired_price"], row["sku"], decimals=self.decimals,
                                             region=self.region)  # fmt: skip
        issues += sync_validation.check_stock(self.limits, row["desired_stock"], row["sku"])
        if requirements is not None:
            issues += list(requirements.location_issues)
        currency = row.get("currency")
        if self.currency and currency and currency != self.currency:
            issues.append(("currency", f"the product is priced in {currency}, the shop sells in {self.currency}"))
        assert row["variant_id"] is not None and row["sku"] is not None and row["listing_id"] is not None
        item_id = row["remote_item_id"] or self.item_ids.get(row["listing_id"])
        if item_id is None:
            issues.append(("listing", "the listing has no remote item yet: pull the shop, then sync again"))
        attributes = (extras.attributes if extras else {}).get(row["variant_id"], {})
        sku = NewSku(variant_id=row["variant_id"], seller_sku=row["sku"], price=row["desired_price"],
                     stock=row["desired_stock"], attributes=attributes)  # fmt: skip
        return AddVariant(
            new_sku=sku, currency=currency or self.currency,
            location_id=requirements.location_id if requirements else None, issues=_issues(issues),
            **_Target(**{**_sku_target(row), "remote_item_id": item_id}),
        )  # fmt: skip

    def _new_listing(self, product_id: int, rows: list[DiffRow]) -> CreateListing:
        first, limits, extras = rows[0], self.limits, self.extras.get(product_id)
        category = first.get("category")
        remote_category = self.inputs.categories.get((self.shop.platform, category or ""))
        issues = sync_validation.check_title(limits, first["desired_title"], self.region)
        issues += sync_validation.check_description(limits, first["desired_description"])
        if limits.description_required and not (first["desired_description"] or "").strip():
            issues.append(("description", f"{limits.display_name} needs a description to create a listing"))
        issues += sync_validation.check_images(limits, first["desired_images"])
        issues += sync_validation.check_category(limits, remote_category, category)
        if extras is None or extras.weight_kg is None:
            issues.append(("weight_kg", "a weight is needed to create a listing"))
        if len(rows) > limits.skus_per_listing:
            issues.append(("variants", f"{len(rows)} variants; at most {limits.skus_per_listing} per listing"))
        currency = first.get("currency")
        if self.currency and currency and currency != self.currency:
            issues.append(("currency", f"the product is priced in {currency}, the shop sells in {self.currency}"))
        issues += sync_validation.check_variation_prices(limits, self.region, [row["desired_price"] for row in rows])
        requirements = extras.requirements if extras else None
        if requirements is not None:
            issues += list(requirements.issues)
        issues += sync_validation.check_description_format(limits, first["desired_description"])
        attributes = _consistent_attributes(rows, extras.attributes if extras else {})
        skus = []
        for row in rows:
            issues += sync_validation.check_price(
                row["desired_price"], row["sku"], decimals=self.decimals, region=self.region
            )
            issues += sync_validation.check_stock(limits, row["desired_stock"], row["sku"])
            assert row["variant_id"] is not None and row["sku"] is not None
            skus.append(
                NewSku(
                    variant_id=row["variant_id"], seller_sku=row["sku"], price=row["desired_price"],
                    stock=row["desired_stock"], attributes=attributes.get(row["variant_id"], {}),
                )
            )  # fmt: skip
        generation = extras.generation if extras else 0
        return CreateListing(
            title=first["desired_title"], description=first["desired_description"] or "",
            category_id=remote_category, images=tuple(first["desired_images"] or []),
            weight_kg=extras.weight_kg if extras else None, dimensions=extras.dimensions if extras else None,
            currency=currency, skus=tuple(skus), draft_key=f"ss-{self.shop.connection_id}-{product_id}-{generation}",
            generation=generation, issues=_issues(issues), **_item_target(first),
            brand_id=requirements.brand_id if requirements else None,
            brand_name=requirements.brand_name if requirements else None,
            attributes=requirements.attributes if requirements else (),
            logistics_channel_ids=requirements.logistics_channel_ids if requirements else (),
            location_id=requirements.location_id if requirements else None,
        )  # fmt: skip


class _Target(TypedDict):
    product_id: int | None
    variant_id: int | None
    sku: str | None
    remote_item_id: str | None
    listing_id: int | None
    listing_sku_id: int | None
    remote_sku_id: str | None


def _sku_target(row: DiffRow) -> _Target:
    """Where a SKU-level change lands: the variant and its listing SKU."""
    return _Target(
        product_id=row["product_id"], variant_id=row["variant_id"], sku=row["sku"],
        remote_item_id=row["remote_item_id"], listing_id=row["listing_id"], listing_sku_id=row["listing_sku_id"],
        remote_sku_id=row["remote_sku_id"],
    )  # fmt: skip


def _item_target(row: DiffRow) -> _Target:
    """Where a listing-level change lands: the product and its listing (no variant, no SKU)."""
    return _Target(
        product_id=row["product_id"], variant_id=None, sku=None, remote_item_id=row["remote_item_id"],
        listing_id=row["listing_id"], listing_sku_id=None, remote_sku_id=None,
    )  # fmt: skip


def _consistent_attributes(rows: list[DiffRow], attributes: dict[int, dict[str, str]]) -> dict[int, dict[str, str]]:
    """Variant attributes when every variant has the same names (at most 2) and distinct values; else none."""
    chosen = {row["variant_id"]: attributes.get(row["variant_id"] or 0, {}) for row in rows}
    names = {tuple(sorted(values)) for values in chosen.values()}
    combos = Counter(tuple(sorted(values.items())) for values in chosen.values())
    if len(names) != 1 or not next(iter(names)) or len(next(iter(names))) > 2 or max(combos.values()) > 1:
        return {}
    return {variant_id: values for variant_id, values in chosen.items() if variant_id is not None}
