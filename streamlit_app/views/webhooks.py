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
from streamlit_app.i18n import N_, t, tn, tv
from syncstore.errors import SyncStoreError
from syncstore.events import webhook_log
from syncstore.events.webhook_log import WebhookEntry

PAGE_SIZE: Final = 50
STATUS_HELP: Final = {
    "received": N_("stored, waiting to be applied"),
    "processed": N_("applied"),
    "ignored": N_("nothing to do (unknown type, or a shop no longer connected)"),
    "failed": N_("could not be applied after every attempt"),
}
# The webhook statuses as words (shown with tv()).
STATUS_WORDS: Final = (
    N_("Received"), N_("Processed"), N_("Ignored"), N_("Failed"), N_("received"), N_("processed"), N_("ignored"),
)  # fmt: skip
# Options are the English words (stable widget values); people read them through tv().
TIME_CHOICES: Final = {
    N_("Last hour"): timedelta(hours=1),
    N_("Last 24 hours"): timedelta(hours=24),
    N_("Last 7 days"): timedelta(days=7),
    N_("Any time"): None,
    N_("Between dates"): None,
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
    return t("Any") if label is None else label


def _time_window() -> tuple[datetime | None, datetime | None]:
    choice = st.selectbox(t("Received"), options=list(TIME_CHOICES), index=1, key="wh_time", format_func=tv)
    if choice != "Between dates":
        span = TIME_CHOICES[choice]
        return (datetime.now(UTC) - span if span is not None else None), None
    today = datetime.now(UTC).date()
    chosen = st.date_input(t("From / to (UTC)"), value=(today - timedelta(days=7), today), key="wh_dates")
    days = [day for day in (chosen if isinstance(chosen, tuple) else (chosen,)) if isinstance(day, date)]
    if not days:
        return None, None
    start = datetime.combine(days[0], time.min, tzinfo=UTC)
    end = datetime.combine(days[-1], time.min, tzinfo=UTC) + timedelta(days=1)
    return start, end


def filters() -> EventFilters:
    platform_col, type_col, kind_col, status_col, time_col = st.columns(5)
    platform = platform_col.selectbox(
        t("Platform"), options=[None, *registry.names()], key="wh_platform",
        format_func=lambda p: t("Any") if p is None else ui.platform_label(p),
    )  # fmt: skip
    with ui.session() as session:
        types = webhook_log.event_types(session, platform)
    event_type = type_col.selectbox(t("Event type"), options=[None, *types], format_func=_any, key="wh_type")
    kind = kind_col.selectbox(t("Kind"), options=[None, *webhook_log.KINDS], format_func=_any, key="wh_kind")
    status = status_col.selectbox(
        t("Status"), options=[None, *webhook_log.STATUSES], format_func=lambda s: _any(s and tv(s)), key="wh_status"
    )
    with time_col:
        since, until = _time_window()
    return EventFilters(platform, event_type, kind, status, since, until)


def status_counts(since: datetime | None) -> None:
    with ui.session() as session:
        counts = webhook_log.status_counts(session, since=since)
    for column, (status, count) in zip(st.columns(len(counts)), counts.items(), strict=True):
        help_text = STATUS_HELP.get(status)
        column.metric(tv(status.title()), f"{count:,}", help=tv(help_text) if help_text else None)


def _table(entries: list[WebhookEntry]) -> None:
    st.dataframe(
        [
            {
                t("Event"): entry.id, t("Received"): entry.received_at,
                t("Platform"): ui.platform_label(entry.platform), t("Type"): entry.event_type, t("Kind"): entry.kind,
                t("Shop"): entry.shop_id, t("Order"): entry.order_id, t("Item"): entry.item_id,
                t("Status"): tv(entry.status), t("Attempts"): entry.attempts, t("Error"): entry.error_message or "",
            }
            for entry in entries
        ],
        hide_index=True,
        width="stretch",
        column_config={t("Received"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss z")},
    )  # fmt: skip


def payload_viewer(entries: list[WebhookEntry]) -> None:
    st.subheader(t("Payload"))
    by_id = {entry.id: entry for entry in entries}
    chosen = st.selectbox(
        t("Event"), options=list(by_id), key="wh_event",
        format_func=lambda i: f"#{i} · {by_id[i].platform} {by_id[i].event_type} · {tv(by_id[i].status)}",
    )  # fmt: skip
    with ui.session() as session:
        detail = webhook_log.get_webhook(session, chosen)
    entry = detail.entry
    st.markdown(
        t(
            "{status} **{kind}** from {platform} shop {shop} · event id {event} · received {when}",
            status=ui.badge(entry.status),
            kind=ui.plain(entry.kind or entry.event_type),
            platform=ui.plain(ui.platform_label(entry.platform)),
            shop=ui.code_span(entry.shop_id or "?"),
            event=ui.code_span(entry.event_id),
            when=ui.when(entry.received_at),
        )
    )
    if entry.error_message:
        st.error(ui.plain(entry.error_message))
    st.json(ui.json_safe(detail.payload), expanded=True)
    signature = t("present (verified on receipt, not shown)") if detail.signature_present else t("none stored")
    st.caption(
        tn(
            "Body {n} byte · signature {signature}",
            "Body {n} bytes · signature {signature}",
            detail.body_bytes,
            n=f"{detail.body_bytes:,}",
            signature=signature,
        )
    )
    if detail.headers:
        st.dataframe(
            [{t("Header"): name, t("Value"): value} for name, value in detail.headers.items()], hide_index=True
        )  # fmt: skip


def _page(chosen: EventFilters, *, limit: int, offset: int) -> tuple[list[WebhookEntry], int]:
    with ui.session() as session:
        return webhook_log.list_webhooks(
            session, platform=chosen.platform, event_type=chosen.event_type, kind=chosen.kind, status=chosen.status,
            since=chosen.since, until=chosen.until, limit=limit, offset=offset,
        )  # fmt: skip


def main() -> None:
    ui.current_actor()
    st.title(t("Webhooks"))
    st.caption(t("Events the marketplaces sent: stored before they are acknowledged, then applied by the pipelines."))
    try:
        chosen = filters()
        status_counts(chosen.since)
        _, total = _page(chosen, limit=1, offset=0)
        pages = max(1, -(-total // PAGE_SIZE))
        page = st.pagination(pages, key=f"wh_page_{chosen.key()}") if pages > 1 else 1
        entries, total = _page(chosen, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        if not entries:
            st.info(t("No webhook event matches these filters."))
            return
        first = (page - 1) * PAGE_SIZE + 1
        st.caption(
            t(
                "Events {first} to {last} of {total}, newest first.",
                first=f"{first:,}",
                last=f"{first + len(entries) - 1:,}",
                total=f"{total:,}",
            )
        )
        _table(entries)
        payload_viewer(entries)
    except SyncStoreError as error:
        ui.show_error(error)


main()
