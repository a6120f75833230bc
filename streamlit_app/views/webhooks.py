# The Webhooks page: every event the marketplaces sent, filtered and paged, with a payload viewer.
"""Webhooks.

The event log (`syncstore.events.webhook_log.list_webhooks`), newest first, filtered by platform, event
type, kind, status and time and paged in SQL, with the count per status. Picking an event shows its
payload and kept headers (`webhook_log.get_webhook`): credentials are redacted there, and the
signature is only said to be present. Everyone may read this page; nothing on it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import streamlit as st

from connectors import registry
from streamlit_app import ui
from syncstore.errors import SyncStoreError
from syncstore.events import webhook_log
from syncstore.events.webhook_log import WebhookEntry

PAGE_SIZE: Final = 50
STATUS_HELP: Final = {
    "received": "stored, waiting to be applied",
    "processed": "applied",
    "ignored": "nothing to do (unknown type, or a shop no longer connected)",
    "failed": "could not be applied after every attempt",
}
TIME_CHOICES: Final = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(hours=24),
    "Last 7 days": timedelta(days=7),
    "Any time": None,
    "Between dates": None,
}


@dataclass(frozen=True)
class EventFilters:
    platform: str | None
    event_type: str | None
    kind: str | None
    status: str | None
    since: datetime | None
    until: datetime | None

    def key(self) -> str:
        # Relative times move on every run; the page key uses the choice, not the instant.
        return f"{self.platform}-{self.event_type}-{self.kind}-{self.status}-{st.session_state.get('wh_time')}"


def _any(label: str | None) -> str:
    return "Any" if label is None else label


def _time_window() -> tuple[datetime | None, datetime | None]:
    choice = st.selectbox("Received", options=list(TIME_CHOICES), index=1, key="wh_time")
    if choice != "Between dates":
        span = TIME_CHOICES[choice]
        return (datetime.now(UTC) - span if span is not None else None), None
    today = datetime.now(UTC).date()
    chosen = st.date_input("From / to (UTC)", value=(today - timedelta(days=7), today), key="wh_dates")
    days = [day for day in (chosen if isinstance(chosen, tuple) else (chosen,)) if isinstance(day, date)]
    if not days:
        return None, None
    start = datetime.combine(days[0], time.min, tzinfo=UTC)
    end = datetime.combine(days[-1], time.min, tzinfo=UTC) + timedelta(days=1)
    return start, end


def filters() -> EventFilters:
    platform_col, type_col, kind_col, status_col, time_col = st.columns(5)
    platform = platform_col.selectbox(
        "Platform", options=[None, *registry.names()], key="wh_platform",
        format_func=lambda p: "Any" if p is None else ui.platform_label(p),
    )  # fmt: skip
    with ui.session() as session:
        types = webhook_log.event_types(session, platform)
    event_type = type_col.selectbox("Event type", options=[None, *types], format_func=_any, key="wh_type")
    kind = kind_col.selectbox("Kind", options=[None, *webhook_log.KINDS], format_func=_any, key="wh_kind")
    status = status_col.selectbox("Status", options=[None, *webhook_log.STATUSES], format_func=_any, key="wh_status")
    with time_col:
        since, until = _time_window()
    return EventFilters(platform, event_type, kind, status, since, until)


def status_counts(since: datetime | None) -> None:
    with ui.session() as session:
        counts = webhook_log.status_counts(session, since=since)
    for column, (status, count) in zip(st.columns(len(counts)), counts.items(), strict=True):
        column.metric(status.title(), f"{count:,}", help=STATUS_HELP.get(status))


def _table(entries: list[WebhookEntry]) -> None:
    st.dataframe(
        [
            {
                "Event": entry.id, "Received": entry.received_at, "Platform": ui.platform_label(entry.platform),
                "Type": entry.event_type, "Kind": entry.kind, "Shop": entry.shop_id, "Order": entry.order_id,
                "Item": entry.item_id, "Status": entry.status, "Attempts": entry.attempts,
                "Error": entry.error_message or "",
            }
            for entry in entries
        ],
        hide_index=True,
        width="stretch",
        column_config={"Received": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss z")},
    )  # fmt: skip


def payload_viewer(entries: list[WebhookEntry]) -> None:
    st.subheader("Payload")
    by_id = {entry.id: entry for entry in entries}
    chosen = st.selectbox(
        "Event", options=list(by_id), key="wh_event",
        format_func=lambda i: f"#{i} · {by_id[i].platform} {by_id[i].event_type} · {by_id[i].status}",
    )  # fmt: skip
    with ui.session() as session:
        detail = webhook_log.get_webhook(session, chosen)
    entry = detail.entry
    st.markdown(
        f"{ui.badge(entry.status)} **{ui.plain(entry.kind or entry.event_type)}** from "
        f"{ui.plain(ui.platform_label(entry.platform))} shop {ui.code_span(entry.shop_id or '?')} · "
        f"event id {ui.code_span(entry.event_id)} · received {ui.when(entry.received_at)}"
    )
    if entry.error_message:
        st.error(ui.plain(entry.error_message))
    st.json(ui.json_safe(detail.payload), expanded=True)
    signature = "present (verified on receipt, not shown)" if detail.signature_present else "none stored"
    st.caption(f"Body {detail.body_bytes:,} bytes · signature {signature}")
    if detail.headers:
        st.dataframe(
            [{"Header": name, "Value": value} for name, value in detail.headers.items()], hide_index=True
        )  # fmt: skip


def _page(chosen: EventFilters, *, limit: int, offset: int) -> tuple[list[WebhookEntry], int]:
    with ui.session() as session:
        return webhook_log.list_webhooks(
            session, platform=chosen.platform, event_type=chosen.event_type, kind=chosen.kind, status=chosen.status,
            since=chosen.since, until=chosen.until, limit=limit, offset=offset,
        )  # fmt: skip


def main() -> None:
    ui.current_actor()
    st.title("Webhooks")
    st.caption("Events the marketplaces sent: stored before they are acknowledged, then applied by the pipelines.")
    try:
        chosen = filters()
        status_counts(chosen.since)
        _, total = _page(chosen, limit=1, offset=0)
        pages = max(1, -(-total // PAGE_SIZE))
        page = st.pagination(pages, key=f"wh_page_{chosen.key()}") if pages > 1 else 1
        entries, total = _page(chosen, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        if not entries:
            st.info("No webhook event matches these filters.")
            return
        first = (page - 1) * PAGE_SIZE + 1
        st.caption(f"Events {first:,} to {first + len(entries) - 1:,} of {total:,}, newest first.")
        _table(entries)
        payload_viewer(entries)
    except SyncStoreError as error:
        ui.show_error(error)


main()
