# What binding a remote SKU to a master SKU would push to the shop, from the plan's own desired state.
"""The bind preview ("shop X, SKU Y: stock 7 -> 12, price 10.00 -> 12.90").

It reads the master side the way the plan does (`syncstore.plan.inputs.load_inputs` / `desired`: rules
and overrides included) for the one variant, and compares it with what the snapshot says the shop
shows. The refusals are `syncstore.catalog.bindings.bind_refusal`'s, so a preview that passes is a
binding that will be accepted (unless someone acts first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from syncstore.catalog.bindings import bind_refusal, find_variant, listing_sku
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformListing, PlatformListingSku
from syncstore.errors import InvalidInput
from syncstore.plan import inputs as plan_inputs


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class BindPreview:
    shop_name: str
    seller_sku: str
    master_sku: str
    changes: tuple[FieldChange, ...]
    note: str | None = None  # e.g. a rule excludes the shop: nothing would be pushed

    def text(self) -> str:
        """ "shop X, SKU Y: stock 7 -> 12, price 10.00 -> 12.90"."""
        what = ", ".join(f"{c.name} {c.before} -> {c.after}" for c in self.changes) or "nothing changes"
        tail = f" ({self.note})" if self.note else ""
        return f"shop {self.shop_name}, SKU {self.seller_sku}: {what}{tail}"


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def preview_bind(engine: sa.Engine, listing_sku_id: int, master_sku: str) -> BindPreview:
    """What binding would push to the SKU, from the plan's desired state; InvalidInput when refused."""
    with transaction(engine) as session:
        sku = listing_sku(session, listing_sku_id)
        variant = find_variant(session, master_sku)
        refusal = bind_refusal(session, sku, variant)
        if refusal is not None:
            raise InvalidInput({"master_sku": refusal})
        listing = session.get_one(PlatformListing, sku.listing_id)
        remote = {"stock": sku.remote_stock, "price": sku.remote_price, "title": listing.remote_title}
        item_fields = listing.product_id in (None, variant.product_id)
        seller, variant_id, connection_id, master = (
            sku.seller_sku or "(none)",
            variant.id,
            sku.connection_id,
            variant.sku,
        )
    [shop] = plan_inputs.shops(engine, [connection_id])
    catalog = plan_inputs.load_inputs(engine, variant_ids=[variant_id])
    desired = plan_inputs.desired(catalog, shop).row(0, named=True)
    changes = []
    for name in ("stock", "price", "title") if item_fields else ("stock", "price"):
        after = desired[f"desired_{name}"]
        if after is not None and after != remote[name]:
            changes.append(FieldChange(name, _shown(remote[name]), _shown(after)))
    note = None
    if desired["excluded"]:
        note = "a sync rule excludes this shop: the listing would be deactivated"
    elif not desired["active"]:
        note = "the master variant is inactive: the listing would be deactivated"
    return BindPreview(shop.shop_name or shop.shop_key, seller, master, tuple(changes), note)


def preview_many(engine: sa.Engine, wanted: Sequence[tuple[int, int]]) -> dict[int, str]:
    """listing SKU id -> what binding it to the variant would push ("stock 7 -> 12, price 10.00 -> 12.90").

    For the bulk CSV preview's `bind` lines: the plan's desired state of every variant and shop read
    in one pass, compared with what the snapshot says each SKU shows (stock and price only).
    """
    variant_of = dict(wanted)
    if not variant_of:
        return {}
    remote: dict[int, tuple[int, int | None, Decimal | None]] = {}  # sku id -> (connection, stock, price)
    with transaction(engine) as session:
        ids = sorted(variant_of)
        for start in range(0, len(ids), 500):
            query = sa.select(
                PlatformListingSku.id, PlatformListingSku.connection_id, PlatformListingSku.remote_stock,
                PlatformListingSku.remote_price,
            ).where(PlatformListingSku.id.in_(ids[start : start + 500]))  # fmt: skip
            remote.update({row[0]: (row[1], row[2], row[3]) for row in session.execute(query)})
    shops = plan_inputs.shops(engine, sorted({connection for connection, _, _ in remote.values()}))
    catalog = plan_inputs.load_inputs(engine, variant_ids=sorted(set(variant_of.values())))
    desired = {
        (row["connection_id"], row["variant_id"]): row
        for row in plan_inputs.desired_for(catalog, shops).iter_rows(named=True)
    }
    said: dict[int, str] = {}
    for sku_id, (connection_id, stock, price) in remote.items():
        row = desired.get((connection_id, variant_of[sku_id]))
        if row is None:
            continue
        changes = [
            f"{name} {_shown(before)} -> {_shown(row[f'desired_{name}'])}"
            for name, before in (("stock", stock), ("price", price))
            if row[f"desired_{name}"] is not None and row[f"desired_{name}"] != before
        ]
        said[sku_id] = ", ".join(changes) or "nothing changes"
    return said
