# The TikTok Shop simulator's product audits: edits under review and how they end.
"""`AuditsMixin` starts an audit for a product edit, settles the due ones (applied or failed, with a webhook)
and applies an approved edit."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connectors.tiktokshop.simulator.core import Outgoing, SimulatorCore
from connectors.tiktokshop.simulator.state import (
    SimProduct,
    SimShop,
    SimSku,
)


class AuditsMixin(SimulatorCore):
    """Product audits of `TikTokShopSimulator`."""

    def _start_audit(self, shop: SimShop, product: SimProduct, edit: dict[str, Any] | None) -> None:
        product.status, product.pending_edit = "PENDING", edit
        product.audit_due = self.clock.now() + shop.options.audit_delay_s

    def _settle_audits(self) -> None:
        """End every audit that is due (under the lock); the type 5 pushes go to the outbox."""
        now = self.clock.now()
        for product in self.state.products.values():
            if product.audit_due is None or product.audit_due > now:
                continue
            shop = self.state.shops[product.shop_id]
            reason = product.fail_next_audit or shop.options.fail_next_audit
            product.audit_due = None
            if reason:
                product.fail_next_audit, shop.options.fail_next_audit = None, None
                product.status, product.pending_edit = "FAILED", None
                product.audit_failed_reasons = [
                    {"position": "Product Name", "reasons": [reason], "suggestions": ["Edit the product and resubmit."]}
                ]
            else:
                if product.pending_edit:
                    self._apply_edit(shop, product, product.pending_edit)
                product.status, product.pending_edit, product.audit_failed_reasons = "ACTIVATE", None, []
            product.update_time = max(int(now), product.update_time)
            data = {"product_id": product.id, "status": product.status, "update_time": product.update_time}
            if product.audit_failed_reasons:
                data["suspended_reason"] = "; ".join(product.audit_failed_reasons[0]["reasons"])
            self._outbox.append(Outgoing(shop.id, 5, data))

    def _apply_edit(self, shop: SimShop, product: SimProduct, edit: Mapping[str, Any]) -> None:
        for key in ("title", "description", "main_images", "package_weight", "package_dimensions"):
            if key in edit:
                setattr(product, key, edit[key])
        if "keep" in edit:
            kept = [sku for sku in product.skus if sku.id in edit["keep"]]
            product.skus = kept + [SimSku(**row) for row in edit.get("new_skus", [])]
            for fresh in product.skus[len(kept) :]:
                self.write_log.record(shop.id, product.id, fresh.id, "stock", None, fresh.available)
        for sku_id, change in edit.get("skus", {}).items():
            sku = product.sku(sku_id)
            if sku is None:
                continue
            if "price" in change:
                old = Decimal(sku.price)
                sku.price = change["price"]
                self._reprice(shop, sku, Decimal(sku.price))
                self.write_log.record(shop.id, product.id, sku.id, "price", old, Decimal(sku.price))
            if "inventory" in change:
                old_stock = sku.available
                sku.inventory.update(change["inventory"])
                self.write_log.record(shop.id, product.id, sku.id, "stock", old_stock, sku.available)
