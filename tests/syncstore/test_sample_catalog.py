# The shipped sample catalog: reproducible from its generator, and it imports cleanly into a real database.
from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from syncstore.catalog.csv_format import CSV_COLUMNS
from syncstore.catalog.importer import import_csv
from syncstore.data import sample_catalog_path
from syncstore.data.generate_sample import render, sample_rows, synthetic_rows
from syncstore.db.models import AuditLog, InventoryHistory, MasterProduct, OutboxEvent, ProductVariant
from syncstore.security.auth import Actor

REPO = Path(__file__).resolve().parents[2]
TOP_CATEGORIES = {"Fashion", "Electronics", "Beauty", "Home & Living"}


def test_sample_catalog_is_packaged() -> None:
    path = sample_catalog_path()
    assert path.is_file()
    assert path.parent.name == "data"
    assert path.parent.parent.name == "syncstore"
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_COLUMNS)


def test_generator_reproduces_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    output = tmp_path / "sample.csv"
    result = subprocess.run(
        [sys.executable, "-m", "syncstore.data.generate_sample", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert output.read_bytes() == sample_catalog_path().read_bytes()
    # And in-process, twice: no clock, no set order, no global random state leaks in.
    assert render(sample_rows()) == render(sample_rows()) == sample_catalog_path().read_text(encoding="utf-8")


def test_synthetic_catalog_has_exactly_the_rows_asked_for() -> None:
    rows = synthetic_rows(1234)
    assert len(rows) == 1234
    skus = [row[CSV_COLUMNS.index("sku")].lower() for row in rows]
    assert len(set(skus)) == len(skus)
    assert synthetic_rows(1234) == rows


def test_sample_catalog_imports_cleanly(engine: sa.Engine) -> None:
    report = import_csv(Actor.command_line(), engine, sample_catalog_path())

    assert report.errors == []
    assert report.committed
    assert report.skipped_products == []
    assert report.products_created >= 200
    assert report.variants_created >= 500
    assert report.rows == report.variants_created

    with engine.connect() as conn:
        products = conn.execute(sa.select(MasterProduct.category, MasterProduct.base_price, MasterProduct.images)).all()
        variants = conn.execute(sa.select(ProductVariant.stock, ProductVariant.price, ProductVariant.attributes)).all()
        ledger = conn.scalar(sa.select(sa.func.count()).select_from(InventoryHistory))
        events = conn.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
        audits = conn.scalar(sa.select(sa.func.count()).select_from(AuditLog))

    assert len(products) == report.products_created
    assert len(variants) == report.variants_created
    assert {category.split(" > ")[0] for category, _, _ in products} == TOP_CATEGORIES
    for top in TOP_CATEGORIES:
        assert sum(1 for c, _, _ in products if c.startswith(top)) >= 20, top
    prices = [price for _, price, _ in products] + [price for _, price, _ in variants if price is not None]
    assert all(isinstance(p, Decimal) and Decimal("9.90") <= p <= Decimal("1299.00") for p in prices)
    assert any(price is not None for _, price, _ in variants), "some variants are priced differently"
    assert all(
        url.startswith("https://images.syncstore.example/") and url.endswith(".jpg")
        for _, _, images in products
        for url in images
    )
    stocks = [stock for stock, _, _ in variants]
    assert 0 in stocks and all(0 <= s <= 250 for s in stocks)
    option_names = {name for _, _, attributes in variants for name in attributes}
    assert {"Colour", "Size", "Shade", "Model"} <= option_names
    assert ledger == sum(1 for s in stocks if s > 0)
    assert events == report.products_created
    assert audits == 1
