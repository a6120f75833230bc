# What binding a remote SKU to a master SKU would push to the shop, from the plan's own desired state.
"""The bind preview ("shop X, SKU Y: stock 7 -> 12, price 10.00 -> 12.90").

It reads the master side the way the plan does (`syncstore.plan.inputs.load_inputs` / `desired`: rules
and overrides included) for the one variant, and compares it with what the snapshot says the shop
shows. The refusals are `syncstore.catalog.bindings.bind_refusal`'s, so a preview that passes is a
binding that will be accepted (unless someone acts first).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from syncstore.catalog.bindings import bind_refusal, find_variant, listing_sku
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformListing
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
