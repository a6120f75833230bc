# /v1/orders: the orders seen (webhooks and polls) with their lines and bound SKUs, oldest first, cursor-paged.
from __future__ import annotations

from datetime import timedelta

from connectors.base import OrderStatus
from syncstore.db.engine import transaction
from syncstore.db.models import ProductVariant
from syncstore.security.auth import Actor
from syncstore.shops import connections
from tests.api.conftest import Api
from tests.syncstore.orders.seen import T0, line, remote_order, see


def shop_with_orders(api: Api) -> str:
    """A Shopee shop and three orders seen in turn: 1001 paid, 1002 cancelled, 1003 paid. The bound SKU."""
    with transaction(api.engine) as session:
        shop = connections.save_connection(
            Actor.command_line(),
            session,
            platform="shopee",
            shop_id="100001",
            shop_name="Kedai A",
            region="SG",
            access_token="a",
            refresh_token="r",
            access_token_expires_at=None,
            refresh_token_expires_at=None,
        )
        connection_id = shop.id
        sku = session.get_one(ProductVariant, api.variant_ids[0]).sku
    for number, status in (("1001", OrderStatus.PAID), ("1002", OrderStatus.CANCELLED), ("1003", OrderStatus.PAID)):
        see(
            api.engine,
            connection_id,
            remote_order(
                ("shopee", "100001"),
                number,
                status,
                line("1", sku, 2),
                updated_at=T0 + timedelta(minutes=int(number) - 1000),
            ),
        )
    return sku


def test_orders_are_listed_with_their_lines_and_paged_by_cursor(api: Api) -> None:
    sku = shop_with_orders(api)
    first = api.client.get("/v1/orders", params={"limit": 2}, headers=api.as_("viewer"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert [o["order_id"] for o in body["items"]] == ["1001", "1002"]
    order = body["items"][0]
    assert (order["platform"], order["shop_id"], order["shop_name"], order["status"], order["event_type"]) == (
        "shopee",
        "100001",
        "Kedai A",
        "paid",
        "order_status",
    )
    assert order["occurred_at"].startswith("2026-12-01T08:01")
    assert [(ln["seller_sku"], ln["master_sku"], ln["quantity"]) for ln in order["lines"]] == [(sku, sku, 2)]
    rest = api.client.get("/v1/orders", params={"limit": 2, "cursor": body["next_cursor"]}, headers=api.as_("viewer"))
    assert [o["order_id"] for o in rest.json()["items"]] == ["1003"] and rest.json()["next_cursor"] is None


def test_orders_filter_by_status_and_number_and_refuse_an_unknown_status(api: Api) -> None:
    shop_with_orders(api)
    paid = api.client.get("/v1/orders", params={"status": "paid"}, headers=api.as_("viewer")).json()
    assert [o["order_id"] for o in paid["items"]] == ["1001", "1003"]
    one = api.client.get("/v1/orders", params={"order_id": "1002"}, headers=api.as_("viewer")).json()
    assert [o["status"] for o in one["items"]] == ["cancelled"]
    assert api.client.get("/v1/orders", params={"status": "lost"}, headers=api.as_("viewer")).status_code == 422
