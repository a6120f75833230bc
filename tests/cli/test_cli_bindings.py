# `syncstore catalog bind-skus`: the per-line preview, the strict apply, run as the operator runs it.
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import PlatformListingSku
from tests.cli.test_cli import run
from tests.syncstore.catalog.conftest import seed_world


def test_bind_skus_previews_then_applies_all_or_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bind.db'}"
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        world = seed_world(engine)
    finally:
        engine.dispose()
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text("seller_sku,master_sku,shop\nlin s,LIN-S,My Shopee\nGHOST,LIN-M\n", encoding="utf-8")
    good.write_text("lin s,LIN-S,My Shopee\nMUG-1,LIN-M\n", encoding="utf-8")

    refused = run(["catalog", "bind-skus", str(bad), "--apply"], url, tmp_path)
    assert refused.returncode == 1 and "line 3 (): no listing SKU has the seller SKU GHOST" in refused.stderr
    preview = run(["catalog", "bind-skus", str(good)], url, tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert "line 1: lin s -> LIN-S [My Shopee] bind: binds to LIN-S" in preview.stdout
    assert "would bind 2, refused 0" in preview.stderr
    engine = create_engine(url)
    try:
        with transaction(engine) as session:
            assert session.scalar(sa.select(sa.func.count()).where(PlatformListingSku.variant_id.is_not(None))) == 0
        applied = run(["catalog", "bind-skus", str(good), "--apply"], url, tmp_path)
        assert applied.returncode == 0 and "bound 2, refused 0" in applied.stderr
        with transaction(engine) as session:
            bound = dict(session.execute(sa.select(PlatformListingSku.seller_sku, PlatformListingSku.variant_id)).all())
        assert (bound["lin s"], bound["MUG-1"]) == (world.variants["LIN-S"], world.variants["LIN-M"])
    finally:
        engine.dispose()
