# The Shopee simulator's product endpoints: listing and detail reads, item creation, edits, unlisting, deletion.
"""`ProductsMixin` serves the product module's read endpoints and its item writes (update_item, add_item,
init_tier_variation, unlist_item, delete_item)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.shopee.simulator.catalog_routes import CatalogRoutesMixin
from connectors.shopee.simulator.codes import (
    ITEM_STATUSES,
    MAX_BATCH,
    MAX_PAGE,
    MSG_LOCATION_MISMATCH,
    Json,
    StockSpec,
)
from connectors.shopee.simulator.media import MediaMixin
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    check_price_ratio,
    comma_list,
    entries_of,
    image_list,
    image_url,
    int_param,
    param_error,
    query_int,
    region_price,
    repeated_list,
    standard_tiers,
    standardise_wire,
    stock_map,
    text_param,
    wire_dimension,
    wire_weight,
)
from connectors.shopee.simulator.state import SimItem, SimModel, SimShop


class ProductsMixin(MediaMixin, CatalogRoutesMixin):
    """Product endpoints of `ShopeeSimulator`."""

    def _own_item(self, shop_id: int, item_id: int, *, live: bool = True) -> SimItem:
        item = self.state.items.get(item_id)
        if item is None or (item.shop_id == shop_id and live and item.deleted):
            raise ApiError("error_item_not_found", "Item_id is not found.", 404)
        if item.shop_id != shop_id:
            raise ApiError("error_item_not_belong_shop", "Item not belong to shop.", 403)
        return item

    def _item_list(self, ctx: Ctx) -> Json:
        offset = query_int(ctx.query, "offset", 0)
        page_size = query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE or offset < 0:
            raise param_error(f"page_size should be between 1 and {MAX_PAGE}; offset at least 0.")
        statuses = repeated_list(ctx.query, "item_status", ctx.own_shop)
        if not statuses:
            raise param_error("item_status is required.")
        invalid = [status for status in statuses if status not in ITEM_STATUSES]
        if invalid:
            raise param_error(f"item_status {invalid[0]} is not a valid status (repeat the key for several).")
        since = query_int(ctx.query, "update_time_from", 0)
        until = query_int(ctx.query, "update_time_to", 2**62)
        if since > until:
            raise ApiError("error_update_time_range", "Update_time_to should be later than update_time_from.")
        matches = [
            item
            for item in sorted(self.state.items.values(), key=lambda i: i.item_id)
            if item.shop_id == ctx.shop_id and item.status in statuses and since <= item.update_time <= until
        ]
        page = matches[offset : offset + page_size]
        return {
            "item": [{"item_id": i.item_id, "item_status": i.status, "update_time": i.update_time} for i in page],
            "total_count": len(matches),
            "has_next_page": offset + len(page) < len(matches),
            "next_offset": offset + len(page),
        }

    @staticmethod
    def _stock_info(model: SimModel) -> Json:
        sellers = [
            {"location_id": location, "stock": qty, "if_saleable": True} if location else {"stock": qty}
            for location, qty in model.stock.items()
        ]
        return {
            "summary_info": {"total_reserved_stock": model.reserved, "total_available_stock": model.total_stock},
            "seller_stock": sellers,
            "shopee_stock": [],
        }

    def _item_json(self, item: SimItem, shop: SimShop) -> Json:
        data: Json = {
            "item_id": item.item_id,
            "category_id": item.category_id,
            "item_name": item.name,
            "description": "" if item.extended_description else item.description,
            "description_type": "extended" if item.extended_description else "normal",
            "item_sku": item.item_sku,
            "create_time": item.create_time,
            "update_time": item.update_time,
            "item_status": item.status,
            "has_model": item.has_model,
            "image": {"image_id_list": item.image_ids, "image_url_list": [image_url(i) for i in item.image_ids]},
            # Shopee sends the weight as a string (kg).
            "weight": str(item.weight),
            "logistic_info": item.logistic_info,
            "attribute_list": item.attribute_list,
            "brand": item.brand,
        }
        if item.extended_description:
            fields = [{"field_type": "text", "text": item.description}]
            data["description_info"] = {"extended_description": {"field_list": fields}}
        if item.dimension:
            data["dimension"] = item.dimension
        if not item.has_model:
            base = item.models[0]
            price = {
                "currency": shop.currency,
                "original_price": base.original_price,
                "current_price": base.original_price,
            }
            data["price_info"] = [price]
            data["stock_info_v2"] = self._stock_info(base)
        else:
            models = item.models.values()
            data["stock_info_v2"] = {
                "summary_info": {
                    "total_reserved_stock": sum(m.reserved for m in models),
                    "total_available_stock": sum(m.total_stock for m in models),
                }
            }
        return data

    def _item_base_info(self, ctx: Ctx) -> Json:
        texts = comma_list(ctx.query, "item_id_list", ctx.own_shop)
        if not 1 <= len(texts) <= MAX_BATCH:
            raise param_error(f"item_id_list should have 1 to {MAX_BATCH} ids.")
        ids = [int_param(text, "item_id_list") for text in texts]
        found = [
            self.state.items[i] for i in ids if i in self.state.items and self.state.items[i].shop_id == ctx.shop_id
        ]
        missing = sorted(set(ids) - {item.item_id for item in found})
        if missing:
            ctx.warnings.append(f"item_id not found: {missing}")
        return {"item_list": [self._item_json(item, ctx.own_shop) for item in found]}

    def _model_list(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, query_int(ctx.query, "item_id"), live=False)
        if not item.has_model:
            return {"tier_variation": [], "standardise_tier_variation": [], "model": []}
        currency = ctx.own_shop.currency
        models = [
            {
                "model_id": m.model_id,
                "model_sku": m.model_sku,
                "tier_index": m.tier_index,
                "price_info": [
                    {"currency": currency, "original_price": m.original_price, "current_price": m.original_price}
                ],
                "stock_info_v2": self._stock_info(m),
            }
            for m in item.models.values()
        ]
        return {
            "tier_variation": item.tier_variation,
            "standardise_tier_variation": standardise_wire(item.tier_variation),
            "model": models,
        }

    def _search_item(self, ctx: Ctx) -> Json:
        offset = query_int(ctx.query, "offset", 0)
        page_size = query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE or offset < 0:
            raise param_error(f"page_size should be between 1 and {MAX_PAGE}; offset at least 0.")
        sku, name = ctx.query.get("item_sku"), (ctx.query.get("item_name") or "").lower()
        matches = [
            item.item_id
            for item in sorted(self.state.items.values(), key=lambda i: i.item_id)
            if item.shop_id == ctx.shop_id
            and not item.deleted
            and (sku is None or item.item_sku == sku)
            and name in item.name.lower()
        ]
        page = matches[offset : offset + page_size]
        return {
            "item_id_list": page,
            "total_count": len(matches),
            "has_next_page": offset + len(page) < len(matches),
            "next_offset": offset + len(page),
        }

    def _touch(self, item: SimItem, now: float) -> None:
        item.update_time = max(item.update_time, int(now))

    @staticmethod
    def _refuse_product_writes(shop: SimShop) -> None:
        if shop.is_cnsc or shop.is_cb:
            raise ApiError(
                "error_auth", "This is a cross-border shop: edit its items with the v2.global_product APIs.", 403
            )

    def _update_item(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        self._refuse_product_writes(ctx.own_shop)
        body, changed = ctx.body, False
        updates: Json = {}
        if "item_name" in body:
            updates["name"] = text_param(body["item_name"], "item_name")
        if "description" in body:
            updates["description"] = text_param(body["description"], "description", allow_empty=True)
        if "item_sku" in body:
            updates["item_sku"] = text_param(body["item_sku"], "item_sku", allow_empty=True)
        if "image" in body:
            updates["image_ids"] = self._check_images(ctx, image_list(body["image"]))
        if "weight" in body:
            updates["weight"] = wire_weight(body["weight"])
        if "dimension" in body:
            updates["dimension"] = wire_dimension(body["dimension"])
        if "category_id" in body:
            updates["category_id"] = int_param(body["category_id"], "category_id", minimum=1)
        if "attribute_list" in body:
            category = updates.get("category_id", item.category_id)
            updates["attribute_list"] = self._check_attributes(category, body["attribute_list"])
        if "brand" in body:
            updates["brand"] = self._check_brand(body["brand"])
        for name, value in updates.items():
            changed |= getattr(item, name) != value
            setattr(item, name, value)
        if changed:
            self._touch(item, ctx.now)
        return {"item_id": item.item_id}

    def _add_item(self, ctx: Ctx) -> Json:
        body = ctx.body
        for required in (
            "original_price",
            "description",
            "weight",
            "item_name",
            "category_id",
            "image",
            "logistic_info",
        ):
            if required not in body:
                raise ApiError("error_param", f"{required} is required.")
        shop = ctx.own_shop
        self._refuse_product_writes(shop)
        price = region_price(body["original_price"], shop, "original_price")
        name = text_param(body["item_name"], "item_name")
        images = self._check_images(ctx, image_list(body["image"]))
        category_id = int_param(body["category_id"], "category_id", minimum=1)
        attributes = self._check_attributes(category_id, body.get("attribute_list"))
        brand = self._check_brand(body.get("brand"))
        logistics = self._check_logistics(ctx, body["logistic_info"])
        stock = self._seeded_stock(body.get("seller_stock", [{"stock": 0}]), shop)
        item = self._new_item(
            shop,
            name=name,
            description=text_param(body["description"], "description", allow_empty=True),
            item_sku=text_param(body.get("item_sku", ""), "item_sku", allow_empty=True),
            category_id=category_id,
            image_ids=images,
            weight=wire_weight(body["weight"]),
            dimension=wire_dimension(body["dimension"]) if "dimension" in body else None,
            logistic_info=logistics,
            attribute_list=attributes,
            brand=brand,
            price=price,
            stock=stock,
        )
        return {"item_id": item.item_id, "item_name": item.name, "item_sku": item.item_sku}

    def _init_tier_variation(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        shop = ctx.own_shop
        self._refuse_product_writes(shop)
        if item.has_model:
            raise ApiError("error_param", "tier_variation already exists for this item.")
        tiers = standard_tiers(ctx.body)
        sizes = [len(tier["option_list"]) for tier in tiers]
        rows = entries_of(ctx.body.get("model"), "model", 1, MAX_BATCH)
        models: dict[int, SimModel] = {}
        seen: set[tuple[int, ...]] = set()
        for row in rows:
            index = row.get("tier_index")
            if (
                not isinstance(index, list)
                or len(index) != len(sizes)
                or not all(isinstance(i, int) and 0 <= i < size for i, size in zip(index, sizes, strict=False))
            ):
                raise ApiError("error_param", "model.tier_index does not match tier_variation.")
            if tuple(index) in seen:
                raise ApiError("error_param", "model.tier_index repeats a combination.")
            seen.add(tuple(index))
            price = region_price(row.get("original_price"), shop, "model.original_price")
            stock = self._seeded_stock(row.get("seller_stock"), shop)
            model_id = self.state.next_model_id
            self.state.next_model_id += 1
            sku = text_param(row.get("model_sku", ""), "model.model_sku", allow_empty=True)
            models[model_id] = SimModel(
                model_id=model_id, model_sku=sku, tier_index=index, original_price=price, stock=stock
            )
        check_price_ratio([m.original_price for m in models.values()], shop)
        item.models, item.has_model, item.tier_variation = models, True, tiers
        self._touch(item, ctx.now)
        return {
            "item_id": item.item_id,
            "standardise_tier_variation": standardise_wire(tiers),
            "model": [
                {"model_id": m.model_id, "model_sku": m.model_sku, "tier_index": m.tier_index} for m in models.values()
            ],
        }

    def _unlist_item(self, ctx: Ctx) -> Json:
        successes: list[Json] = []
        failures: list[Json] = []
        for entry in entries_of(ctx.body.get("item_list"), "item_list", 1, MAX_BATCH):
            item_id, unlist = entry.get("item_id"), entry.get("unlist")
            try:
                if not isinstance(unlist, bool) or not isinstance(item_id, int):
                    raise ApiError("error_param", "item_list entries need item_id and unlist (boolean).")
                item = self._own_item(ctx.shop_id, item_id)
                if item.status not in ("NORMAL", "UNLIST"):
                    raise ApiError("error_param", f"an item in status {item.status} cannot be listed or unlisted.")
            except ApiError as error:
                failures.append({"item_id": item_id, "failed_reason": error.message})
                continue
            status = "UNLIST" if unlist else "NORMAL"
            if item.status != status:
                item.status = status
                self._touch(item, ctx.now)
            successes.append({"item_id": item.item_id, "unlist": unlist})
        return {"success_list": successes, "failure_list": failures}

    def _delete_item(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        item.status = "SELLER_DELETE"
        self._touch(item, ctx.now)
        return {}

    def _seeded_stock(self, rows: Any, shop: SimShop) -> dict[str, int]:
        """seller_stock of add_item / init_tier_variation: rows of {location_id?, stock}."""
        if rows is None:
            rows = [{"stock": 0}]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise param_error("seller_stock must be a list of {location_id, stock}.")
        stock = stock_map(0, shop.locations)
        for row in rows:
            location = row.get("location_id", shop.locations[0])
            if location not in shop.locations:
                raise ApiError("error_auth", MSG_LOCATION_MISMATCH, 403)
            stock[location] = int_param(row.get("stock", 0), "seller_stock.stock", minimum=0)
        return stock

    def _new_item(
        self,
        shop: SimShop,
        *,
        name: str,
        price: Decimal,
        stock: StockSpec,
        status: str = "NORMAL",
        update_time: int | None = None,
        **fields: Any,
    ) -> SimItem:
        item_id = self.state.next_item_id
        self.state.next_item_id += 1
        now = int(self._now())
        item = SimItem(
            item_id=item_id,
            shop_id=shop.shop_id,
            name=name,
            status=status,
            create_time=now,
            update_time=update_time if update_time is not None else now,
            models={0: SimModel(model_id=0, original_price=price, stock=stock_map(stock, shop.locations))},
            **fields,
        )
        self.state.items[item_id] = item
        return item
