# What a plan costs: the API calls its valid changes take once batched to the platform's limits.
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from syncstore.plan import validation as sync_validation
from syncstore.plan.changes import (
    Activate,
    AddVariant,
    CreateListing,
    Deactivate,
    PlannedChange,
    UpdateContent,
    UpdatePrice,
    UpdateStock,
)


def estimate_calls(platform: str, changes: Sequence[PlannedChange]) -> int:
    """API calls the valid changes cost after batching to the platform's limits."""
    limits = sync_validation.rules_for(platform)
    valid = [change for change in changes if change.valid]
    calls = 0
    for kind in (UpdatePrice, UpdateStock):
        per_item = Counter(c.remote_item_id for c in valid if isinstance(c, kind))
        calls += sync_validation.sku_write_calls(limits, list(per_item.values()))
    calls += sum(1 for c in valid if isinstance(c, UpdateContent))
    for status in (Activate, Deactivate):
        calls += sync_validation.status_calls(limits, sum(1 for c in valid if isinstance(c, status)))
    calls += len({c.remote_item_id for c in valid if isinstance(c, AddVariant)})  # one call per item
    for change in valid:
        if isinstance(change, CreateListing):
            single = len(change.skus) == 1 and not change.skus[0].attributes
            calls += sync_validation.create_calls(limits, len(change.skus), single)
    return calls
