# Stock change reasons: what a person gives (stock count, damaged, returned, found, other with a note), the API's kept.
from __future__ import annotations

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import InventoryHistory
from syncstore.errors import InvalidInput
from syncstore.inventory import ledger
from tests.syncstore.inventory.conftest import EDITOR, Store


def test_the_person_reasons_and_the_system_reasons_never_overlap() -> None:
    assert ledger.PERSON_REASONS == ("count", "damaged", "returned", "found", "other")
    assert not set(ledger.PERSON_REASONS) & set(ledger.SYSTEM_REASONS)
    # Everything the API accepted before is still accepted.
    assert {"manual", "import", "reconcile", "count", "received", "damaged", "lost", "returned"} <= set(
        ledger.MANUAL_REASONS
    )


def test_other_needs_a_note_and_found_is_recorded(store: Store) -> None:
    cup = store.variants["CUP"]
    with pytest.raises(InvalidInput) as refused, transaction(store.engine) as session:
        ledger.adjust_stock(EDITOR, session, cup, delta=1, reason="other", note="  ")
    assert "note" in refused.value.errors
    with transaction(store.engine) as session:
        ledger.adjust_stock(EDITOR, session, cup, delta=2, reason="found")
        ledger.adjust_stock(EDITOR, session, cup, delta=-1, reason="other", note="given to a customer as a sample")
        rows = session.execute(
            sa.select(InventoryHistory.change_reason, InventoryHistory.new_quantity)
            .where(InventoryHistory.variant_id == cup)
            .order_by(InventoryHistory.id)
        ).all()
    assert [tuple(row) for row in rows[-2:]] == [("found", 22), ("other", 21)]
