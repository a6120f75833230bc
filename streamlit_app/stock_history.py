# The Inventory page's history: on hand over time per location (a stepped chart in the user's time zone) and the ledger.
"""Stock history of one variant.

The ledger (`syncstore.inventory.ledger.history`) has one row per change per location, with the
location's on hand after it. `history_frame` turns it into points a chart can draw: one series per
location, each change a step, and a last point "now" at the location's current on hand, so a single
change still draws a line (a lone point drew an empty chart with one millisecond tick, ".851").
Times are wall-clock times in the user's time zone, drawn on a UTC scale so the browser's own zone
never shifts them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import altair as alt
import polars as pl
import streamlit as st

from streamlit_app import stock_reasons, ui
from streamlit_app.i18n import current_time_zone, t, tn
from syncstore.db.models import InventoryHistory
from syncstore.inventory import ledger as inventory

HISTORY_LIMIT = 200
CHART_KEY = "inventory_history_chart"


def _wall_clock(moment: datetime) -> datetime:
    """`moment` as a naive time in the user's zone (drawn on a UTC scale, so shown as it is)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(current_time_zone()).replace(tzinfo=None)


def history_frame(
    ledger: Sequence[InventoryHistory], location_names: Mapping[int, str], default_id: int, now: datetime
) -> pl.DataFrame:
    """Points of on hand over time, oldest first, one series per location, with a final point at `now`.

    Columns: time (datetime64, the user's wall clock), location (its name), on_hand (int64),
    when (the time as text, for the tooltip).
    """
    times: list[datetime] = []
    places: list[str] = []
    quantities: list[int] = []
    latest: dict[str, int] = {}
    for entry in ledger:
        place = location_names.get(entry.location_id or default_id, str(entry.location_id or default_id))
        times.append(_wall_clock(entry.created_at))
        places.append(place)
        quantities.append(int(entry.new_quantity))
        latest[place] = int(entry.new_quantity)
    for place, quantity in latest.items():
        times.append(_wall_clock(now))
        places.append(place)
        quantities.append(quantity)
    return pl.DataFrame(
        {
            "time": pl.Series(times, dtype=pl.Datetime("us")),
            "location": pl.Series(places, dtype=pl.String),
            "on_hand": pl.Series(quantities, dtype=pl.Int64),
            "when": pl.Series([f"{moment:%Y-%m-%d %H:%M}" for moment in times], dtype=pl.String),
        }
    )


def history_chart(frame: pl.DataFrame) -> alt.Chart:
    zone = datetime.now(current_time_zone()).tzname() or ""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X(
                "time:T",
                title=t("Time ({zone})", zone=zone),
                scale=alt.Scale(type="utc"),
                axis=alt.Axis(format="%d %b %H:%M", labelAngle=0),
            ),
            y=alt.Y("on_hand:Q", title=t("On hand"), axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("location:N", title=t("Location")),
            tooltip=[
                alt.Tooltip("when:N", title=t("When")),
                alt.Tooltip("location:N", title=t("Location")),
                alt.Tooltip("on_hand:Q", title=t("On hand")),
            ],
        )
    )
    return chart


def show(variant_id: int, location_names: Mapping[int, str]) -> None:
    """The chart of on hand per location and the ledger of one variant."""
    with ui.session() as session:
        ledger = list(reversed(inventory.history(session, variant_id, limit=HISTORY_LIMIT)))
        default_id = inventory.default_location_id(session)
    if not ledger:
        st.caption(t("No stock history yet."))
        return
    st.markdown(f"**{t('On hand over time')}**")
    frame = history_frame(ledger, location_names, default_id, datetime.now(UTC))
    st.altair_chart(history_chart(frame), width="stretch", key=CHART_KEY)
    newest = list(reversed(ledger))
    with st.expander(tn("Ledger ({n} change)", "Ledger ({n} changes)", len(ledger))):
        st.dataframe(
            {
                t("When"): [ui.when(e.created_at) for e in newest],
                t("Location"): [location_names.get(e.location_id or default_id, "") for e in newest],
                t("On hand"): [f"{e.previous_quantity} → {e.new_quantity}" for e in newest],
                t("Reserved"): [f"{e.previous_reserved} → {e.new_reserved}" for e in newest],
                t("Reason"): [stock_reasons.reason_words(e.change_reason) for e in newest],
                t("By"): [e.changed_by for e in newest],
                t("Note"): [e.note or "" for e in newest],
            },
            hide_index=True,
            key="inventory_ledger",
        )
