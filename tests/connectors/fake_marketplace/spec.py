# The fake marketplace as SyncStore sees it: its connector, OAuth calls, webhook check and PlatformSpec.
"""Fakemart's `PlatformSpec`, built over a transport (the test hands it the simulator's).

Nothing here is known to SyncStore: the test registers `make_spec(transport)` with
`connectors.registry.register` and the core, the receiver and the app take everything from it.
The spec reads no settings field of its own (a real package would declare its settings); its app
credentials are this module's constants.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlencode

import httpx

from connectors.base import (
    AuthExpired,
    Connector,
    ConnectorError,
    CreatedListing,
    EventKind,
    GrantedShop,
    ItemChange,
    ListingDraft,
    ListingFields,
    ListingStatus,
    LogisticsChannel,
    MarketplaceEvent,
    OrderLine,
    OrderStatus,
    PlatformSpec,
    RefreshCallback,
    RemoteAttribute,
    RemoteBrand,
    RemoteCategory,
    RemoteListing,
    RemoteOrder,
    RemoteSku,
    RequestGate,
    ShopCredentials,
    ShopProfile,
    SkuDraft,
    SkuResult,
    StockLocation,
    Subscription,
    TokenGrant,
    UploadedImage,
    WriteResult,
)
from connectors.rules import PlatformRules

PLATFORM: Final = "fakemart"
HOST: Final = "https://api.fakemart.example"
APP_KEY, APP_SECRET = "fm-app-key", "fm-app-secret-0123456789"
_STATUSES: Final = {"paid": OrderStatus.PAID, "shipped": OrderStatus.SHIPPED, "cancelled": OrderStatus.CANCELLED}


def _checked(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 401:
        raise AuthExpired("fakemart refused the access token", platform=PLATFORM, code="invalid_token")
    if response.status_code != 200:
        raise ConnectorError(f"fakemart answered {response.status_code}", platform=PLATFORM)
    answer: dict[str, Any] = response.json()
    return answer


def _grant(answer: Mapping[str, Any]) -> TokenGrant:
    return TokenGrant(
        access_token=answer["access_token"], refresh_token=answer["refresh_token"],
        access_token_expires_at=datetime.now(UTC) + timedelta(seconds=int(answer["expires_in"])),
        shop_id=answer["shop_id"], shop_name=answer["shop_name"],
    )  # fmt: skip


class FakemartConnector:
    """One fakemart shop over HTTP; every call passes the shop's rate-limit gate first."""

    platform = PLATFORM

    def __init__(
        self, transport: httpx.BaseTransport, credentials: ShopCredentials, *, gate: RequestGate | None = None
    ) -> None:
        self.shop_id, self._gate = credentials.shop_id, gate
        self._client = httpx.Client(
            transport=transport, base_url=HOST, headers={"Authorization": f"Bearer {credentials.access_token}"}
        )

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if self._gate is not None:
            self._gate.acquire()
        return _checked(self._client.request(method, path, json=body))

    def close(self) -> None:
        self._client.close()

    def list_changed_items(self, since: datetime, until: datetime) -> Iterator[ItemChange]:
        for row in self._call("GET", "/items")["items"]:
            changed = datetime.fromisoformat(row["updated_at"])
            if since <= changed <= until:
                yield ItemChange(item_id=row["item_id"], updated_at=changed)

    def get_listings(self, item_ids: Sequence[str]) -> list[RemoteListing]:
        found = self._call("POST", "/items/get", {"ids": list(item_ids)})["items"]
        return [
            RemoteListing(
                platform=PLATFORM, shop_id=self.shop_id, item_id=row["item_id"],
                status=ListingStatus.ACTIVE if row["active"] else ListingStatus.INACTIVE,
                raw_status="active" if row["active"] else "inactive", title=row["title"],
                description=row["description"], images=tuple(row["images"]), category_id=row["category_id"],
                updated_at=datetime.fromisoformat(row["updated_at"]),
                skus=tuple(
                    RemoteSku(sku_id=s["sku_id"], seller_sku=s["seller_sku"], price=Decimal(s["price"]),
                              stock=(StockLocation(quantity=s["stock"]),))
                    for s in row["skus"]
                ),
            )
            for row in found
        ]  # fmt: skip

    def get_orders(self, order_ids: Sequence[str]) -> list[RemoteOrder]:
        found = self._call("POST", "/orders/get", {"ids": list(order_ids)})["orders"]
        return [
            RemoteOrder(
                platform=PLATFORM, shop_id=self.shop_id, order_id=row["order_id"],
                status=_STATUSES.get(row["status"], OrderStatus.OTHER), raw_status=row["status"],
                updated_at=datetime.fromisoformat(row["updated_at"]),
                lines=tuple(
                    OrderLine(line_id=f"{row['order_id']}-{n}", item_id=line["item_id"], sku_id=line["sku_id"],
                              quantity=line["quantity"])
                    for n, line in enumerate(row["lines"])
                ),
            )
            for row in found
        ]  # fmt: skip

    def list_changed_orders(self, since: datetime, until: datetime) -> Iterator[RemoteOrder]:
        return iter(())  # webhooks carry every order of this marketplace

    def get_shop_profile(self) -> ShopProfile:
        answer = self._call("GET", "/shop")
        return ShopProfile(shop_id=answer["shop_id"], name=answer["name"], region=answer["region"])

    def list_locations(self) -> list[Any]:
        return []

    def _write(self, item_id: str, kind: str, values: Mapping[str, object]) -> WriteResult:
        answer = self._call("POST", f"/items/{item_id}/{kind}", {"skus": {k: str(v) for k, v in values.items()}})
        return WriteResult(
            item_id=item_id,
            results=tuple(
                SkuResult(sku_id=r["sku_id"], ok=r["ok"], error_code=r.get("error")) for r in answer["results"]
            ),
        )

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        return self._write(item_id, "stock", stock)

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        return self._write(item_id, "price", prices)

    def update_fields(self, item_id: str, fields: ListingFields) -> None:
        self._call("POST", f"/items/{item_id}/fields", {"title": fields.title, "description": fields.description})

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        answer = self._call(
            "POST", "/items",
            {"title": draft.title, "description": draft.description, "category_id": draft.category_id,
             "skus": [{"seller_sku": s.seller_sku, "price": str(s.price), "stock": s.stock} for s in draft.skus]},
        )  # fmt: skip
        return CreatedListing(item_id=answer["item_id"], sku_ids=answer["skus"])

    def add_variants(self, item_id: str, skus: Sequence[SkuDraft], location_id: str | None = None) -> CreatedListing:
        rows = [{"seller_sku": s.seller_sku, "price": str(s.price), "stock": s.stock} for s in skus]
        known = self._call("POST", f"/items/{item_id}/skus", {"skus": rows})["skus"]
        return CreatedListing(item_id=item_id, sku_ids={s.seller_sku: known[s.seller_sku] for s in skus})

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        response = self._client.post("/images", content=content, headers={"content-type": content_type})
        answer = _checked(response)
        return UploadedImage(image_id=answer["image_id"], url=answer["url"])

    def list_categories(self) -> list[RemoteCategory]:
        """A fixed two-level tree: fakemart has no category API."""
        return [
            RemoteCategory(category_id="fm-root", name="Everything", is_leaf=False),
            RemoteCategory(category_id="fm-cat-1", name="Things", parent_id="fm-root"),
        ]

    def get_category_attributes(self, category_id: str) -> list[RemoteAttribute]:
        return [RemoteAttribute(attribute_id="fm-colour", name="Colour", mandatory=False)]

    def list_brands(self, category_id: str) -> list[RemoteBrand]:
        return []

    def list_logistics_channels(self) -> list[LogisticsChannel]:
        return []

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]:
        done = self._call("POST", "/items/status", {"ids": list(item_ids), "active": active})["ok"]
        return [SkuResult(sku_id=item_id, ok=item_id in done) for item_id in item_ids]

    def delete_listings(self, item_ids: Sequence[str]) -> list[SkuResult]:
        done = self._call("POST", "/items/delete", {"ids": list(item_ids)})["ok"]
        return [SkuResult(sku_id=item_id, ok=item_id in done) for item_id in item_ids]

    def register_webhook(self, url: str) -> list[Subscription]:
        topics = self._call("POST", "/webhooks", {"url": url})["topics"]
        return [Subscription(topic=topic, ok=True) for topic in topics]

    def fetch_missed_events(self) -> list[MarketplaceEvent]:
        return []


