# One name per way of settling a conflict, and conflict fields in words: shared by every page that shows them.
"""The words for conflict decisions and fields.

The Conflicts page's buttons, its confirmations, the list of recent decisions and the audit log all
name a decision with the same words ("Use marketplace" everywhere, never "use platform"), so a
merchant who clicked a button finds that button's name wherever the decision is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from streamlit_app.i18n import N_, t, tv
from syncstore.plan.conflicts import Strategy

# The button's name is the decision's name.
STRATEGY_WORDS: Final[Mapping[str, str]] = {
    Strategy.USE_MASTER.value: N_("Use master"),
    Strategy.USE_PLATFORM.value: N_("Use marketplace"),
    Strategy.MANUAL.value: N_("Use this value"),
    # Closed by a reconcile because both sides agree again.
    "settled": N_("Settled by a later sync"),
}
FIELD_WORDS: Final[Mapping[str, str]] = {
    "title": N_("title"),
    "description": N_("description"),
    "images": N_("images"),
    "price": N_("price"),
}


def strategy_label(strategy: object) -> str:
    """A decision's name in the user's language ("Use marketplace")."""
    key = strategy.value if isinstance(strategy, Strategy) else str(strategy)
    return tv(STRATEGY_WORDS[key]) if key in STRATEGY_WORDS else key


def field_label(field: str) -> str:
    """A conflict field in the user's language ("price")."""
    return tv(FIELD_WORDS[field]) if field in FIELD_WORDS else field


def audit_description(action: str, after: Mapping[str, Any] | None) -> str:
    """What an audit entry about a conflict says in words; other entries keep their action code."""
    if action == "conflict.resolve":
        return t("Conflict resolved: {decision}", decision=strategy_label((after or {}).get("strategy", "")))
    return action
