# The Shopee simulator's variation writes on listed items: add_model and update_tier_variation.
"""`VariationsMixin` adds models to an item that has variations (add_model) and changes its tiers
(update_tier_variation, `standardise_tier_variation` only: new options are appended, the level count
cannot change, existing models keep their tier_index unless `model_list` moves them)."""

from __future__ import annotations

from connectors.shopee.simulator.codes import MAX_BATCH, Json
from connectors.shopee.simulator.products import ProductsMixin
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    check_price_ratio,
    entries_of,
    int_param,
    region_price,
    standard_tiers,
    standardise_wire,
    text_param,
)
from connectors.shopee.simulator.state import SimItem, SimModel

MSG_NO_TIERS = "Item without tier_variation. Please use init_tier_variation api to upgrade the structure."


def _sizes(item: SimItem) -> list[int]:
    return [len(tier.get("option_list", [])) for tier in item.tier_variation]


def _valid_index(index: object, sizes: list[int]) -> bool:
    return (
        isinstance(index, list)
        and len(index) == len(sizes)
        and all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i, n in zip(index, sizes, strict=False)
        )
    )


class VariationsMixin(ProductsMixin):
    """add_model and update_tier_variation of `ShopeeSimulator`."""

    def _add_model(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        shop = ctx.own_shop
        self._refuse_product_writes(shop)
        if not item.has_model:
            raise ApiError("error_param", MSG_NO_TIERS)
        rows = entries_of(ctx.body.get("model_list"), "model_list", 1, MAX_BATCH)
        if len(item.models) + len(rows) > MAX_BATCH:
            raise ApiError("error_param", f"an item has at most {MAX_BATCH} models.")
        sizes = _sizes(item)
        taken = {tuple(model.tier_index) for model in item.models.values()}
        added: list[SimModel] = []
        for row in rows:
            index = row.get("tier_index")
            if not _valid_index(index, sizes):
                raise ApiError("error_param", "Model tier_index error.")
            assert isinstance(index, list)
            if tuple(index) in taken:
                raise ApiError("error_model_duplicate_tier_variation_index", "Item have duplicate tier_index.")
            taken.add(tuple(index))
            if "seller_stock" not in row:
                raise ApiError("error_param", "model_list.seller_stock is required.")
            model_id = self.state.next_model_id
            self.state.next_model_id += 1
            added.append(
                SimModel(
                    model_id=model_id,
                    model_sku=text_param(row.get("model_sku", ""), "model_list.model_sku", allow_empty=True),
                    tier_index=index,
                    original_price=region_price(row.get("original_price"), shop, "model_list.original_price"),
                    stock=self._seeded_stock(row.get("seller_stock"), shop),
                )
            )
        check_price_ratio([m.original_price for m in (*item.models.values(), *added)], shop)
        for model in added:
            item.models[model.model_id] = model
        self._touch(item, ctx.now)
        return {
            "model": [
                {
                    "tier_index": m.tier_index,
                    "model_id": m.model_id,
                    "model_sku": m.model_sku,
                    "price_info": [{"original_price": m.original_price}],
                    "seller_stock": [{"location_id": loc, "stock": qty} for loc, qty in m.stock.items()],
                }
                for m in added
            ]
        }

    def _update_tier_variation(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        self._refuse_product_writes(ctx.own_shop)
        if not item.has_model:
            raise ApiError("error_tier_var_is_", MSG_NO_TIERS)
        tiers = standard_tiers(ctx.body)
        if len(tiers) != len(item.tier_variation):
            raise ApiError("error_param", "Canot change the level of tier-variation.")
        sizes = [len(tier["option_list"]) for tier in tiers]
        moves: dict[int, list[int]] = {}
        rows = ctx.body.get("model_list") or []
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ApiError("error_param", "model_list must be a list of {model_id, tier_index}.")
        for row in rows:
            model_id = int_param(row.get("model_id"), "model_list.model_id")
            if model_id not in item.models or not _valid_index(row.get("tier_index"), sizes):
                raise ApiError("error_tier_index", "The tier_index is not exist")
            moves[model_id] = list(row["tier_index"])
        indexes = {mid: moves.get(mid, m.tier_index) for mid, m in item.models.items()}
        if not all(_valid_index(index, sizes) for index in indexes.values()):
            raise ApiError("error_param", "Model tier_index error.")
        if len({tuple(index) for index in indexes.values()}) != len(indexes):
            raise ApiError("error_model_duplicate_tier_variation_index", "Item have duplicate tier_index.")
        for model_id, index in indexes.items():
            item.models[model_id].tier_index = index
        item.tier_variation = tiers
        self._touch(item, ctx.now)
        return {"item_id": item.item_id, "standardise_tier_variation": standardise_wire(tiers)}
