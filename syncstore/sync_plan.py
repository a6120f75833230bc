# The sync plan of one shop: the reconcile plan frame turned into validated changes with payloads and call estimates.
"""From the three-way plan (`syncstore.reconcile.plan`) to the changes the sync sends.

One `PlannedChange` per thing that happens to the shop:

- `create`: a new listing for a product's unlisted variants (one change per product; the payload
  is the listing draft). Needs the master category mapped to the platform (`category_mappings`).
- `bind`: a remote SKU whose seller SKU is a master variant's SKU is bound to it (no API call).
- `update_price`, `update_stock`: one per remote SKU; sent one item per call, batched to the limit.
- `update_fields`: title, description and images of one listing.
- `activate`, `deactivate`: one per listing.
- `adopt`: a marketplace value taken into the platform override (a rule says so; no API call).

Each change carries its validation issues against the platform's rules (`syncstore.sync_validation`);
a change with issues is not sent. Its idempotency key is derived from the change itself (shop,
operation, target and value), so the same change planned again after a crash has the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final

import polars as pl
import sqlalchemy as sa

from syncstore import reconcile, sync_inputs, sync_validation
from syncstore.conflicts import FoundConflict
from syncstore.sync_inputs import CatalogInputs, Shop, desired

# Kept importable from here (assets/shops.py plans one shop with these).
from syncstore.sync_inputs import load_inputs as load_inputs
from syncstore.sync_inputs import shops as shops

ITEM_FIELDS: Final = ("title", "description", "images")
OPERATIONS: Final = (
    "create",
    "bind",
    "update_price",
    "update_stock",
    "update_fields",
    "activate",
    "deactivate",
    "adopt",
)


@dataclass(frozen=True)
class ValidationIssue:
    field: str
    message: str


@dataclass(frozen=True)
class PlannedChange:
    operation: str  # create | bind | update_price | update_stock | update_fields | activate | deactivate | adopt
    product_id: int | None
    variant_id: int | None
    sku: str | None
    remote_item_id: str | None
    payload: dict[str, Any]  # what would be sent, JSON-safe (Decimal as str)
    issues: tuple[ValidationIssue, ...]
    # Where the change lands in the snapshot, and the key that makes a re-run have one effect.
    listing_id: int | None = None
    listing_sku_id: int | None = None
    remote_sku_id: str | None = None
    idempotency_key: str = ""

    @property
    def valid(self) -> bool:
        return not self.issues


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
    builder = _Builder(shop, inputs, currency, extras)
    for row in frame.iter_rows(named=True):
        builder.add(row)
    return ShopPlanning(shop, frame, builder.finish(), builder.conflicts, reconcile.summary(frame))


def agreed_baselines(frame: pl.DataFrame) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Fields where master and marketplace agree but the baseline lags: (per listing SKU, per listing).

    This happens when a push landed but its answer was lost (a timeout): the next pull shows the
    value, the diff says in sync, and the baseline must catch up, or the next master change would
    look like an edit on both sides (a false conflict).
    """
    skus: dict[int, dict[str, Any]] = defaultdict(dict)
    items: dict[int, dict[str, Any]] = defaultdict(dict)
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


