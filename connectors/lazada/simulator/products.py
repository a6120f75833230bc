# The Lazada simulator's product APIs: list by windows, item detail, create (with QC), update, deactivate, remove.
"""`ProductsMixin`: products keyed by item id + SKU id (SellerSku is unique only within an item)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from connectors.lazada.simulator.catalog import CATEGORY_ATTRIBUTES, leaf_ids
from connectors.lazada.simulator.codes import (
    E_ALREADY_INACTIVE,
    E_BAD_DATE,
    E_BAD_LIMIT,
    E_BAD_OFFSET,
    E_DUPLICATE_SKU,
    E_FAILED,
    E_FORMAT,
    E_INVALID_PARAM,
    E_ITEM_MISSING,
    E_NOT_LEAF,
    E_SELLER_SKU_KEY,
    E_SKU_MISSING,
    E_TOO_MANY_SKUS,
    IMAGES_MAX,
    PRODUCT_FILTERS,
    PRODUCT_OFFSET_MAX,
    PRODUCT_PAGE_MAX,
    PUSH_PRODUCT_CREATED,
    PUSH_PRODUCT_DELETED,
    PUSH_PRODUCT_UPDATED,
    REMOVE_MAX,
    SKU_LIMIT,
)
from connectors.lazada.simulator.core import SimulatorCore
from connectors.lazada.simulator.requests import (
    Ctx,
    SimError,
    as_list,
    decimal_text,
    integer,
    mapping_of,
    ok,
    parse_iso,
    parse_payload,
    required,
    skus_of,
)
from connectors.lazada.simulator.state import SimProduct, SimSeller, SimSku

_FILTER_STATUS = {"live": "Active", "inactive": "InActive", "deleted": "Deleted", "pending": "Pending QC"}
_PACKAGE = ("package_weight", "package_length", "package_width", "package_height")


def sku_wire(product: SimProduct, sku: SimSku, country: str) -> dict[str, Any]:
    stocked = [(code, qty) for code, qty in sku.sellable.items() if qty > 0]
    return {
        "SkuId": int(sku.sku_id),
        "SellerSku": sku.seller_sku,
        "ShopSku": f"{product.item_id}_{country.upper()}-{sku.sku_id}",
        "Status": sku.status,
        "quantity": sku.total_sellable,
        "Available": sku.total_sellable,
        "price": float(sku.price),
        "special_price": float(sku.special_price) if sku.special_price else 0.0,
        **{key: value for key, value in sku.package.items()},
        "Images": [],
        "saleProp": dict(sku.sale_prop),
        "multiWarehouseInventories": [
            {
                "warehouseCode": code,
                "quantity": qty,
                "sellableQuantity": qty,
                "totalQuantity": qty + (sku.withhold + sku.occupy if index == 0 else 0),
                "occupyQuantity": sku.occupy if index == 0 else 0,
                "withholdQuantity": sku.withhold if index == 0 else 0,
            }
            for index, (code, qty) in enumerate(stocked)
        ],
        "channelInventories": [
            {"channelName": "campaign", "startTime": 0, "endTime": 0, "sellableQuantity": sku.campaign_lock}
        ]
        if sku.campaign_lock
        else [],
    }


def product_wire(product: SimProduct, country: str) -> dict[str, Any]:
    return {
        "item_id": int(product.item_id),
        "primary_category": int(product.category_id),
        "attributes": {
            "name": product.name,
            "description": product.description,
            "brand": product.brand,
            **product.attributes,
        },
        "images": list(product.images),
        "marketImages": [],
        "status": product.status,
        "subStatus": product.sub_status,
        "rejectReason": list(product.reject_reason),
        "suspendedSkus": [],
        "created_time": str(product.created_ms),
        "updated_time": str(product.updated_ms),
        "skus": [sku_wire(product, sku, country) for sku in product.skus],
    }


class ProductsMixin(SimulatorCore):
    """Product, image, category, brand and seller APIs."""

    def own_product(self, seller: SimSeller, item_id: str) -> SimProduct:
        product = self.state.products.get(item_id)
        if product is None or product.seller_id != seller.seller_id or product.status == "Deleted":
            raise SimError(E_ITEM_MISSING, f"Product {item_id} does not exist", kind="ISV")
        return product

    def touch(
        self, product: SimProduct, message_type: int = PUSH_PRODUCT_UPDATED, action: str = "EDITED_UPDATED"
    ) -> None:
        product.updated_ms = self.now_ms()
        skus = [
            {"shop_sku": f"{product.item_id}-{s.sku_id}", "seller_sku": s.seller_sku, "sku_id": int(s.sku_id)}
            for s in product.skus
        ]
        data = {
            "item_id": int(product.item_id),
            "sku_list": skus,
            "action": action,
            "status_update_time": product.updated_ms,
        }
        self.push(product.seller_id, message_type, data)

    # --- reads ---------------------------------------------------------------------------------

    def h_products_get(self, ctx: Ctx) -> Response:
        params = ctx.params
        name = params.get("filter", "all")
        if name not in PRODUCT_FILTERS:
            raise SimError(E_INVALID_PARAM, f"Invalid filter: {name}")
        limit = integer(params.get("limit", "20"), "limit")
        offset = integer(params.get("offset", "0"), "offset")
        if not 1 <= limit <= PRODUCT_PAGE_MAX:
            raise SimError(E_BAD_LIMIT, f"Invalid Limit: limit must be between 1 and {PRODUCT_PAGE_MAX}")
        if not 0 <= offset <= PRODUCT_OFFSET_MAX:
            raise SimError(E_BAD_OFFSET, f"Invalid Offset: offset must be between 0 and {PRODUCT_OFFSET_MAX}")
        bounds = {
            key: parse_iso(params[key], E_BAD_DATE) * 1000
            for key in ("update_after", "update_before", "create_after", "create_before")
            if key in params
        }
        wanted = self._seller_sku_filter(params.get("sku_seller_list"))
        rows = []
        for product in self.state.products.values():
            if product.seller_id != ctx.shop.seller_id:
                continue
            if wanted is not None and not wanted & {sku.seller_sku for sku in product.skus}:
                continue
            if name == "all" and product.status == "Deleted":
                continue
            if name in _FILTER_STATUS and product.status != _FILTER_STATUS[name]:
                continue
            if name == "rejected" and product.sub_status != "Reject":
                continue
            if name == "sold-out" and any(sku.total_sellable for sku in product.skus):
                continue
            if "update_after" in bounds and product.updated_ms < bounds["update_after"]:
                continue
            if "update_before" in bounds and product.updated_ms > bounds["update_before"] + 999:
                continue
            if "create_after" in bounds and product.created_ms < bounds["create_after"]:
                continue
            if "create_before" in bounds and product.created_ms > bounds["create_before"] + 999:
                continue
            rows.append(product)
        rows.sort(key=lambda product: (product.updated_ms, product.item_id))
        page = rows[offset : offset + limit]
        country = ctx.shop.country
        return ok({"total_products": len(rows), "products": [product_wire(product, country) for product in page]})

    @staticmethod
    def _seller_sku_filter(raw: str | None) -> set[str] | None:
        """`sku_seller_list`: a JSON array of at most 100 whole-word SellerSkus."""
        if raw is None:
            return None
        try:
            values = json.loads(raw)
        except ValueError:
            raise SimError(E_FORMAT, "sku_seller_list must be a JSON array") from None
        if not isinstance(values, list) or len(values) > 100:
            raise SimError(E_FORMAT, "sku_seller_list must be a JSON array of at most 100 SellerSkus")
        return {str(value) for value in values}

    def h_item_get(self, ctx: Ctx) -> Response:
        if "item_id" not in ctx.params and "seller_sku" in ctx.params:
            raise SimError(E_SELLER_SKU_KEY, "seller_sku is no longer supported as a key: use item_id")
        product = self.own_product(ctx.shop, required(ctx.params, "item_id"))
        return ok(product_wire(product, ctx.shop.country))

    # --- create and update ---------------------------------------------------------------------

    def _check_images(self, images: list[str]) -> None:
        if len(images) > IMAGES_MAX:
            raise SimError(
                E_FAILED, "Too many images", detail=[{"field": "Images", "message": f"at most {IMAGES_MAX} images"}]
            )
        foreign = [url for url in images if url not in self.state.images]
        if foreign:
            detail = [
                {"field": "Images", "message": f"image {url} is not hosted by Lazada: migrate it first"}
                for url in foreign
            ]
            raise SimError(E_FAILED, "Invalid images", detail=detail)

    def _new_sku(self, seller: SimSeller, row: dict[str, Any]) -> SimSku:
        quantity = integer(row.get("quantity", row.get("Quantity", "0")), "quantity")
        if quantity < 0:
            raise SimError(E_FORMAT, "quantity must be >= 0")
        return SimSku(
            sku_id=self.state.new_id(),
            seller_sku=str(row.get("SellerSku") or ""),
            price=decimal_text(row.get("price", row.get("Price")), "price"),
            sellable={seller.warehouses[0]: quantity},
            package={key: str(row[key]) for key in _PACKAGE if row.get(key) not in (None, "")},
            sale_prop={str(k): str(v) for k, v in (row.get("saleProp") or {}).items()}
            if isinstance(row.get("saleProp"), dict)
            else {},
        )

    def h_product_create(self, ctx: Ctx) -> Response:
        request = parse_payload(required(ctx.params, "payload"))
        product_in = request.get("Product")
        if not isinstance(product_in, dict):
            raise SimError("30", "Empty request: no Product")
        rows = skus_of(product_in)
        if not rows:
            raise SimError("30", "Empty request: no Sku")
        if len(rows) > SKU_LIMIT:
            raise SimError(E_TOO_MANY_SKUS, f"Too many SKUs: at most {SKU_LIMIT}")
        seller_skus = [str(row.get("SellerSku") or "") for row in rows]
        if any(not sku for sku in seller_skus):
            raise SimError(E_FAILED, "SellerSku is required", detail=[{"field": "SellerSku", "message": "required"}])
        associated = product_in.get("AssociatedSku")
        if associated:
            product = next(
                (
                    p
                    for p in self.state.products.values()
                    if p.seller_id == ctx.shop.seller_id
                    and p.status != "Deleted"
                    and any(s.seller_sku == associated for s in p.skus)
                ),
                None,
            )
            if product is None:
                raise SimError(E_SKU_MISSING, f"AssociatedSku {associated} does not exist")
            taken = {sku.seller_sku for sku in product.skus}
        else:
            category = str(product_in.get("PrimaryCategory") or "")
            if category not in leaf_ids():
                raise SimError(E_NOT_LEAF, f"PrimaryCategory {category} is not a leaf category")
            attributes = mapping_of(product_in.get("Attributes"))
            images = [
                str(url)
                for url in as_list(
                    (product_in.get("Images") or {}).get("Image")
                    if isinstance(product_in.get("Images"), dict)
                    else None
                )
            ]
            self._check_images(images)
            missing = [
                row["name"]
                for row in CATEGORY_ATTRIBUTES.get(category, [])
                if row["is_mandatory"] and row["name"] != "brand" and not attributes.get(row["name"])
            ]
            if missing:
                detail = [{"field": name, "message": f"{name} is mandatory"} for name in missing]
                raise SimError("4110", "Mandatory attribute is missing", detail=detail)
            now = self.now_ms()
            brand = str(attributes.get("brand") or attributes.get("brand_id") or "No Brand")
            extra = {
                str(k): str(v) for k, v in attributes.items() if k not in {"name", "description", "brand", "brand_id"}
            }
            product = SimProduct(
                item_id=self.state.new_id(),
                seller_id=ctx.shop.seller_id,
                category_id=category,
                name=str(attributes.get("name") or ""),
                description=str(attributes.get("description") or ""),
                images=images,
                status="Pending QC",
                brand=brand,
                attributes=extra,
                created_ms=now,
                updated_ms=now,
                qc_due_at=self.clock.now() + self.qc_delay_s,
            )
            taken = set()
        if len(set(seller_skus)) != len(seller_skus) or taken & set(seller_skus):
            raise SimError(E_DUPLICATE_SKU, "SellerSku already exists in this product")
        new = [self._new_sku(ctx.shop, row) for row in rows]
        product.skus.extend(new)
        self.state.products[product.item_id] = product
        action = "EDITED_INSERTED" if associated else "PUBLISHED"
        self.touch(product, PUSH_PRODUCT_CREATED, action)
        return ok(
            {
                "item_id": int(product.item_id),
                "sku_list": [
                    {
                        "seller_sku": s.seller_sku,
                        "shop_sku": f"{product.item_id}_{ctx.shop.country.upper()}-{s.sku_id}",
                        "sku_id": int(s.sku_id),
                    }
                    for s in new
                ],
                "item_status": product.status,
            }
        )

    def h_product_update(self, ctx: Ctx) -> Response:
        request = parse_payload(required(ctx.params, "payload"))
        product_in = mapping_of(request.get("Product"))
        product = self.own_product(ctx.shop, required(product_in, "ItemId"))
        if any(sku.campaign_lock for sku in product.skus):
            detail = [{"field": "ItemId", "message": "THD_IC_ERR_F_IC_ABILITY_PG_001: the product is in a campaign"}]
            raise SimError("501", "The product is in a campaign and cannot be edited", detail=detail)
        rows = skus_of(product_in)
        for row in rows:
            if not row.get("SkuId"):
                raise SimError(E_FAILED, "SkuId is required", detail=[{"field": "SkuId", "message": "required"}])
            if product.sku(str(row["SkuId"])) is None:
                raise SimError(E_SKU_MISSING, f"SKU {row['SkuId']} does not exist")
        attributes = mapping_of(product_in.get("Attributes"))
        images_in = product_in.get("Images")
        images = [str(url) for url in as_list(images_in.get("Image"))] if isinstance(images_in, dict) else None
        if images is not None:
            self._check_images(images)
        if "name" in attributes:
            product.name = str(attributes["name"])
        if "description" in attributes:
            product.description = str(attributes["description"])
        if images is not None:
            product.images = images
        for row in rows:
            sku = product.sku(str(row["SkuId"]))
            assert sku is not None
            for key in _PACKAGE:
                if row.get(key) not in (None, ""):
                    sku.package[key] = str(row[key])
            if row.get("Status"):
                status = str(row["Status"]).lower()
                if status not in {"active", "inactive", "deleted"}:
                    raise SimError(E_FORMAT, f"Invalid Status {row['Status']}")
                sku.status = status
            if row.get("price") not in (None, ""):
                sku.price = decimal_text(row["price"], "price")
        if rows and any(sku.status == "active" for sku in product.skus) and product.status == "InActive":
            product.status = "Active"
        self.touch(product)
        return ok()

    def h_product_deactivate(self, ctx: Ctx) -> Response:
        request = parse_payload(required(ctx.params, "apiRequestBody"))
        product_in = mapping_of(request.get("Product"))
        if product_in.get("SellerSku") and not product_in.get("ItemId"):
            raise SimError(E_SELLER_SKU_KEY, "SellerSku can no longer be used as the key: use ItemId")
        product = self.own_product(ctx.shop, required(product_in, "ItemId"))
        sku_ids = [
            str(value)
            for value in as_list(
                (product_in.get("Skus") or {}).get("SkuId") if isinstance(product_in.get("Skus"), dict) else None
            )
        ]
        targets = [product.sku(sku_id) for sku_id in sku_ids] if sku_ids else list(product.skus)
        if any(sku is None for sku in targets):
            raise SimError(E_SKU_MISSING, "SKU does not exist")
        if all(sku is not None and sku.status == "inactive" for sku in targets):
            raise SimError(E_ALREADY_INACTIVE, "The product is already inactive")
        for sku in targets:
            if sku is not None:
                sku.status = "inactive"
        if all(sku.status != "active" for sku in product.skus):
            product.status = "InActive"
        self.touch(product)
        return ok()

    def h_product_remove(self, ctx: Ctx) -> Response:
        if "seller_sku_list" in ctx.params and "sku_id_list" not in ctx.params:
            raise SimError(E_SELLER_SKU_KEY, "seller_sku_list is deprecated: use sku_id_list")
        try:
            keys = json.loads(required(ctx.params, "sku_id_list"))
        except ValueError:
            raise SimError(E_FORMAT, "sku_id_list must be a JSON array") from None
        if not isinstance(keys, list) or len(keys) > REMOVE_MAX:
            raise SimError(E_FORMAT, f"sku_id_list must be a JSON array of at most {REMOVE_MAX}")
        touched: dict[str, SimProduct] = {}
        for key in keys:
            parts = str(key).split("_")
            if len(parts) != 3 or parts[0] != "SkuId":
                raise SimError(E_FORMAT, f"Invalid key {key}: expected SkuId_<itemId>_<skuId>")
            product = self.own_product(ctx.shop, parts[1])
            sku = product.sku(parts[2])
            if sku is None:
                raise SimError(E_SKU_MISSING, f"SKU {parts[2]} does not exist")
            sku.status = "deleted"
            touched[product.item_id] = product
        for product in touched.values():
            if all(sku.status == "deleted" for sku in product.skus):
                product.status = "Deleted"
            self.touch(product, PUSH_PRODUCT_DELETED, "DELETED" if product.status == "Deleted" else "EDITED_DELETED")
        return ok()
