# Benchmark: how many requests per second the connectors sustain, against a bare httpx loop of the same requests.
"""`python -m bench.connectors [--requests N]`

For each platform a simulator runs in its own process (`syncstore simulator run`, rate limits
off), seeded with one shop and one product. The same N stock updates are sent twice, one after
the other on one connection: through the connector (retry policy, signing, envelope parsing,
typed results) and through a bare loop that only signs with the platform's `sign` function and
posts the bytes. `ratio` = connector rate / bare rate; near 1 means the connector adds little.
Lazada's simulator limits the inventory APIs to 50 calls per seller per second (the documented
limit); here it is served with that limit off (`serve_lazada`), like the other two, so the figure
is the connector's cost and not the limit's. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from connectors.base import ShopCredentials
from connectors.lazada import connector as lazada_connector
from connectors.lazada import signing as lazada_signing
from connectors.lazada.codes import PLATFORM as LAZADA
from connectors.lazada.simulator import codes as lazada_sim_codes
from connectors.lazada.simulator import server as lazada_sim_server
from connectors.shopee import connector as shopee_connector
from connectors.shopee import signing as shopee_signing
from connectors.shopee.codes import PLATFORM as SHOPEE
from connectors.shopee.simulator import codes as shopee_sim_codes
from connectors.shopee.simulator import server as shopee_sim_server
from connectors.simulator.common import free_port
from connectors.tiktokshop import connector as tiktokshop_connector
from connectors.tiktokshop import signing as tiktokshop_signing
from connectors.tiktokshop.codes import PLATFORM as TIKTOKSHOP
from connectors.tiktokshop.simulator import codes as tiktokshop_sim_codes
from connectors.tiktokshop.simulator import server as tiktokshop_sim_server


def serve_lazada(port: int, state_file: str) -> None:
    """Lazada's simulator on `port`, serving `state_file`, without its inventory call limit (a process of its own)."""
    simulator = lazada_sim_server.LazadaSimulator.load(Path(state_file), inventory_calls_per_s=10**9)
    simulator.state_file = None  # the bench's state is thrown away
    simulator.start_ticking()
    try:
        uvicorn.run(simulator.app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        simulator.stop()


def simulator_command(platform: str, port: int, state_file: Path) -> list[str]:
    """The command serving one platform's simulator: `syncstore simulator run`, or `serve_lazada` for Lazada."""
    if platform == LAZADA:
        code = f"from bench.connectors import serve_lazada; serve_lazada({port}, {str(state_file)!r})"
        return [sys.executable, "-c", code]
    command = [sys.executable, "-m", "cli.main", "simulator", "run", "--platform", platform, "--port", str(port)]
    return [*command, "--state-file", str(state_file)]


@contextmanager
def simulator_process(platform: str, state_file: Path) -> Iterator[str]:
    """A simulator in its own process (so its CPU is not this process's), serving `state_file`."""
    port = free_port()
    process = subprocess.Popen(
        simulator_command(platform, port, state_file), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{platform} simulator did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def compare(count: int, connector: Callable[[int], None], bare: Callable[[int], None]) -> dict[str, Any]:
    """Both paths in alternating blocks (the machine is shared and noisy: drift hits both alike)."""
    elapsed = {"connector": 0.0, "bare": 0.0}
    rounds, done = 10, 0
    for round_index in range(rounds):
        block = range(done, done + count // rounds)
        order = [("connector", connector), ("bare", bare)]
        for name, send in order if round_index % 2 == 0 else reversed(order):
            started = time.perf_counter()
            for index in block:
                send(index)
            elapsed[name] += time.perf_counter() - started
        done += len(block)
    connector_rps, bare_rps = done / elapsed["connector"], done / elapsed["bare"]
    return {
        "connector_per_s": round(connector_rps, 1),
        "bare_httpx_per_s": round(bare_rps, 1),
        "ratio": round(connector_rps / bare_rps, 3),
    }


def bench_shopee(requests: int, workdir: Path) -> dict[str, Any]:
    sim = shopee_sim_server.ShopeeSimulator(shopee_sim_codes.DEFAULT_PARTNER_ID, shopee_sim_codes.DEFAULT_PARTNER_KEY)
    sim.add_shop(shopee_sim_codes.DEMO_SHOP_ID, "Bench shop")
    item_id = sim.add_item(shopee_sim_codes.DEMO_SHOP_ID, name="Bench item", item_sku="BENCH-1", stock=10)
    access, _ = sim.issue_tokens(shopee_sim_codes.DEMO_SHOP_ID)
    state = workdir / "shopee.json"
    sim.save(state)
    partner_id, key, shop_id = (
        shopee_sim_codes.DEFAULT_PARTNER_ID,
        shopee_sim_codes.DEFAULT_PARTNER_KEY,
        shopee_sim_codes.DEMO_SHOP_ID,
    )
    with simulator_process(SHOPEE, state) as url, httpx.Client() as client:
        connector = shopee_connector.ShopeeConnector(
            partner_id=partner_id,
            partner_key=key,
            host=url,
            credentials=ShopCredentials(shop_id=str(shop_id), access_token=access),
            client=client,
        )

        def through_connector(index: int) -> None:
            result = connector.update_stock(str(item_id), {"0": 100 + index % 50})
            assert not result.failed

        def bare(index: int) -> None:
            path = "/api/v2/product/update_stock"
            timestamp = int(time.time())
            signature = shopee_signing.sign(
                key, shopee_signing.base_string(partner_id, path, timestamp, access, shop_id)
            )
            query: dict[str, Any] = {"partner_id": partner_id, "timestamp": timestamp, "sign": signature}
            body = {"item_id": item_id, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 100 + index % 50}]}]}
            response = client.post(
                url + path,
                params={**query, "access_token": access, "shop_id": shop_id},
                content=json.dumps(body, separators=(",", ":")).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert response.json()["error"] == ""

        through_connector(0)  # warm up both paths once
        bare(0)
        return compare(requests, through_connector, bare)


def bench_tiktokshop(requests: int, workdir: Path) -> dict[str, Any]:
    sim = tiktokshop_sim_server.TikTokShopSimulator(
        app_key=tiktokshop_sim_codes.DEMO_APP_KEY, app_secret=tiktokshop_sim_codes.DEMO_APP_SECRET
    )
    cipher = sim.add_shop(tiktokshop_sim_codes.DEMO_SHOP_ID, "Bench shop")
    product_id = sim.add_product(tiktokshop_sim_codes.DEMO_SHOP_ID, title="Bench product")
    [sku_id] = sim.sku_ids(product_id)
    access, _ = sim.issue_tokens(tiktokshop_sim_codes.DEMO_SHOP_ID)
    state = workdir / "tiktokshop.json"
    sim.save(state)
    app_key, secret = tiktokshop_sim_codes.DEMO_APP_KEY, tiktokshop_sim_codes.DEMO_APP_SECRET
    with simulator_process(TIKTOKSHOP, state) as url, httpx.Client() as client:
        connector = tiktokshop_connector.TikTokShopConnector(
            app_key=app_key,
            app_secret=secret,
            api_host=url,
            credentials=ShopCredentials(
                shop_id=tiktokshop_sim_codes.DEMO_SHOP_ID, access_token=access, shop_cipher=cipher
            ),
            client=client,
        )

        def through_connector(index: int) -> None:
            result = connector.update_stock(product_id, {sku_id: 100 + index % 50})
            assert not result.failed

        def bare(index: int) -> None:
            path = f"/product/202309/products/{product_id}/inventory/update"
            body = json.dumps(
                {"skus": [{"id": sku_id, "inventory": [{"quantity": 100 + index % 50}]}]}, separators=(",", ":")
            ).encode()
            query = {"app_key": app_key, "timestamp": str(int(time.time())), "shop_cipher": cipher}
            query["sign"] = tiktokshop_signing.sign(secret, path, query, body)
            response = client.post(
                url + path,
                params=query,
                content=body,
                headers={"x-tts-access-token": access, "content-type": "application/json"},
            )
            assert response.json()["code"] == 0

        through_connector(0)
        bare(0)
        return compare(requests, through_connector, bare)


def bench_lazada(requests: int, workdir: Path) -> dict[str, Any]:
    app_key, secret = lazada_sim_codes.DEMO_APP_KEY, lazada_sim_codes.DEMO_APP_SECRET
    sim = lazada_sim_server.LazadaSimulator(app_key=app_key, app_secret=secret)
    seller = lazada_sim_codes.DEMO_SELLER_ID
    sim.add_seller(seller, "Bench shop", country=lazada_sim_codes.DEMO_COUNTRY)
    product = sim.add_product(seller, "Bench product", [("BENCH-1", "19.90", 10)])
    item_id, sku_id = product.item_id, product.skus[0].sku_id
    access, _ = sim.token_for(seller)
    state = workdir / "lazada.json"
    sim.save(state)
    with simulator_process(LAZADA, state) as url, httpx.Client() as client:
        connector = lazada_connector.LazadaConnector(
            app_key=app_key,
            app_secret=secret,
            api_host=url,
            credentials=ShopCredentials(shop_id=seller, access_token=access),
            region=lazada_sim_codes.DEMO_COUNTRY.upper(),
            client=client,
        )

        def through_connector(index: int) -> None:
            result = connector.update_stock(item_id, {sku_id: 100 + index % 50})
            assert not result.failed

        def bare(index: int) -> None:
            path = "/product/stock/sellable/update"
            payload = (
                f"<Request><Product><Skus><Sku><ItemId>{item_id}</ItemId><SkuId>{sku_id}</SkuId>"
                f"<SellableQuantity>{100 + index % 50}</SellableQuantity></Sku></Skus></Product></Request>"
            )
            params = {
                "app_key": app_key,
                "timestamp": str(int(time.time() * 1000)),
                "sign_method": "sha256",
                "payload": payload,
                "access_token": access,
            }
            params["sign"] = lazada_signing.sign(secret, path, params)
            response = client.post(url + "/rest" + path, data=params)
            assert response.json()["code"] == "0"

        through_connector(0)
        bare(0)
        return compare(requests, through_connector, bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=500, help="stock updates per path and platform")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syncstore-bench-") as tmp:
        workdir = Path(tmp)
        result = {
            "requests": args.requests,
            SHOPEE: bench_shopee(args.requests, workdir),
            TIKTOKSHOP: bench_tiktokshop(args.requests, workdir),
            LAZADA: bench_lazada(args.requests, workdir),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