class FakemartOAuth:
    """The app-level calls: the authorization link, the code exchange, a refresh."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._client = httpx.Client(transport=transport, base_url=HOST)

    def authorization_url(self, callback_url: str, state: str) -> str:
        return f"{HOST}/oauth/authorize?{urlencode({'app_key': APP_KEY, 'redirect_uri': callback_url, 'state': state})}"

    def exchange_code(self, code: str, params: Mapping[str, str]) -> tuple[TokenGrant, list[GrantedShop]]:
        answer = _checked(
            self._client.post("/oauth/token", json={"app_key": APP_KEY, "app_secret": APP_SECRET, "code": code})
        )
        return _grant(answer), [GrantedShop(shop_id=answer["shop_id"], name=answer["shop_name"])]

    def refresh(self, refresh_token: str, shop_id: str) -> TokenGrant:
        body = {"app_key": APP_KEY, "app_secret": APP_SECRET, "refresh_token": refresh_token}
        return _grant(_checked(self._client.post("/oauth/token", json=body)))

    def close(self) -> None:
        self._client.close()


def verify_webhook(keys: Mapping[str, str], raw_body: bytes, authorization: str | None) -> bool:
    expected = hmac.new(keys["app_secret"].encode(), raw_body, hashlib.sha256).hexdigest()
    return authorization is not None and hmac.compare_digest(authorization.strip().lower(), expected)


def parse_webhook(text: str) -> MarketplaceEvent:
    import json

    body = json.loads(text)
    if not isinstance(body, dict) or body.get("event") != "order":
        raise ValueError("not a fakemart order event")
    return MarketplaceEvent(
        platform=PLATFORM, event_id=str(body["id"]), kind=EventKind.ORDER_STATUS, raw_type="order",
        shop_id=str(body["shop"]), order_id=str(body["order"]),
        occurred_at=datetime.fromtimestamp(int(body["at"]), UTC), data=body,
    )  # fmt: skip


RULES: Final = PlatformRules(
    platform=PLATFORM, label="Fake Mart", title_max=80, description_max=2000, images_min=1, images_max=5,
    stock_max=9_999, skus_per_listing=20, sku_batch=20, status_batch=10, list_page=100, detail_batch=20,
    numeric_category=False,
)  # fmt: skip


def make_spec(transport: httpx.BaseTransport) -> PlatformSpec:
    """Fakemart's spec, speaking HTTP through `transport` (the simulator's, in the test)."""

    def connector(
        settings: Any, credentials: ShopCredentials, *, gate: RequestGate | None = None,
        refresh: RefreshCallback | None = None, client: httpx.Client | None = None, policy: Any = None,
        region: str = "",
    ) -> Connector:  # fmt: skip
        return FakemartConnector(transport, credentials, gate=gate)

    return PlatformSpec(
        name=PLATFORM,
        label="Fake Mart",
        required_settings=("SYNCSTORE_PUBLIC_URL",),
        is_configured=lambda settings: True,
        connector=connector,
        app=lambda settings, client: FakemartOAuth(transport),
        token_per_seller=False,
        cross_border_refusal=None,
        webhook_key_names=("app_secret",),
        webhook_settings="SYNCSTORE_PUBLIC_URL",
        verify_webhook=verify_webhook,
        parse_webhook=parse_webhook,
        revoked_event_types=frozenset({"revoked"}),
        expiring_event_types=frozenset({"expiring"}),
        webhook_keys=lambda settings, callback_url: {"app_secret": APP_SECRET},
        rules=RULES,
        rate_limits=lambda settings: (600, 100_000),
        webhook_signature_header="x-fakemart-signature",
    )
