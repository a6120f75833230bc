# The Inventory page's history: on hand over time per location (a stepped chart in the user's time zone) and the ledger.
"""Stock history of one variant.

The ledger (`syncstore.inventory.ledger.history`) has one row per change per location, with the
location's on hand after it. `history_frame` turns it into points a chart can draw: one series per
location starting from the quantity before its first change (a day back at least), each change a
step, and a last point "now" at the location's current on hand, so a single recent change still
draws a line (a lone point drew an empty chart with one millisecond tick, ".851").
Times are wall-clock times in the user's time zone, drawn on a UTC scale so the browser's own zone
never shifts them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import altair as alt
import polars as pl
import streamlit as st

from streamlit_app import stock_reasons, ui
from streamlit_app.i18n import current_time_zone, t, tn
from syncstore.db.models import InventoryHistory
from syncstore.inventory import ledger as inventory

HISTORY_LIMIT = 200
# The time axis spans at least this much, so a change made a moment ago is a line, not a sliver.
MIN_SPAN = timedelta(days=1)
CHART_KEY = "inventory_history_chart"


def _wall_clock(moment: datetime) -> datetime:
    """`moment` as a naive time in the user's zone (drawn on a UTC scale, so shown as it is)."""
    return _aware(moment).astimezone(current_time_zone()).replace(tzinfo=None)


def history_frame(
    ledger: Sequence[InventoryHistory], location_names: Mapping[int, str], default_id: int, now: datetime
) -> pl.DataFrame:
    """Points of on hand over time, oldest first, one series per location.

    Each series starts with the quantity before its first change shown (at a day before now at the
    latest, so a recent change is a visible step), then one point per change, and ends at `now` at
    the location's current on hand. Columns: time (datetime, the user's wall clock), location (its
    name), on_hand (int64), when (the time as text, for the tooltip).
    """
    start = _wall_clock(min([now - MIN_SPAN, *(entry.created_at for entry in ledger)], key=_aware))
    points: list[tuple[datetime, str, int]] = []
    latest: dict[str, int] = {}
    for entry in ledger:
        place = location_names.get(entry.location_id or default_id, str(entry.location_id or default_id))
        if place not in latest:
            points.append((start, place, int(entry.previous_quantity)))
        points.append((_wall_clock(entry.created_at), place, int(entry.new_quantity)))
        latest[place] = int(entry.new_quantity)
    points += [(_wall_clock(now), place, quantity) for place, quantity in latest.items()]
    points.sort(key=lambda point: point[0])
    return pl.DataFrame(
        {
            "time": pl.Series([p[0] for p in points], dtype=pl.Datetime("us")),
            "location": pl.Series([p[1] for p in points], dtype=pl.String),
            "on_hand": pl.Series([p[2] for p in points], dtype=pl.Int64),
            "when": pl.Series([f"{p[0]:%Y-%m-%d %H:%M}" for p in points], dtype=pl.String),
        }
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def history_chart(frame: pl.DataFrame) -> alt.Chart:
    """A stepped line per location (the frame spans a day at least); the quantity axis starts at 0."""
    zone = datetime.now(current_time_zone()).tzname() or ""
    top = int(frame["on_hand"].max() or 0)  # type: ignore[arg-type]
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X(
                "time:T",
                title=t("Time ({zone})", zone=zone),
                scale=alt.Scale(type="utc"),
                axis=alt.Axis(format="%d %b %H:%M", labelAngle=0, tickCount=6),
            ),
            y=alt.Y(
                "on_hand:Q",
                title=t("On hand"),
                scale=alt.Scale(domain=[0, max(top + max(top // 10, 1), 1)], nice=True),
                axis=alt.Axis(tickMinStep=1, format="d"),
            ),
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
