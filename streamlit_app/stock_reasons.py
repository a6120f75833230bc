# Stock change reasons in words: the ones a person chooses on the Inventory page, and every reason the ledger shows.
"""Reasons for a stock change.

A person adjusting stock chooses one of `syncstore.inventory.ledger.PERSON_REASONS` (stock count,
damaged, returned, found, other with a note); the system writes its own (orders, transfers, imports,
syncs), which are shown in the ledger but never offered. `refused_reason` is the form's own check,
so a system reason never reaches the ledger from a person's form (the API keeps its vocabulary).
"""

from __future__ import annotations

from collections.abc import Mapping

from streamlit_app.i18n import N_, t, tv
from syncstore.inventory import ledger as inventory

# The reasons offered in the adjust form, as their option labels.
PERSON_REASON_LABELS: Mapping[str, str] = {
    "count": N_("Stock count"),
    "damaged": N_("Damaged"),
    "returned": N_("Returned"),
    "found": N_("Found"),
    "other": N_("Other (say why in the note)"),
}

# Every reason a ledger row can carry, in words (person and system reasons alike).
REASON_WORDS: Mapping[str, str] = {
    "count": N_("stock count"),
    "damaged": N_("damaged"),
    "returned": N_("returned"),
    "found": N_("found"),
    "other": N_("other reason"),
    "received": N_("received"),
    "lost": N_("lost"),
    "manual": N_("manual change"),
    "order": N_("order reserved"),
    "cancellation": N_("order released"),
    "shipment": N_("order shipped"),
    "transfer": N_("transfer"),
    "import": N_("import"),
    "reconcile": N_("reconciled"),
    "sync": N_("sync"),
}


def offered() -> list[str]:
    """The reason codes offered to a person, in the order shown."""
    return [reason for reason in inventory.PERSON_REASONS if reason in PERSON_REASON_LABELS]


def option_label(reason: str) -> str:
    return tv(PERSON_REASON_LABELS.get(reason, reason))


def reason_words(reason: str) -> str:
    """A ledger reason as a person reads it, in their language."""
    return tv(REASON_WORDS.get(reason, reason))


def refused_reason(reason: object, note: str) -> str | None:
    """Why the form refuses this reason (not one a person gives, or "other" without a note), or None."""
    if reason not in inventory.PERSON_REASONS:
        return t("Choose one of the reasons offered: stock count, damaged, returned, found or other.")
    if reason == "other" and not note.strip():
        return t("Say why in the note when the reason is “Other”.")
    return None
