# The Shopee simulator's shop endpoints: shop info and warehouse detail.
"""`ShopRoutesMixin` answers get_shop_info and get_warehouse_detail."""

from __future__ import annotations

from connectors.shopee.simulator.codes import (
    AUTHORIZATION_DAYS,
    MSG_NOT_WHITELISTED,
    Json,
)
from connectors.shopee.simulator.core import SimulatorCore
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    param_error,
    query_int,
)


class ShopRoutesMixin(SimulatorCore):
    """Shop endpoints of `ShopeeSimulator`."""

    def _shop_info(self, ctx: Ctx) -> Json:
        shop = ctx.own_shop
        return {
            "shop_name": shop.name,
            "region": shop.region,
            "status": "NORMAL",
            "is_cb": shop.is_cb,
            "is_upgraded_cbsc": shop.is_cnsc,
            "merchant_id": None,
            "is_sip": False,
            "sip_affi_shops": [],
            "shop_fulfillment_flag": "Others",
            "is_main_shop": False,
            "is_direct_shop": False,
            "linked_main_shop_id": 0,
            "linked_direct_shop_list": [],
            "auth_time": shop.auth_time,
            "expire_time": shop.auth_time + AUTHORIZATION_DAYS * 86400,
        }

    def _warehouse_detail(self, ctx: Ctx) -> list[Json]:
        shop = ctx.own_shop
        warehouse_type = query_int(ctx.query, "warehouse_type", 1)
        if warehouse_type not in (1, 2):
            raise param_error("warehouse_type must be 1 (pickup) or 2 (return).")
        if not shop.multi_location:
            raise ApiError("warehouse.error_not_in_whitelist", MSG_NOT_WHITELISTED)
        if warehouse_type == 2:
            return []
        rows = [
            {
                "warehouse_id": index + 1,
                "warehouse_name": f"Warehouse {location}",
                "warehouse_type": 1,
                "location_id": location,
                "address_id": 100_000 + index,
                "region": shop.region,
                "state": "",
                "city": "",
                "address": f"Simulated address {index + 1}",
                "zipcode": "",
                "district": "",
                "town": "",
                "state_code": "",
                "holiday_mode_state": 1 if shop.holiday_mode else 0,
            }
            for index, location in enumerate(shop.locations)
        ]
        return rows
