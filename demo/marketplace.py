# One demo marketplace process: a simulator serving its seeded state, plus a small control API for the demo's buyers.
"""`python -m demo.marketplace --platform shopee|tiktokshop|lazada --port N --state-file F [--redirect-url U]`.

Serves the platform simulator (connectors/simulator) on 127.0.0.1 from a state file written by
`demo.seeding` (loaded again on a restart, so tokens and listings survive; saved every few seconds
and on exit). The seller's authorization page asks which shop to authorize, as the platform does;
the demo follows it like a seller would (`demo.connect`).

Next to the platform's own API, paths under `/_demo/` let the demo, the whole-system tests and the
propagation benchmark act as buyers and sellers, and look at the shop, by seller SKU:

- `GET  /_demo/health`                     platform and shop id
- `GET  /_demo/skus`                       every listed SKU: ids, title, price, available, reserved, status
- `POST /_demo/orders` {sku, quantity}      a buyer orders (the platform pushes its webhook); {order_id, created_at}
- `POST /_demo/orders/{id}/status` {status} the order moves on (cancel, ship...)
- `POST /_demo/titles` {sku, title}         the seller edits the listing's title in Seller Centre
- `POST /_demo/order-generator` {interval_s} random buyers (interval_s 0 stops them)
- `GET  /_demo/writes?since=<unix s>&field=stock`  API writes the simulator received, with their times

The control API is for the local demo only: the process listens on loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.lazada.simulator.server import LazadaSimulator
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.simulator.common import Ticker, WriteLog
from connectors.tiktokshop.simulator.server import TikTokShopSimulator

log = logging.getLogger("demo.marketplace")

AUTOSAVE_EVERY_S = 3.0
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# Listing statuses under which buyers can order (Shopee, TikTok Shop, Lazada).
LISTED = ("NORMAL", "ACTIVATE", "Active")


class ControlError(ValueError):
    """A control request that cannot be carried out (unknown SKU, not enough stock...)."""


@dataclass(frozen=True)
class SkuView:
    sku: str
    item_id: str
    sku_id: str
    title: str
    price: str
    available: int
    reserved: int
    status: str


class Marketplace(Protocol):
    """What the control API needs from a simulator."""

    platform: str
    shop_id: str
    write_log: WriteLog

    def skus(self) -> list[SkuView]: ...
    def place_order(self, sku: str, quantity: int) -> str: ...
    def set_order_status(self, order_id: str, status: str) -> None: ...
    def edit_title(self, sku: str, title: str) -> None: ...
    def open_orders(self) -> list[str]: ...
    def next_status(self, order_id: str, rng: random.Random) -> str | None: ...
    def save(self) -> None: ...
    def stop(self) -> None: ...


def _find(views: list[SkuView], sku: str) -> SkuView:
    wanted = sku.strip().casefold()
    for view in views:
        if view.sku.casefold() == wanted and view.status in LISTED:
            return view
    raise ControlError(f"no listed SKU {sku!r} in this shop")


class ShopeeMarketplace:
    platform = "shopee"

    def __init__(self, sim: ShopeeSimulator, state_file: Path) -> None:
        self.sim, self.state_file = sim, state_file
        self.shop_id = str(min(sim.state.shops))
        self.write_log = sim.write_log

    def skus(self) -> list[SkuView]:
        with self.sim._lock:  # a consistent picture while API writes land
            items = [i for i in self.sim.state.items.values() if str(i.shop_id) == self.shop_id and not i.deleted]
            return [
                SkuView(
                    sku=model.model_sku or item.item_sku,
                    item_id=str(item.item_id),
                    sku_id=str(model.model_id),
                    title=item.name,
                    price=str(model.original_price),
                    available=model.total_stock - model.reserved,
                    reserved=model.reserved,
                    status=item.status,
                )
                for item in items
                for model in item.models.values()
            ]

    def place_order(self, sku: str, quantity: int) -> str:
        view = _find(self.skus(), sku)
        return self.sim.place_order(int(self.shop_id), int(view.item_id), int(view.sku_id), quantity)

    def set_order_status(self, order_id: str, status: str) -> None:
        if order_id not in self.sim.state.orders:
            raise ControlError(f"no order {order_id}")
        self.sim.set_order_status(order_id, status)

    def edit_title(self, sku: str, title: str) -> None:
        self.sim.edit_item(int(_find(self.skus(), sku).item_id), name=title)

    def open_orders(self) -> list[str]:
        with self.sim._lock:
            return [o.order_sn for o in self.sim.state.orders.values() if o.status in ("UNPAID", "READY_TO_SHIP")]

    def next_status(self, order_id: str, rng: random.Random) -> str | None:
        current = self.sim.state.orders[order_id].status
        if rng.random() < 0.15:
            return "CANCELLED"
        return {"UNPAID": "READY_TO_SHIP", "READY_TO_SHIP": "SHIPPED"}.get(current)

    def save(self) -> None:
        self.sim.save(self.state_file)

    def stop(self) -> None:
        self.sim.stop()


class TikTokShopMarketplace:
    platform = "tiktokshop"

    def __init__(self, sim: TikTokShopSimulator, state_file: Path) -> None:
        self.sim, self.state_file = sim, state_file
        self.shop_id = min(sim.state.shops)
        self.write_log = sim.write_log

    def skus(self) -> list[SkuView]:
        with self.sim._lock:
            products = [p for p in self.sim.state.products.values() if p.shop_id == self.shop_id]
            return [
                SkuView(
                    sku=sku.seller_sku,
                    item_id=product.id,
                    sku_id=sku.id,
                    title=product.title,
                    price=str(Decimal(sku.price)),
                    available=sku.available,
                    reserved=sku.reserved,
                    status=product.status,
                )
                for product in products
                if product.status != "DELETED"
                for sku in product.skus
            ]

    def place_order(self, sku: str, quantity: int) -> str:
        view = _find(self.skus(), sku)
        return self.sim.place_order(self.shop_id, view.item_id, view.sku_id, quantity)

    def set_order_status(self, order_id: str, status: str) -> None:
        if order_id not in self.sim.state.orders:
            raise ControlError(f"no order {order_id}")
        self.sim.set_order_status(order_id, status)

    def edit_title(self, sku: str, title: str) -> None:
        self.sim.edit_product(_find(self.skus(), sku).item_id, title=title)

    def open_orders(self) -> list[str]:
        with self.sim._lock:
            return [o.id for o in self.sim.state.orders.values() if o.status in ("UNPAID", "AWAITING_SHIPMENT")]

    def next_status(self, order_id: str, rng: random.Random) -> str | None:
        return "CANCELLED" if rng.random() < 0.15 else "IN_TRANSIT"

    def save(self) -> None:
        self.sim.save(self.state_file)

    def stop(self) -> None:
        self.sim.stop()  # saves to its state file


class LazadaMarketplace:
    platform = "lazada"

    def __init__(self, sim: LazadaSimulator, state_file: Path) -> None:
        self.sim, self.state_file = sim, state_file
        self.shop_id = min(sim.state.sellers)
        self.write_log = sim.write_log

    def skus(self) -> list[SkuView]:
        with self.sim._lock:
            products = [p for p in self.sim.state.products.values() if p.seller_id == self.shop_id]
            return [
                SkuView(
                    sku=sku.seller_sku,
                    item_id=product.item_id,
                    sku_id=sku.sku_id,
                    title=product.name,
                    price=str(Decimal(sku.price)),
                    available=sku.total_sellable,
                    reserved=sku.withhold + sku.occupy,
                    status=product.status if sku.status == "active" else sku.status,
                )
                for product in products
                if product.status != "Deleted"
                for sku in product.skus
                if sku.status != "deleted"
            ]

    def place_order(self, sku: str, quantity: int) -> str:
        view = _find(self.skus(), sku)
        return self.sim.place_order(self.shop_id, [(view.item_id, view.sku_id, quantity)])

    def set_order_status(self, order_id: str, status: str) -> None:
        """`status` for every unit of the order (Lazada keeps a status per unit)."""
        if order_id not in self.sim.state.orders:
            raise ControlError(f"no order {order_id}")
        self.sim.set_item_status(order_id, status)

    def edit_title(self, sku: str, title: str) -> None:
        self.sim.edit_product(_find(self.skus(), sku).item_id, title=title)

    def open_orders(self) -> list[str]:
        with self.sim._lock:
            return [o.order_id for o in self.sim.state.orders.values() if any(u.status == "pending" for u in o.items)]

    def next_status(self, order_id: str, rng: random.Random) -> str | None:
        return "canceled" if rng.random() < 0.15 else "ready_to_ship"

    def save(self) -> None:
        self.sim.save(self.state_file)

    def stop(self) -> None:
        self.sim.stop()  # saves to its state file


class OrderGenerator:
    """Random buyers: each tick places a 1-2 unit order on an in-stock SKU or moves an open order on."""

    def __init__(self, market: Marketplace, *, seed: int | None = None) -> None:
        self.market = market
        self.rng = random.Random(seed)
        self._ticker: Ticker | None = None
        self._lock = threading.Lock()

    def start(self, interval_s: float) -> None:
        with self._lock:
            if self._ticker is not None:
                self._ticker.stop()
            self._ticker = Ticker(interval_s, self.tick).start() if interval_s > 0 else None

    def stop(self) -> None:
        self.start(0)

    def tick(self) -> None:
        open_orders = self.market.open_orders()
        if open_orders and self.rng.random() < 0.35:
            order_id = self.rng.choice(open_orders)
            status = self.market.next_status(order_id, self.rng)
            if status is not None:
                self.market.set_order_status(order_id, status)
            return
        in_stock = [v for v in self.market.skus() if v.available > 0 and v.status in LISTED]
        if in_stock:
            view = self.rng.choice(in_stock)
            with contextlib.suppress(ValueError):  # sold out between the pick and the order
                self.market.place_order(view.sku, min(view.available, self.rng.randint(1, 2)))


# --- the control API ------------------------------------------------------------------------


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ControlError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def control_app(market: Marketplace, generator: OrderGenerator) -> Starlette:
    """The `/_demo/` routes for one marketplace."""

    def guarded(handler: Callable[[dict[str, Any], Request], Any]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            try:
                body = await _json(request) if request.method == "POST" else {}
                # Simulator calls block (locks, webhook delivery): keep them off the event loop.
                result = await run_in_threadpool(handler, body, request)
            except (ControlError, ValueError, KeyError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            return JSONResponse(result)

        return endpoint

    def health(body: dict[str, Any], request: Request) -> Any:
        return {"platform": market.platform, "shop_id": market.shop_id}

    def skus(body: dict[str, Any], request: Request) -> Any:
        return {"skus": [asdict(view) for view in market.skus()]}

    def order(body: dict[str, Any], request: Request) -> Any:
        created_at = time.time()
        order_id = market.place_order(str(body["sku"]), int(body.get("quantity", 1)))
        return {"order_id": order_id, "created_at": created_at}

    def order_status(body: dict[str, Any], request: Request) -> Any:
        market.set_order_status(request.path_params["order_id"], str(body["status"]))
        return {"ok": True}

    def title(body: dict[str, Any], request: Request) -> Any:
        market.edit_title(str(body["sku"]), str(body["title"]))
        return {"ok": True}

    def order_generator(body: dict[str, Any], request: Request) -> Any:
        generator.start(float(body.get("interval_s", 0)))
        return {"ok": True}

    def writes(body: dict[str, Any], request: Request) -> Any:
        since = float(request.query_params.get("since", "0"))
        field = request.query_params.get("field")
        by_id = {(v.item_id, v.sku_id): v.sku for v in market.skus()}
        rows = [
            {
                "at": entry.at.timestamp(),
                "sku": by_id.get((entry.item_id, entry.sku_id), ""),
                "item_id": entry.item_id,
                "sku_id": entry.sku_id,
                "field": entry.field,
                "old": str(entry.old),
                "new": str(entry.new),
            }
            for entry in market.write_log.entries(field_name=field, effective_only=True)
            if entry.at.timestamp() >= since
        ]
        return {"writes": rows}

    return Starlette(
        routes=[
            Route("/_demo/health", guarded(health), methods=["GET"]),
            Route("/_demo/skus", guarded(skus), methods=["GET"]),
            Route("/_demo/orders", guarded(order), methods=["POST"]),
            Route("/_demo/orders/{order_id}/status", guarded(order_status), methods=["POST"]),
            Route("/_demo/titles", guarded(title), methods=["POST"]),
            Route("/_demo/order-generator", guarded(order_generator), methods=["POST"]),
            Route("/_demo/writes", guarded(writes), methods=["GET"]),
        ]
    )


def compose(control: AsgiApp, platform: AsgiApp) -> AsgiApp:
    """Route `/_demo/...` to the control API and everything else to the platform simulator."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/_demo/"):
            await control(scope, receive, send)
        else:
            await platform(scope, receive, send)

    return app