def change_key(connection_id: int, operation: str, target: str, value: Any) -> str:
    """shop:operation:target:digest-of-value; the same change always gets the same key."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{connection_id}:{operation}:{target}:{digest}"[:128]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _issues(pairs: Sequence[tuple[str, str]]) -> tuple[ValidationIssue, ...]:
    return tuple(ValidationIssue(name, message) for name, message in pairs)


class _Builder:
    """Collects the changes of one shop's plan frame, row by row."""

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
        self.creates: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.fields: dict[int, dict[str, Any]] = {}
        self.status: dict[int, tuple[str, dict[str, Any]]] = {}
        self.item_seen: set[tuple[int, str]] = set()

    def _change(self, operation: str, row: dict[str, Any], target: str, payload: dict[str, Any],
                issues: Sequence[tuple[str, str]] = (), *, sku_level: bool = True) -> PlannedChange:  # fmt: skip
        return PlannedChange(
            operation=operation, product_id=row["product_id"], variant_id=row["variant_id"] if sku_level else None,
            sku=row["sku"] if sku_level else None, remote_item_id=row["remote_item_id"], payload=payload,
            issues=_issues(issues), listing_id=row["listing_id"],
            listing_sku_id=row["listing_sku_id"] if sku_level else None,
            remote_sku_id=row["remote_sku_id"] if sku_level else None,
            idempotency_key=change_key(self.shop.connection_id, operation, target, payload),
        )  # fmt: skip

    def add(self, row: dict[str, Any]) -> None:
        action = row["listing_action"]
        if action == "orphan":
            return
        if row["listing_id"] is not None and action != "create":
            self.listing_prices[row["listing_id"]].append(row["desired_price"])
        if action == "create":
            self.creates[row["product_id"]].append(row)
            return
        if row["auto_bound"]:
            payload = {"sku_id": row["remote_sku_id"], "seller_sku": row["seller_sku"], "variant_id": row["variant_id"]}
            self.changes.append(self._change("bind", row, f"sku{row['listing_sku_id']}", payload))
        if action in ("activate", "deactivate"):
            self.status[row["listing_id"]] = (action, row)
        for name in ("price", "stock"):
            self._sku_field(row, name, row.get(f"{name}_action"))
        for name in ITEM_FIELDS:
            self._item_field(row, name, row.get(f"{name}_action"))

    def _sku_field(self, row: dict[str, Any], name: str, action: str | None) -> None:
        if action == "conflict":
            self.conflicts.append(self._conflict(row, name, variant_level=True))
        elif action == "adopt":
            payload = {
                "field": name,
                "value": _money(row[f"remote_{name}"]) if name == "price" else row[f"remote_{name}"],
            }
            self.changes.append(self._change("adopt", row, f"sku{row['listing_sku_id']}:{name}", payload))
        elif action == "push":
            value = row[f"desired_{name}"]
            if name == "price":
                payload = {"sku_id": row["remote_sku_id"], "price": _money(value)}
                issues = sync_validation.check_price(value, decimals=self.decimals, region=self.region)
            else:
                payload = {"sku_id": row["remote_sku_id"], "stock": value}
                issues = sync_validation.check_stock(self.limits, value)
            target = f"sku{row['listing_sku_id']}"
            self.changes.append(self._change(f"update_{name}", row, target, payload, issues))

    def _item_field(self, row: dict[str, Any], name: str, action: str | None) -> None:
        listing_id = row["listing_id"]
        if action is None or (listing_id, name) in self.item_seen:
            return
        self.item_seen.add((listing_id, name))
        if action == "conflict":
            self.conflicts.append(self._conflict(row, name, variant_level=False))
        elif action == "adopt":
            payload = {"field": name, "value": row[f"remote_{name}"]}
            self.changes.append(self._change("adopt", row, f"item{listing_id}:{name}", payload, sku_level=False))
        elif action == "push":
            self.fields.setdefault(listing_id, {"row": row, "values": {}})["values"][name] = row[f"desired_{name}"]

    def _conflict(self, row: dict[str, Any], name: str, *, variant_level: bool) -> FoundConflict:
        return FoundConflict(
            connection_id=self.shop.connection_id, listing_id=row["listing_id"], product_id=row["product_id"],
            variant_id=row["variant_id"] if variant_level else None, platform=self.shop.platform, field=name,
            master_value=row[f"desired_{name}"], platform_value=row[f"remote_{name}"], base_value=row[f"base_{name}"],
        )  # fmt: skip

    def finish(self) -> list[PlannedChange]:
        for listing_id, entry in self.fields.items():
            values: dict[str, Any] = entry["values"]
            issues: list[tuple[str, str]] = []
            if "title" in values:
                issues += sync_validation.check_title(self.limits, values["title"], self.region)
            if "description" in values:
                issues += sync_validation.check_description(self.limits, values["description"])
            if "images" in values:
                issues += sync_validation.check_images(self.limits, values["images"])
            self.changes.append(
                self._change("update_fields", entry["row"], f"item{listing_id}", values, issues, sku_level=False)
            )
        for listing_id, (action, row) in self.status.items():
            payload = {"active": action == "activate"}
            self.changes.append(self._change(action, row, f"item{listing_id}", payload, sku_level=False))
        for product_id, rows in self.creates.items():
            self.changes.extend(self._creates(product_id, rows))
        self._check_variation_ratio()
        order = {name: index for index, name in enumerate(OPERATIONS)}
        return sorted(self.changes, key=lambda c: (order[c.operation], c.product_id or 0, c.variant_id or 0))

    def _check_variation_ratio(self) -> None:
        """A price change that would break the regional ratio between one item's variations fails first."""
        for index, change in enumerate(self.changes):
            if change.operation != "update_price" or change.listing_id is None:
                continue
            ratio_issues = sync_validation.check_variation_prices(
                self.limits, self.region, self.listing_prices.get(change.listing_id, [])
            )
            if ratio_issues:
                self.changes[index] = replace(change, issues=change.issues + _issues(ratio_issues))

    def _creates(self, product_id: int, rows: list[dict[str, Any]]) -> list[PlannedChange]:
        into_existing = [row for row in rows if row["listing_id"] is not None]
        changes = [
            self._change(
                "create",
                row,
                f"variant{row['variant_id']}",
                {"listing_id": row["listing_id"]},
                [
                    (
                        "listing",
                        "the product is already listed in this shop; adding a variant to a listing is not "
                        "supported yet: add it on the marketplace, it is bound by its seller SKU",
                    )
                ],
            )
            for row in into_existing
        ]
        new = [row for row in rows if row["listing_id"] is None]
        if new:
            changes.append(self._new_listing(product_id, new))
        return changes

    def _new_listing(self, product_id: int, rows: list[dict[str, Any]]) -> PlannedChange:
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
        attributes = _consistent_attributes(rows, extras.attributes if extras else {})
        skus = []
        for row in rows:
            issues += sync_validation.check_price(
                row["desired_price"], row["sku"], decimals=self.decimals, region=self.region
            )
            issues += sync_validation.check_stock(limits, row["desired_stock"], row["sku"])
            skus.append({
                "variant_id": row["variant_id"], "seller_sku": row["sku"], "price": _money(row["desired_price"]),
                "stock": row["desired_stock"], "attributes": attributes.get(row["variant_id"], {}),
            })  # fmt: skip
        generation = extras.generation if extras else 0
        draft_key = f"ss-{self.shop.connection_id}-{product_id}-{generation}"
        payload = {
            "title": first["desired_title"], "description": first["desired_description"] or "",
            "category_id": remote_category, "images": list(first["desired_images"] or []),
            "weight_kg": _money(extras.weight_kg) if extras else None,
            "dimensions": extras.dimensions if extras else None, "currency": currency, "skus": skus,
            "idempotency_key": draft_key,
        }  # fmt: skip
        change = self._change("create", first, f"product{product_id}", payload, issues, sku_level=False)
        # The key names the listing, not its content: a re-run after a crash (even with an edited
        # title) asks the platform for the same listing, which it then finds instead of adding twice.
        key = f"{self.shop.connection_id}:create:product{product_id}:{generation}"
        return PlannedChange(**{**change.__dict__, "idempotency_key": key})


