# What needs action (conflicts, failed changes, orphans, low stock, alerts): cached counts and the menu's badges.
"""Counts that need action, for the Overview and the navigation menu.

`counts()` reads `syncstore.reports.overview.attention` through the app's short-lived read cache (a
write clears it), so every page of the menu can show them without querying on each run. The cache
is keyed by the current refresh slot (`refresh_slot()`, REFRESH_SECONDS long): the Overview, which
refreshes itself every REFRESH_SECONDS, reads fresh counts in each new slot, and the menu shows the
same counts on its next rerun.
`nav_title(script, title, counts)` is a page's menu title with its count when it has one to show,
e.g. "Conflicts (3)".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Final

from streamlit_app import ui
from streamlit_app.i18n import t
from syncstore.reports import overview

log = logging.getLogger(__name__)

# The page that deals with each count, and the count it shows in the menu.
MENU_COUNTS: Final[Mapping[str, Callable[[overview.Attention], int]]] = {
    "views/conflicts.py": lambda counts: counts.pending_conflicts,
    "views/sync_activity.py": lambda counts: counts.failed_changes,
    "views/listings.py": lambda counts: counts.orphan_skus,
    "views/inventory.py": lambda counts: counts.low_stock_variants,
    "views/admin.py": lambda counts: counts.open_alerts,
}


# How often the Overview refreshes its figures by itself, and how long a read of them is reused.
REFRESH_SECONDS: Final = 30


def refresh_slot() -> int:
    """The number of the current REFRESH_SECONDS-long slot: reads cached under an older slot are not reused."""
    return int(time.time() // REFRESH_SECONDS)


@ui.cached_read()
def _counts(url: str, slot: int) -> overview.Attention:
    with ui.session() as session:
        return overview.attention(session)


def counts() -> overview.Attention:
    """The counts now (read at most once per refresh slot; cleared by every write through the app)."""
    return _counts(ui.database_url(), refresh_slot())


def counts_or_none() -> overview.Attention | None:
    """The counts, or None when they cannot be read (the menu then shows none; the error is logged)."""
    try:
        return counts()
    except Exception:
        log.exception("could not count what needs action")
        return None


def nav_title(script: str, title: str, found: overview.Attention | None) -> str:
    """The page's menu title, with the number needing action on that page when there is any."""
    count = MENU_COUNTS[script](found) if found is not None and script in MENU_COUNTS else 0
    return t("{page} ({count})", page=title, count=f"{count:,}") if count else title
