# The fake marketplace's simulator: an in-memory shop served over HTTP (httpx.MockTransport) with signed webhooks.
"""Fakemart's simulator: the marketplace side, written without the connector (an independent oracle).

The wire protocol is JSON over HTTP. An app authorizes a shop (`/oauth/authorize` redirects to the
callback with `code` and `shop_id`; `POST /oauth/token` exchanges or refreshes), then calls the shop
API with `Authorization: Bearer <access token>`: `GET /shop`, `GET /items` (changed since),
`POST /items/get`, `POST /items/{id}/price`, `POST /items/{id}/stock`, `POST /items` (create),
`POST /items/status`, `POST /items/delete`, `POST /orders/get`, `POST /webhooks`. A buyer's order
reduces stock and yields a webhook signed with HMAC-SHA256(app secret, body) in `X-Fakemart-Signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx


@dataclass
class Sku:
    sku_id: str
    seller_sku: str
    price: Decimal
    stock: int


@dataclass
class Item:
    item_id: str
    title: str
    description: str
    category_id: str
    images: list[str]
    skus: dict[str, Sku]
    active: bool = True
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Order:
    order_id: str
    status: str
    lines: list[tuple[str, str, int]]  # (item id, sku id, quantity)
    updated_at: datetime


class FakemartSimulator:
    """One fakemart shop, its app's credentials, and the writes it received."""

    def __init__(self, app_key: str, app_secret: str, shop_id: str, shop_name: str = "Fake shop") -> None:
        self.app_key, self.app_secret = app_key, app_secret
        self.shop_id, self.shop_name = shop_id, shop_name
        self.items: dict[str, Item] = {}
        self.orders: dict[str, Order] = {}
        self.codes: set[str] = set()
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.webhook_url: str | None = None
        self.writes: list[tuple[str, str, dict[str, Any]]] = []  # (kind, item id, body)
        self.images: dict[str, bytes] = {}  # uploaded image id -> bytes
        self._ids = itertools.count(9001)
        self.transport = httpx.MockTransport(self._handle)

    # -- the seller's side ---------------------------------------------------------------------

    def add_item(self, title: str, skus: list[tuple[str, Decimal, int]], *, category_id: str = "fm-cat-1") -> Item:
        item_id = str(next(self._ids))
        item = Item(
            item_id, title, "", category_id, ["https://img.example.com/fm.jpg"],
            {str(next(self._ids)): Sku("", seller_sku, price, stock) for seller_sku, price, stock in skus},
        )  # fmt: skip
        for sku_id, sku in item.skus.items():
            sku.sku_id = sku_id
        self.items[item_id] = item
        return item

    def sku(self, seller_sku: str) -> Sku:
        return next(s for item in self.items.values() for s in item.skus.values() if s.seller_sku == seller_sku)

    def approve(self, authorization_url: str) -> str:
        """The seller approves on the authorization page: the callback URL the browser is sent to."""
        query = parse_qs(urlsplit(authorization_url).query)
        assert query["app_key"] == [self.app_key]
        code = secrets.token_hex(8)
        self.codes.add(code)
        callback = query["redirect_uri"][0]
        params = {"code": code, "shop_id": self.shop_id, "state": query["state"][0]}
        return f"{callback}?{urlencode(params)}"

    # -- a buyer's order and its webhook --------------------------------------------------------

    def place_order(self, seller_sku: str, quantity: int) -> tuple[str, bytes, dict[str, str]]:
        """A buyer orders `quantity` of a SKU: stock drops, and the signed webhook (URL, body, headers) to deliver."""
        item = next(i for i in self.items.values() if any(s.seller_sku == seller_sku for s in i.skus.values()))
        sku = self.sku(seller_sku)
        sku.stock -= quantity
        order_id = f"FM-{next(self._ids)}"
        now = datetime.now(UTC)
        self.orders[order_id] = Order(order_id, "paid", [(item.item_id, sku.sku_id, quantity)], now)
        body = json.dumps(
            {"event": "order", "id": f"evt-{order_id}", "shop": self.shop_id, "order": order_id,
             "at": int(now.timestamp())},
            separators=(",", ":"),
        ).encode()  # fmt: skip
        assert self.webhook_url is not None, "the app registered no webhook URL"
        return self.webhook_url, body, {"X-Fakemart-Signature": self.sign(body), "Content-Type": "application/json"}

    def sign(self, body: bytes) -> str:
        return hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    # -- the API ----------------------------------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if path == "/images" and method == "POST":  # the upload: the raw bytes are the body
            if request.headers.get("authorization", "") not in {f"Bearer {t}" for t in self.access_tokens}:
                return httpx.Response(401, json={"error": "invalid_token"})
            image_id = f"fm-img-{len(self.images) + 1}"
            self.images[image_id] = request.content
            return httpx.Response(200, json={"image_id": image_id, "url": f"https://img.fakemart.example/{image_id}"})
        body = json.loads(request.content) if request.content else {}
        if path == "/oauth/token" and method == "POST":
            return self._token(body)
        if request.headers.get("authorization", "") not in {f"Bearer {t}" for t in self.access_tokens}:
            return httpx.Response(401, json={"error": "invalid_token"})
        if path == "/shop":
            return httpx.Response(200, json={"shop_id": self.shop_id, "name": self.shop_name, "region": "SG"})
        if path == "/items" and method == "GET":
            return httpx.Response(200, json={"items": [
                {"item_id": i.item_id, "updated_at": i.updated_at.isoformat()} for i in self.items.values()
            ]})  # fmt: skip
        if path == "/items/get":
            return httpx.Response(
                200, json={"items": [self._item(self.items[i]) for i in body["ids"] if i in self.items]}
            )
        if path == "/items" and method == "POST":
            return self._create(body)
        if path in ("/items/status", "/items/delete"):
            for item_id in body["ids"]:
                if path.endswith("delete"):
                    self.items.pop(item_id, None)
                elif item_id in self.items:
                    self.items[item_id].active = bool(body["active"])
            return httpx.Response(200, json={"ok": body["ids"]})
        if path.startswith("/items/") and path.endswith("/skus") and method == "POST":
            return self._add_skus(path.split("/")[2], body)
        if path.startswith("/items/") and path.rsplit("/", 1)[1] in ("price", "stock", "fields"):
            return self._write(path.split("/")[2], path.rsplit("/", 1)[1], body)
        if path == "/orders/get":
            return httpx.Response(
                200, json={"orders": [self._order(self.orders[o]) for o in body["ids"] if o in self.orders]}
            )
        if path == "/webhooks" and method == "POST":
            self.webhook_url = str(body["url"])
            return httpx.Response(200, json={"topics": ["order", "item"]})
        return httpx.Response(404, json={"error": "no_such_call"})

    def _token(self, body: dict[str, Any]) -> httpx.Response:
        if body.get("app_key") != self.app_key or body.get("app_secret") != self.app_secret:
            return httpx.Response(401, json={"error": "bad_app"})
        if "code" in body:
            if body["code"] not in self.codes:
                return httpx.Response(400, json={"error": "bad_code"})
            self.codes.discard(body["code"])
        elif body.get("refresh_token") in self.refresh_tokens:
            self.refresh_tokens.discard(body["refresh_token"])
        else:
            return httpx.Response(400, json={"error": "bad_refresh_token"})
        access, refresh = secrets.token_hex(12), secrets.token_hex(12)
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return httpx.Response(
            200, json={"access_token": access, "refresh_token": refresh, "expires_in": 14_400,
                       "shop_id": self.shop_id, "shop_name": self.shop_name},
        )  # fmt: skip

    def _write(self, item_id: str, kind: str, body: dict[str, Any]) -> httpx.Response:
        item = self.items.get(item_id)
        if item is None:
            return httpx.Response(404, json={"error": "no_such_item"})
        self.writes.append((kind, item_id, body))
        if kind == "fields":
            item.title = body.get("title") or item.title
            item.description = body.get("description") or item.description
        results = []
        for sku_id, value in body.get("skus", {}).items():
            sku = item.skus.get(sku_id)
            if sku is None:
                results.append({"sku_id": sku_id, "ok": False, "error": "no_such_sku"})
                continue
            if kind == "price":
                sku.price = Decimal(value)
            else:
                sku.stock = int(value)
            results.append({"sku_id": sku_id, "ok": True})
        item.updated_at = datetime.now(UTC)
        return httpx.Response(200, json={"results": results})

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        skus = [(s["seller_sku"], Decimal(s["price"]), int(s["stock"])) for s in body["skus"]]
        item = self.add_item(body["title"], skus, category_id=body["category_id"])
        item.description = body["description"]
        self.writes.append(("create", item.item_id, body))
        return httpx.Response(
            200, json={"item_id": item.item_id, "skus": {s.seller_sku: s.sku_id for s in item.skus.values()}}
        )

    def _add_skus(self, item_id: str, body: dict[str, Any]) -> httpx.Response:
        item = self.items.get(item_id)
        if item is None:
            return httpx.Response(404, json={"error": "no_such_item"})
        self.writes.append(("add_skus", item_id, body))
        for row in body["skus"]:
            if not any(s.seller_sku == row["seller_sku"] for s in item.skus.values()):
                sku_id = str(next(self._ids))
                item.skus[sku_id] = Sku(sku_id, row["seller_sku"], Decimal(row["price"]), int(row["stock"]))
        item.updated_at = datetime.now(UTC)
        return httpx.Response(200, json={"skus": {s.seller_sku: s.sku_id for s in item.skus.values()}})

    def _item(self, item: Item) -> dict[str, Any]:
        return {
            "item_id": item.item_id, "title": item.title, "description": item.description,
            "category_id": item.category_id, "images": item.images, "active": item.active,
            "updated_at": item.updated_at.isoformat(),
            "skus": [{"sku_id": s.sku_id, "seller_sku": s.seller_sku, "price": str(s.price), "stock": s.stock}
                     for s in item.skus.values()],
        }  # fmt: skip

    def _order(self, order: Order) -> dict[str, Any]:
        return {
            "order_id": order.order_id, "status": order.status, "updated_at": order.updated_at.isoformat(),
            "lines": [{"item_id": i, "sku_id": s, "quantity": q} for i, s, q in order.lines],
        }  # fmt: skip