def _consistent_attributes(
    rows: list[dict[str, Any]], attributes: dict[int, dict[str, str]]
) -> dict[int, dict[str, str]]:
    """Variant attributes when every variant has the same names (at most 2) and distinct values; else none."""
    chosen = {row["variant_id"]: attributes.get(row["variant_id"], {}) for row in rows}
    names = {tuple(sorted(values)) for values in chosen.values()}
    combos = Counter(tuple(sorted(values.items())) for values in chosen.values())
    if len(names) != 1 or not next(iter(names)) or len(next(iter(names))) > 2 or max(combos.values()) > 1:
        return {}
    return chosen


def estimate_calls(platform: str, changes: Sequence[PlannedChange]) -> int:
    """API calls the valid changes cost after batching to the platform's limits."""
    limits = sync_validation.rules_for(platform)
    valid = [change for change in changes if change.valid]
    calls = 0
    for operation in ("update_price", "update_stock"):
        per_item = Counter(c.remote_item_id for c in valid if c.operation == operation)
        calls += sync_validation.sku_write_calls(limits, list(per_item.values()))
    calls += sum(1 for c in valid if c.operation == "update_fields")
    for operation in ("activate", "deactivate"):
        calls += sync_validation.status_calls(limits, sum(1 for c in valid if c.operation == operation))
    for change in valid:
        if change.operation == "create":
            skus = change.payload.get("skus") or []
            single = len(skus) == 1 and not skus[0].get("attributes")
            calls += sync_validation.create_calls(limits, len(skus), single)
    return calls
