# Hiding controls is a convenience: when a Viewer's page shows them anyway, syncstore refuses the write.
from __future__ import annotations

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, InventoryHistory, SyncRule
from tests.streamlit_app.conftest import AppAs, SeededDatabase


@pytest.fixture
def controls_shown_to_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit_app import ui

    monkeypatch.setattr(ui, "can", lambda permission: True)


def click(at: AppTest, label: str) -> AppTest:
    return at.button[[b.label for b in at.button].index(label)].click().run()


def counts(db: SeededDatabase) -> tuple[int, int, int]:
    engine = db.engine()
    with transaction(engine) as session:
        result = tuple(
            session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            for model in (AuditLog, InventoryHistory, SyncRule)
        )
    engine.dispose()
    return result  # type: ignore[return-value]


@pytest.mark.usefixtures("controls_shown_to_everyone")
def test_a_viewer_forcing_a_stock_adjustment_is_refused(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    before = counts(seeded_db)
    at = app_as("viewer", "inventory")
    at.text_input(key="inventory_search").input("KS-TEE00001-BLACK-S").run()
    click(at, "Apply")
    assert not at.exception
    assert "viewer may not inventory.adjust" in " ".join(e.value for e in at.error)
    assert counts(seeded_db) == before


@pytest.mark.usefixtures("controls_shown_to_everyone")
def test_a_viewer_forcing_a_new_rule_is_refused(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    before = counts(seeded_db)
    at = app_as("viewer", "rules")
    at.text_input(key="rule_0_name").input("Sneaky")
    click(at, "Save rule")
    assert not at.exception
    assert "viewer may not rules.write" in " ".join(e.value for e in at.error)
    assert counts(seeded_db) == before


@pytest.mark.usefixtures("controls_shown_to_everyone")
def test_a_viewer_forcing_a_sync_is_refused(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = app_as("viewer", "products")
    at.session_state["products_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    at.button(key="products_sync_now").click().run()
    assert not at.exception
    assert "viewer may not sync.run" in " ".join(e.value for e in at.error)
