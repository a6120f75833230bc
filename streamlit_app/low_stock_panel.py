# The low-stock panel: variants at or under their threshold and their open alerts, shown on Inventory and in Alerts.
"""Low-stock panel.

`show(key)` draws the variants at or under their low-stock threshold, with when their `low_stock`
alert opened (empty while the alert waits for the variant's next evaluation), from
`syncstore.inventory.low_stock.overview`. `key` keeps the widgets of two pages apart.
"""

from __future__ import annotations

import streamlit as st

from streamlit_app import ui
from streamlit_app.i18n import t, tn
from syncstore.inventory import low_stock

SHOWN = 100


def show(key: str) -> None:
    """The panel (read only: the alerts open and resolve as the stock moves)."""
    with ui.session() as session:
        rows = low_stock.overview(session, limit=SHOWN)
    if not rows:
        st.success(t("No variant is at or under its low-stock threshold."))
        return
    open_alerts = sum(1 for row in rows if row.since is not None)
    count = f"{len(rows)}{'+' if len(rows) == SHOWN else ''}"
    st.warning(
        tn(
            "{n} variant is at or under the low-stock threshold ({alerts}).",
            "{n} variants are at or under the low-stock threshold ({alerts}).",
            len(rows),
            n=count,
            alerts=tn("{n} open low-stock alert", "{n} open low-stock alerts", open_alerts),
        )
    )
    st.dataframe(
        {
            t("SKU"): [row.sku for row in rows],
            t("Available"): [row.available for row in rows],
            t("Threshold"): [row.threshold for row in rows],
            t("Alert since"): [ui.when(row.since) if row.since else "—" for row in rows],
        },
        hide_index=True,
        key=f"{key}_low_stock",
    )
