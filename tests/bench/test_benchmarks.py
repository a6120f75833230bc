# Each benchmark runs end to end and prints one JSON object (figures are judged by people, not by tests).
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from bench.webhooks import DEFAULT_POSTGRES


def run_bench(*args: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"a benchmark prints exactly one line of JSON, got: {result.stdout!r}"
    parsed: dict[str, object] = json.loads(lines[0])
    return parsed


def test_catalog_import_benchmark_reports_rows_and_seconds() -> None:
    figures = run_bench("bench.catalog_import", "--rows", "300")
    assert figures["rows"] == 300 and isinstance(figures["seconds"], float | int)


def test_connector_benchmark_compares_with_a_bare_loop() -> None:
    figures = run_bench("bench.connectors", "--requests", "20")
    assert figures["requests"] == 20
    for platform in ("shopee", "tiktokshop", "lazada"):
        platform_figures = figures[platform]
        assert isinstance(platform_figures, dict)
        assert set(platform_figures) == {"connector_per_s", "bare_httpx_per_s", "ratio"}
        assert platform_figures["connector_per_s"] > 0 and platform_figures["bare_httpx_per_s"] > 0


def test_diff_benchmark_compares_polars_with_plain_python() -> None:
    figures = run_bench("bench.diff", "--rows", "20000")
    assert set(figures) == {"rows", "polars_s", "python_s", "speedup", "peak_rss_mb"} and figures["rows"] == 20000


def test_app_benchmark_times_every_page_of_the_app() -> None:
    figures = run_bench("bench.app", "--products", "300", "--runs", "1")
    assert figures["products"] == 300 and figures["listings"] == 600  # every variant listed on both shops
    assert figures["orders"] > 0 and figures["sync_logs"] > 0 and figures["pending_conflicts"] > 0
    pages = {
        "overview_s", "products_page_s", "product_editor_s", "bulk_edit_s", "inventory_s", "listings_s",
        "connections_s", "sync_activity_s", "conflicts_s", "webhooks_s", "orders_s", "rules_s", "admin_s",
        "new_product_s", "catalog_csv_s", "categories_s", "publish_s", "api_keys_s", "preferences_s",
    }  # fmt: skip
    assert pages <= set(figures), pages - set(figures)
    assert all(figures[page] > 0 for page in pages) and figures["product_editor_preview_s"] > 0
    assert figures["slowest_page"] in pages and isinstance(figures["within_target"], bool)


def test_propagation_benchmark_moves_stock_with_one_push_per_order_per_shop() -> None:
    figures = run_bench(
        "bench.propagation", "--orders", "4", "--gap-min", "0.2", "--gap-max", "0.6", "--deadline", "60",
        "--settle", "3",
    )  # fmt: skip
    assert figures["orders"] == 4 and figures["lost"] == 0
    assert figures["pushes_per_order"] == 1.0
    per_platform = figures["per_platform"]
    assert isinstance(per_platform, dict) and set(per_platform) == {"shopee", "tiktokshop", "lazada"}
    assert sum(one["orders"] for one in per_platform.values()) == 4


def test_stock_fanout_benchmark_recomputes_only_the_component_and_its_bundles() -> None:
    figures = run_bench("bench.stock_fanout", "--variants", "2000", "--bundles", "100", "--orders", "5")
    assert figures["affected_rows"] == 51 * 3 and figures["orders"] == 5
    assert figures["ratio"] == 1.0 and isinstance(figures["p95_ms"], float | int)


def test_edit_latency_benchmark_reads_as_much_per_edit_in_a_bigger_catalog() -> None:
    figures = run_bench(
        "bench.edit_latency", "--only", "sqlite", "--products", "3000", "--small", "1000", "--edits", "3",
        "--deadline", "60",
    )  # fmt: skip
    assert figures["lost"] == 0 and figures["p95_s"] is not None
    rows = figures["rows_read_per_edit"]
    assert isinstance(rows, dict) and rows["1000"] > 0
    assert figures["rows_ratio"] <= 1.2, rows  # the same products; only their own history grows


def test_api_calls_benchmark_compares_calls_with_the_batch_minimum() -> None:
    figures = run_bench("bench.api_calls", "--products", "200")
    assert figures["calls"] >= figures["minimum"] > 0
    assert figures["incremental_list_calls"] is not None
    per_shop = figures["per_shop"]
    assert isinstance(per_shop, dict) and set(per_shop) == {"shopee", "tiktokshop", "lazada"}
    assert all(shop["full_sync_failed"] == 0 and shop["change_failed"] == 0 for shop in per_shop.values())


def test_publish_benchmark_lists_every_product_uploading_each_image_once_per_shop() -> None:
    figures = run_bench("bench.publish", "--products", "12")
    assert figures["products"] == 12 and figures["expected"] > 0
    assert (figures["published"], figures["refused"]) == (figures["expected"], 0), figures["refusals"]
    assert figures["unique_images"] > 0 and figures["upload_ratio"] == 1.0
    assert figures["api_calls"] >= figures["minimum_calls"] > 0
    assert (figures["second_run_uploads"], figures["second_run_creates"]) == (0, 0)


@pytest.mark.postgres
@pytest.mark.redis
def test_webhook_ceiling_benchmark_runs_every_server_with_the_same_load() -> None:
    figures = run_bench("bench.webhook_ceiling", "--events", "400", "--rounds", "2", "--workers", "1")
    servers = {name: figures[name] for name in ("receiver", "free_database", "no_database", "noop")}
    for server_figures in servers.values():
        assert isinstance(server_figures, dict)
        # Every event signed for the receiver is accepted by the stand-ins too: they verify alike.
        assert server_figures["acked"] == 400 and server_figures["per_s"] > 0
        assert server_figures["cpu_us_per_event"]["server"] > 0 and server_figures["cpu_us_per_event"]["client"] > 0
    receiver, noop = servers["receiver"], servers["noop"]
    assert isinstance(receiver, dict) and isinstance(noop, dict)
    # The real receiver is the one that writes: two rows per event cost PostgreSQL well over 5 us each.
    assert receiver["cpu_us_per_event"]["postgres"] > 5
    assert noop["ratio"] == 1.0


@contextmanager
def another_client_busy_on_postgres() -> Iterator[None]:
    """Another client of the same PostgreSQL server burning CPU for as long as the block runs."""
    engine = sa.create_engine(os.environ.get("SYNCSTORE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    stop = threading.Event()

    def burn() -> None:
        with engine.connect() as conn:
            while not stop.is_set():
                conn.exec_driver_sql("SELECT sum(x) FROM generate_series(1, 3000000) AS x").scalar()

    burner = threading.Thread(target=burn, daemon=True)
    burner.start()
    try:
        yield
    finally:
        stop.set()
        burner.join(timeout=60)
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.redis
def test_webhook_ceiling_counts_only_the_postgresql_backends_it_started() -> None:
    with another_client_busy_on_postgres():
        figures = run_bench("bench.webhook_ceiling", "--events", "200", "--rounds", "1", "--workers", "1")
    receiver, noop = figures["receiver"], figures["noop"]
    assert isinstance(receiver, dict) and isinstance(noop, dict)
    # The no-op server never touches PostgreSQL: the other client's CPU is not its.
    assert noop["cpu_us_per_event"]["postgres"] < 5
    assert receiver["cpu_us_per_event"]["postgres"] > 5


def test_api_benchmark_compares_the_api_with_a_constant_endpoint() -> None:
    figures = run_bench("bench.api", "--products", "300", "--seconds", "2", "--clients", "4", "--workers", "1")
    assert figures["products"] == 300 and figures["errors"] == 0
    assert figures["reads"] > 0 and figures["writes"] > 0
    assert figures["p99_ms"] >= figures["p50_ms"] > 0 and figures["write_p99_ms"] > 0
    assert figures["requests_per_s"] > 0 and figures["noop_per_s"] > 0 and figures["ratio"] > 0
    assert figures["noop_p99_ms"] >= figures["noop_p50_ms"] > 0
