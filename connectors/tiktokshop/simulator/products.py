# The TikTok Shop simulator's product endpoints: warehouses, search and detail, create, partial edit, status, delete.
"""`ProductsMixin` serves the product endpoints (and the warehouse list), with their wire formats."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from connectors.tiktokshop.simulator.audits import AuditsMixin
from connectors.tiktokshop.simulator.catalog_routes import CatalogRoutesMixin
from connectors.tiktokshop.simulator.codes import (
    E_CURRENCY,
    E_SEARCH_CAP,
    E_SKU_NOT_IN_PRODUCT,
    LOOSE_TITLE_REGIONS,
    MAX_SELLER_SKUS,
    MAX_STATUS_PRODUCT_IDS,
    PRODUCT_STATUSES,
)
from connectors.tiktokshop.simulator.core import Outgoing
from connectors.tiktokshop.simulator.inventory import InventoryMixin
from connectors.tiktokshop.simulator.media import MediaMixin
from connectors.tiktokshop.simulator.requests import (
    Ctx,
    SimError,
    business_error,
    decimal_text,
    int_field,
    param,
    wire_dimensions,
    wire_weight,
)
from connectors.tiktokshop.simulator.state import (
    SimProduct,
    SimShop,
    SimSku,
)


class ProductsMixin(AuditsMixin, InventoryMixin, CatalogRoutesMixin, MediaMixin):
    """Product endpoints of `TikTokShopSimulator`."""

    def _warehouses(self, ctx: Ctx) -> Mapping[str, Any]:
        return {"warehouses": [asdict(w) for w in self._shop(ctx).warehouses]}

    def _search(self, ctx: Ctx) -> Mapping[str, Any]:
        shop = self._shop(ctx)
        status = ctx.body.get("status") or "ALL"
        if status != "ALL" and status not in PRODUCT_STATUSES:
            raise param("status", "unknown status")
        low = int_field(ctx.body.get("update_time_ge", 0), "update_time_ge")
        high = int_field(ctx.body.get("update_time_le", 2**62), "update_time_le")
        seller_skus = ctx.body.get("seller_skus")
        if seller_skus is not None and (not isinstance(seller_skus, list) or len(seller_skus) > MAX_SELLER_SKUS):
            raise business_error(12019027, "The maximum count of 'seller_skus' in the search filter is 10.")
        fingerprint = json.dumps(["products", shop.id, status, low, high, seller_skus], sort_keys=True)
        page_size, offset = self._page(ctx, fingerprint)
        cap = shop.options.search_result_cap
        if offset >= cap:
            raise business_error(E_SEARCH_CAP, "The total number of search results can not exceed 10000.")
        matches = sorted(
            (
                product
                for product in self.state.products.values()
                if product.shop_id == shop.id
                and low <= product.update_time <= high
                and (status == "ALL" or product.status == status)
                and (not seller_skus or any(sku.seller_sku in seller_skus for sku in product.skus))
            ),
            key=lambda product: (product.update_time, product.id),
        )
        page = matches[offset : offset + min(page_size, cap - offset)]
        end = offset + len(page)
        return {
            "products": [self._summary_wire(product) for product in page],
            "total_count": min(len(matches), shop.options.total_count_cap),
            "next_page_token": self._next_token(fingerprint, end) if end < len(matches) else "",
        }

    @staticmethod
    def _sku_wire(sku: SimSku) -> dict[str, Any]:
        return {
            "id": sku.id,
            "seller_sku": sku.seller_sku,
            "price": {
                "currency": sku.currency,
                "sale_price": sku.sale_price or sku.price,
                "tax_exclusive_price": sku.price,
            },
            "inventory": [{"warehouse_id": w, "quantity": q} for w, q in sorted(sku.inventory.items())],
            "sales_attributes": list(sku.sales_attributes),
        }

    def _summary_wire(self, product: SimProduct) -> dict[str, Any]:
        return {
            "id": product.id,
            "title": product.title,
            "status": product.status,
            "create_time": product.create_time,
            "update_time": product.update_time,
            "skus": [self._sku_wire(sku) for sku in product.skus],
        }

    def _detail_wire(self, product: SimProduct) -> dict[str, Any]:
        images = [
            {"uri": uri, "urls": [uri if uri.startswith(("http://", "https://")) else f"https://sim-cdn.invalid/{uri}"]}
            for uri in product.main_images
        ]
        chains = [
            {"id": "600000", "parent_id": "0", "local_name": "Root", "is_leaf": False},
            {"id": product.category_id, "parent_id": "600000", "local_name": "Leaf", "is_leaf": True},
        ]
        audit = {"PENDING": "AUDITING", "FAILED": "AUDIT_FAILED"}.get(product.status, "APPROVED")
        wire = self._summary_wire(product) | {
            "description": product.description,
            "category_chains": chains,
            "main_images": images,
            "audit": {"status": audit},
            "product_attributes": [dict(row) for row in product.product_attributes],
        }
        if product.brand_id:
            wire["brand"] = {"id": product.brand_id}
        if product.status == "FAILED":
            wire["audit_failed_reasons"] = [dict(reason) for reason in product.audit_failed_reasons]
        if product.package_weight:
            wire["package_weight"] = dict(product.package_weight)
        if product.package_dimensions:
            wire["package_dimensions"] = dict(product.package_dimensions)
        return wire

    def _detail(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._detail_wire(self._own_product(ctx, ctx.path_params["product_id"], detail=True))

    @staticmethod
    def _check_title(shop: SimShop, value: Any) -> str:
        low = 1 if shop.region.upper() in LOOSE_TITLE_REGIONS else 25
        if not isinstance(value, str) or not low <= len(value) <= 255:
            raise param("title", f"must be {low} to 255 characters in region {shop.region}")
        return value

    def _images(self, shop: SimShop, value: Any, seller_id: str) -> list[str]:
        """main_images[{uri}]: uris of uploaded images (unless the shop's `refuse_image_urls` is off)."""
        if not isinstance(value, list) or not 1 <= len(value) <= 9:
            raise param("main_images", "between 1 and 9 images")
        uris = [image.get("uri") if isinstance(image, dict) else None for image in value]
        if not all(isinstance(uri, str) and uri for uri in uris):
            raise param("main_images", "every image needs a uri")
        if shop.options.refuse_image_urls:
            self._check_image_uris(seller_id, [str(uri) for uri in uris])
        return [str(uri) for uri in uris]

    def _partial_edit(self, ctx: Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        shop, body = self._shop(ctx), ctx.body
        edit: dict[str, Any] = {}
        if "title" in body:
            edit["title"] = self._check_title(shop, body["title"])
        if "description" in body:
            if not isinstance(body["description"], str) or not body["description"]:
                raise param("description", "must be a non-empty string")
            edit["description"] = body["description"]
        if "main_images" in body:
            edit["main_images"] = self._images(shop, body["main_images"], ctx.seller_id)
        if "package_weight" in body:
            edit["package_weight"] = wire_weight(body["package_weight"])
        if "package_dimensions" in body:
            edit["package_dimensions"] = wire_dimensions(body["package_dimensions"])
        answered = [{"id": s.id, "seller_sku": s.seller_sku} for s in product.skus]
        if "skus" in body:
            entries = self._skus_param(ctx)
            edit["skus"] = self._edited_skus(shop, product, [e for e in entries if e.get("id") not in (None, "")])
            # The property is replaced: SKUs left out are removed, SKUs without an id are added.
            edit["keep"] = [str(e["id"]) for e in entries if e.get("id") not in (None, "")]
            new = [e for e in entries if e.get("id") in (None, "")]
            taken = {s.seller_sku for s in product.skus if s.id in edit["keep"]}
            if any(e.get("seller_sku") in taken for e in new):
                raise param("skus.seller_sku", "a new SKU repeats the seller_sku of a SKU of the product")
            added = self._new_skus(shop, new, require_warehouse=True)
            edit["new_skus"] = [asdict(sku) for sku in added]
            answered = [{"id": s.id, "seller_sku": s.seller_sku} for s in product.skus if s.id in edit["keep"]]
            answered += [{"id": s.id, "seller_sku": s.seller_sku} for s in added]
        self._start_audit(shop, product, {**(product.pending_edit or {}), **edit})
        product.update_time = max(self.now(), product.update_time)
        return {"product_id": product.id, "skus": answered}

    def _edited_skus(self, shop: SimShop, product: SimProduct, skus: list[dict[str, Any]]) -> dict[str, Any]:
        edited: dict[str, Any] = {}
        for i, entry in enumerate(skus):
            sku_id = str(entry.get("id", ""))
            if product.sku(sku_id) is None:
                raise business_error(E_SKU_NOT_IN_PRODUCT, "The SKU ID does not belong to the product.")
            change: dict[str, Any] = {}
            if "price" in entry:
                price = entry["price"] if isinstance(entry["price"], dict) else {}
                decimal_text(price.get("amount"), f"skus[{i}].price.amount")
                if price.get("currency") != shop.currency:
                    raise business_error(E_CURRENCY, "The provided currency is not available for this shop/region.")
                change["price"] = price["amount"]
            if "inventory" in entry:
                change["inventory"] = self._inventory_rows(
                    shop, entry["inventory"], f"skus[{i}].inventory", require_warehouse=True
                )
            edited[sku_id] = change
        return edited

    def _create(self, ctx: Ctx) -> Mapping[str, Any]:
        shop, body = self._shop(ctx), ctx.body
        key = body.get("idempotency_key")
        if key is not None and not isinstance(key, str):
            raise param("idempotency_key", "must be a string")
        if key and f"{shop.id}:{key}" in self.state.idempotency:
            return self._created(self.state.products[self.state.idempotency[f"{shop.id}:{key}"]])
        title = self._check_title(shop, body.get("title"))
        for name in ("description", "category_id"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise param(name, "required")
        category = self._check_category(body["category_id"])
        images = self._images(shop, body.get("main_images"), ctx.seller_id)
        attributes = self._check_product_attributes(category, body.get("product_attributes"))
        brand_id = self._check_brand(body.get("brand_id"))
        weight = wire_weight(body.get("package_weight"))
        dimensions = wire_dimensions(body["package_dimensions"]) if "package_dimensions" in body else None
        skus = self._new_skus(shop, self._skus_param(ctx))
        now = self.now()
        product = SimProduct(
            self.state.new_id(), shop.id, title, body["description"], body["category_id"],
            images, weight, dimensions, now, now, skus,
            brand_id=brand_id, product_attributes=attributes,
        )  # fmt: skip
        self._start_audit(shop, product, None)
        self.state.products[product.id] = product
        for sku in skus:
            self.write_log.record(shop.id, product.id, sku.id, "stock", None, sku.available)
            self.write_log.record(shop.id, product.id, sku.id, "price", None, Decimal(sku.price))
        if key:
            self.state.idempotency[f"{shop.id}:{key}"] = product.id
        self._outbox.append(Outgoing(shop.id, 16, {"product_id": product.id, "update_time": now}))
        return self._created(product)

    def _new_skus(
        self, shop: SimShop, entries: list[dict[str, Any]], *, require_warehouse: bool = False
    ) -> list[SimSku]:
        skus: list[SimSku] = []
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            seller_sku = entry.get("seller_sku")
            if not isinstance(seller_sku, str) or not seller_sku or seller_sku in seen:
                raise param(f"skus[{i}].seller_sku", "required and unique within the product")
            seen.add(seller_sku)
            price: dict[str, Any] = entry["price"] if isinstance(entry.get("price"), dict) else {}
            amount = decimal_text(price.get("amount"), f"skus[{i}].price.amount")
            if price.get("currency") != shop.currency:
                raise business_error(E_CURRENCY, "The provided currency is not available for this shop/region.")
            inventory = self._inventory_rows(
                shop, entry.get("inventory"), f"skus[{i}].inventory", require_warehouse=require_warehouse
            )
            attributes = [
                {
                    "id": "100000",
                    "name": str(a.get("name", "")),
                    "value_id": "0",
                    "value_name": str(a.get("value_name", "")),
                }
                for a in entry.get("sales_attributes") or []
                if isinstance(a, dict)
            ]
            sku = SimSku(self.state.new_id(), seller_sku, price["amount"], shop.currency, inventory, attributes)
            self._reprice(shop, sku, amount)
            skus.append(sku)
        return skus

    @staticmethod
    def _created(product: SimProduct) -> Mapping[str, Any]:
        skus = [{"id": s.id, "seller_sku": s.seller_sku, "sales_attributes": s.sales_attributes} for s in product.skus]
        return {"product_id": product.id, "skus": skus, "warnings": []}

    def _product_ids(self, ctx: Ctx) -> list[str]:
        ids = ctx.body.get("product_ids")
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_STATUS_PRODUCT_IDS
            or not all(isinstance(i, str) for i in ids)
        ):
            raise business_error(
                12019120, "The number of provided product IDs exceeds the limit (1 to 20 'product_ids')."
            )
        return ids

    def _set_status(self, ctx: Ctx, status: str) -> Mapping[str, Any]:
        errors: list[dict[str, Any]] = []
        for product_id in self._product_ids(ctx):
            try:
                product = self._own_product(ctx, product_id, writable=True)
            except SimError as error:
                errors.append({"code": error.code, "message": error.message, "detail": {"product_id": product_id}})
                continue
            product.status, product.update_time = status, max(self.now(), product.update_time)
            product.audit_due, product.pending_edit = None, None
        return {"errors": errors} if errors else {}

    def _activate(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "ACTIVATE")

    def _deactivate(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "SELLER_DEACTIVATED")

    def _delete(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "DELETED")
