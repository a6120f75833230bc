# The Sync activity page: what the next sync would do, what the last runs did, the log of every change, retries.
"""Sync activity.

- Health: the failure rate of the last 24 hours (`syncstore.sync.engine.failure_rate`) and the outbox's
  events per status (`syncstore.events.outbox.status_counts`).
- Plan: the dry run of every shop (`syncstore.sync.engine.dry_run`: no API call, no write) on request.
- Runs: the recent runs found in the log, each linked to its Dagster run.
- Log: every change sent to a shop (`syncstore.sync.engine.list_sync_logs`), filtered by shop, status,
  operation, product and time, paged in SQL; one entry's request and response (already redacted);
  a failed entry can be retried by Editors and Admins (`syncstore.sync.engine.retry_failed`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import streamlit as st

from streamlit_app import ui
from syncstore.errors import SyncStoreError
from syncstore.events import outbox
from syncstore.security.auth import Actor, Permission
from syncstore.settings import get_settings
from syncstore.shops import connections, marketplaces
from syncstore.sync import engine as sync
from syncstore.sync.engine import ShopPlan, SyncLogView

PAGE_SIZE: Final = 50
RECENT_RUN_LOGS: Final = 500
HEALTH_REFRESH_SECONDS: Final = 10
PLAN_KEY: Final = "sync_activity_plan"
FLASH_KEY: Final = "sync_activity_flash"
STATUSES: Final = ("success", "failed", "pending", "superseded")
OPERATIONS: Final = (
    "create", "bind", "update_price", "update_stock", "update_fields", "activate", "deactivate", "delete", "adopt",
)  # fmt: skip
SINCE_CHOICES: Final = {
    "Any time": None,
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(hours=24),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}
TIME_FORMAT: Final = "YYYY-MM-DD HH:mm:ss z"


@dataclass(frozen=True)
class LogFilters:
    connection_id: int | None
    status: str | None
    operation: str | None
    product_id: int | None
    since: timedelta | None

    def key(self) -> str:
        return f"{self.connection_id}-{self.status}-{self.operation}-{self.product_id}-{self.since}"


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    shops: str
    changes: int
    failed: int
    started_at: datetime
    finished_at: datetime


def dagster_url() -> str:
    return get_settings().dagster_url.rstrip("/")


def dagster_run_link(run_id: str | None) -> str | None:
    """The Dagster UI page of a run; None for runs Dagster did not start (retries from this page, the CLI)."""
    if not run_id:
        return None
    try:
        uuid.UUID(run_id)
    except ValueError:
        return None
    return f"{dagster_url()}/runs/{run_id}"


def _shops() -> dict[int, str]:
    with ui.session() as session:
        return {
            row.id: f"{ui.platform_label(row.platform)} · {row.shop_name or row.shop_id}"
            for row in connections.list_connections(session)
        }


# --- health -----------------------------------------------------------------------------------


@st.fragment(run_every=HEALTH_REFRESH_SECONDS)
def health() -> None:
    """The failure rate and the outbox, refreshed on their own every few seconds."""
    try:
        with ui.session() as session:
            rate = sync.failure_rate(session)
            counts = outbox.status_counts(session)
    except SyncStoreError as error:
        ui.show_error(error)
        return
    columns = st.columns(1 + len(counts))
    columns[0].metric(
        "Failed changes, last 24 h", "—" if rate is None else f"{rate:.1%}",
        help="Failed / (succeeded + failed) among changes sent in the last 24 hours.",
    )  # fmt: skip
    for column, (status, count) in zip(columns[1:], counts.items(), strict=True):
        column.metric(f"Outbox: {status}", f"{count:,}")


# --- plan -------------------------------------------------------------------------------------


def _plan_summary(plan: ShopPlan) -> str:
    by_operation = Counter(change.operation for change in plan.changes)
    counts = ", ".join(f"{count} {operation}" for operation, count in sorted(by_operation.items()))
    invalid = sum(1 for change in plan.changes if change.issues)
    verdict = ui.badge("would succeed", "green") if plan.would_succeed else ui.badge("would fail", "red")
    problems = f" · {invalid} with problems (not sent)" if invalid else ""
    # The plan catalog_diff stored (and listing_sync applies) while it is current; else planned now.
    source = f" · stored plan #{plan.plan_id}" if plan.plan_id is not None else ""
    return (
        f"{verdict} {len(plan.changes)} changes ({counts or 'nothing to do'}){problems} · {plan.api_calls} API calls"
        f" · {plan.conflicts} conflicts{source}"
    )


def _show_plan(plans: Sequence[ShopPlan]) -> None:
    if not plans:
        st.info("No connected shop: nothing would be synced.")
        return
    for plan in plans:
        with st.expander(ui.plain(f"{ui.platform_label(plan.platform)} · {plan.shop_name}"), expanded=True):
            st.markdown(_plan_summary(plan))
            if not plan.changes:
                continue
            st.dataframe(
                [
                    {
                        "Operation": change.operation, "Product": change.product_id, "SKU": change.sku,
                        "Remote item": change.remote_item_id,
                        "Problems": "; ".join(f"{i.field}: {i.message}" for i in change.issues),
                    }
                    for change in plan.changes
                ],
                hide_index=True,
                width="stretch",
            )  # fmt: skip
            names = {i: f"{i + 1}. {change.operation} {change.sku or ''}" for i, change in enumerate(plan.changes)}
            index: int = st.selectbox(
                "Payload of change", options=list(names), format_func=names.__getitem__,
                key=f"plan_change_{plan.connection_id}",
            )  # fmt: skip
            st.json(ui.json_safe(plan.changes[index].request()), expanded=False)


def plan_section() -> None:
    st.subheader("Next sync (dry run)")
    st.caption("What a sync would send to each shop now, from the stored snapshot: no API call, nothing written.")
    if st.button("Preview the next sync", key="preview_plan", icon=":material/preview:"):
        try:
            st.session_state[PLAN_KEY] = sync.dry_run(ui.engine())
        except SyncStoreError as error:
            ui.show_error(error)
    plans = st.session_state.get(PLAN_KEY)
    if plans is not None:
        _show_plan(plans)


# --- runs -------------------------------------------------------------------------------------


def recent_runs(logs: Sequence[SyncLogView]) -> list[RunSummary]:
    """Runs in the order of their latest change, newest first."""
    grouped: dict[str, list[SyncLogView]] = {}
    for log in logs:
        if log.run_id:
            grouped.setdefault(log.run_id, []).append(log)
    runs = [
        RunSummary(
            run_id=run_id,
            shops=", ".join(sorted({log.shop_name or log.platform for log in entries})),
            changes=len(entries),
            failed=sum(log.status == "failed" for log in entries),
            started_at=min(log.created_at for log in entries),
            finished_at=max(log.synced_at or log.created_at for log in entries),
        )
        for run_id, entries in grouped.items()
    ]
    return sorted(runs, key=lambda run: run.finished_at, reverse=True)


def runs_section() -> None:
    st.subheader("Recent runs")
    with ui.session() as session:
        logs, _ = sync.list_sync_logs(session, limit=RECENT_RUN_LOGS)
    runs = recent_runs(logs)
    if not runs:
        st.caption("No sync has run yet.")
        return
    st.dataframe(
        [
            {
                "Run": run.run_id, "Shops": run.shops, "Changes": run.changes, "Failed": run.failed,
                "Started": run.started_at, "Last change": run.finished_at, "Dagster": dagster_run_link(run.run_id),
            }
            for run in runs[:20]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Dagster": st.column_config.LinkColumn("Dagster", display_text="Open run"),
            "Started": st.column_config.DatetimeColumn(format=TIME_FORMAT),
            "Last change": st.column_config.DatetimeColumn(format=TIME_FORMAT),
        },
    )  # fmt: skip


# --- the log ----------------------------------------------------------------------------------


def log_filters(shops: dict[int, str]) -> LogFilters:
    shop, status, operation, product, since = st.columns(5)
    connection_id = shop.selectbox(
        "Shop", options=[None, *shops], format_func=lambda i: "All shops" if i is None else shops[i], key="log_shop"
    )
    chosen_status = status.selectbox(
        "Status", options=[None, *STATUSES], format_func=lambda s: "Any" if s is None else s, key="log_status"
    )
    chosen_operation = operation.selectbox(
        "Operation", options=[None, *OPERATIONS], format_func=lambda s: "Any" if s is None else s, key="log_operation"
    )
    product_id = product.number_input("Product id", min_value=1, value=None, step=1, key="log_product")
    since_label = since.selectbox("Since", options=list(SINCE_CHOICES), index=0, key="log_since")
    return LogFilters(
        connection_id=connection_id, status=chosen_status, operation=chosen_operation,
        product_id=int(product_id) if product_id is not None else None, since=SINCE_CHOICES[since_label],
    )  # fmt: skip


def _log_table(logs: Sequence[SyncLogView]) -> None:
    st.dataframe(
        [
            {
                "Log": log.id, "When": log.created_at, "Shop": log.shop_name or log.platform, "Product": log.product_id,
                "Variant": log.variant_id, "Operation": log.operation, "Status": log.status,
                "Attempts": log.attempts, "ms": log.duration_ms, "Error": log.error_message or "",
                "Dagster": dagster_run_link(log.run_id),
            }
            for log in logs
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Dagster": st.column_config.LinkColumn("Dagster", display_text="Open run"),
            "When": st.column_config.DatetimeColumn(format=TIME_FORMAT),
        },
    )  # fmt: skip


def retry(actor: Actor, log: SyncLogView) -> None:
    """Send the failed change again (Editors and Admins; syncstore checks the permission)."""
    connectors = None
    try:
        connectors = marketplaces.connector_factory(ui.engine())
        result = sync.retry_failed(actor, ui.engine(), log.id, connectors)
    except SyncStoreError as error:
        ui.show_error(error)
        return
    finally:
        if connectors is not None:
            connectors.close()
    ui.after_write()
    if result.status == "success":
        flash = ("success", f"Retried: log {log.id} succeeded on attempt {result.attempts}.")
    elif result.status == "superseded":
        flash = ("info", f"Log {log.id} is no longer needed: {result.error_message}")
    else:
        flash = ("error", f"Retried, and log {log.id} is {result.status} again: {result.error_message or 'no message'}")
    # Shown after the rerun, above the log as it is now.
    st.session_state[FLASH_KEY] = flash
    st.rerun()


def show_flash() -> None:
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is not None:
        kind, text = flash
        {"success": st.success, "info": st.info}.get(kind, st.error)(ui.plain(text))


def log_detail(actor: Actor, logs: Sequence[SyncLogView]) -> None:
    by_id = {log.id: log for log in logs}
    # The newest failed entry first: that is usually the one to look at (and retry).
    first_failed = next((i for i, log in enumerate(logs) if log.status == "failed"), 0)
    chosen = st.selectbox(
        "Entry", options=list(by_id), index=first_failed, key="log_entry",
        format_func=lambda i: f"#{i} · {by_id[i].status} · {by_id[i].operation} · {by_id[i].shop_name}",
    )  # fmt: skip
    log = by_id[chosen]
    st.markdown(
        f"{ui.badge(log.status)} **{ui.plain(log.operation)}** on {ui.plain(log.shop_name or log.platform)} · "
        f"product {log.product_id}"
        f" · attempt {log.attempts} · {ui.when(log.created_at)}"
    )
    if log.error_message:
        st.error(ui.plain(log.error_message))
    link = dagster_run_link(log.run_id)
    if link:
        st.link_button("Open the Dagster run", link, icon=":material/open_in_new:")
    elif log.run_id:
        st.caption(f"Run {ui.plain(log.run_id)}")
    request, response = st.columns(2)
    with request:
        st.markdown("**Request**")
        st.json(ui.json_safe(log.request_data), expanded=2)
    with response:
        st.markdown("**Response**")
        st.json(ui.json_safe(log.response_data), expanded=2)
    if log.status != "failed":
        return
    if ui.can(Permission.SYNC_RUN):
        if st.button("Retry", key=f"retry_{log.id}", type="primary", icon=":material/replay:"):
            retry(actor, log)
    else:
        ui.read_only_note(Permission.SYNC_RUN)


def log_section(actor: Actor) -> None:
    st.subheader("Sync log")
    show_flash()
    shops = _shops()
    filters = log_filters(shops)
    since = datetime.now(UTC) - filters.since if filters.since is not None else None
    query: dict[str, Any] = {
        "connection_id": filters.connection_id, "status": filters.status, "operation": filters.operation,
        "product_id": filters.product_id, "since": since,
    }  # fmt: skip
    with ui.session() as session:
        _, total = sync.list_sync_logs(session, **query, limit=1)
    pages = max(1, -(-total // PAGE_SIZE))
    page = st.pagination(pages, key=f"log_page_{filters.key()}") if pages > 1 else 1
    with ui.session() as session:
        logs, total = sync.list_sync_logs(session, **query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    if not logs:
        st.info("No sync log entry matches these filters.")
        return
    first = (page - 1) * PAGE_SIZE + 1
    st.caption(f"Entries {first:,} to {first + len(logs) - 1:,} of {total:,}, newest first.")
    _log_table(logs)
    log_detail(actor, logs)


def main() -> None:
    actor = ui.current_actor()
    st.title("Sync activity")
    try:
        health()
        plan_section()
        runs_section()
        log_section(actor)
    except SyncStoreError as error:
        ui.show_error(error)


main()
