# A client for a demo marketplace's control API (`/_demo/...`): buyers, seller edits, and what the shop shows.
"""`MarketplaceControl`: what the demo, the whole-system tests and the propagation benchmark do to and
read from a running demo marketplace (`demo.marketplace`), by seller SKU."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from demo.processes import DemoError


@dataclass(frozen=True)
class ShopSku:
    sku: str
    item_id: str
    sku_id: str
    title: str
    price: Decimal
    available: int
    reserved: int
    status: str


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    created_at: float  # unix seconds, the simulator's clock


@dataclass(frozen=True)
class Write:
    at: float
    sku: str
    field: str
    old: str
    new: str


class MarketplaceControl:
    def __init__(self, base_url: str, *, timeout_s: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> MarketplaceControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, f"/_demo{path}", **kwargs)
        if response.status_code != 200:
            raise DemoError(f"{self.base_url} {path}: {response.status_code} {response.text[:200]}")
        return response.json()

    def health(self) -> dict[str, str]:
        result: dict[str, str] = self._call("GET", "/health")
        return result

    def skus(self) -> dict[str, ShopSku]:
        """Every listed SKU by seller SKU."""
        rows = self._call("GET", "/skus")["skus"]
        return {
            row["sku"]: ShopSku(
                sku=row["sku"],
                item_id=row["item_id"],
                sku_id=row["sku_id"],
                title=row["title"],
                price=Decimal(row["price"]),
                available=int(row["available"]),
                reserved=int(row["reserved"]),
                status=row["status"],
            )
            for row in rows
            if row["sku"]
        }

    def sku(self, sku: str) -> ShopSku:
        found = self.skus().get(sku)
        if found is None:
            raise DemoError(f"{self.base_url} lists no SKU {sku}")
        return found

    def place_order(self, sku: str, quantity: int = 1) -> PlacedOrder:
        result = self._call("POST", "/orders", json={"sku": sku, "quantity": quantity})
        return PlacedOrder(str(result["order_id"]), float(result["created_at"]))

    def set_order_status(self, order_id: str, status: str) -> None:
        self._call("POST", f"/orders/{order_id}/status", json={"status": status})

    def edit_title(self, sku: str, title: str) -> None:
        self._call("POST", "/titles", json={"sku": sku, "title": title})

    def order_generator(self, interval_s: float) -> None:
        """Random buyers every `interval_s` seconds (0 stops them)."""
        self._call("POST", "/order-generator", json={"interval_s": interval_s})

    def writes(self, *, since: float = 0.0, field: str | None = None) -> list[Write]:
        params: dict[str, str] = {"since": repr(since)}
        if field:
            params["field"] = field
        rows = self._call("GET", "/writes", params=params)["writes"]
        return [Write(float(r["at"]), r["sku"], r["field"], r["old"], r["new"]) for r in rows]