def load_marketplace(platform: str, state_file: Path, redirect_url: str | None) -> tuple[Marketplace, AsgiApp]:
    """The simulator serving `state_file` (seeded beforehand), asking the seller before it authorizes."""
    if platform == "shopee":
        shopee = ShopeeSimulator.load(state_file, auto_approve=False)
        return ShopeeMarketplace(shopee, state_file), shopee.app
    if platform == "lazada":
        lazada = LazadaSimulator.load(state_file, redirect_url=redirect_url, auto_approve=False)
        lazada.start_ticking()
        return LazadaMarketplace(lazada, state_file), lazada.app
    tiktok = TikTokShopSimulator.load(state_file, redirect_url=redirect_url, auto_approve=False)
    return TikTokShopMarketplace(tiktok, state_file), tiktok.app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.marketplace", description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=("shopee", "tiktokshop", "lazada"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-file", type=Path, required=True)
    parser.add_argument("--redirect-url", default=None, help="TikTok Shop, Lazada: the app's registered OAuth redirect")
    parser.add_argument("--orders-every", type=float, default=0.0, help="Random buyers every N seconds (0: none)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    market, platform_app = load_marketplace(args.platform, args.state_file, args.redirect_url)
    generator = OrderGenerator(market)
    if args.orders_every > 0:
        generator.start(args.orders_every)
    autosave = Ticker(AUTOSAVE_EVERY_S, market.save).start()
    app = compose(control_app(market, generator), platform_app)
    log.info("%s simulator (shop %s) on http://127.0.0.1:%d", args.platform, market.shop_id, args.port)
    try:
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")
    finally:
        generator.stop()
        autosave.stop()
        market.stop()
        market.save()


if __name__ == "__main__":
    main()
