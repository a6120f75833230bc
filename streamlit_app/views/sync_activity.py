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
from streamlit_app.i18n import N_, t, tn, tv
from streamlit_app.shop_names import shop_title, title_of
from syncstore.errors import SyncStoreError
from syncstore.events import outbox
from syncstore.security.auth import Actor, Permission
from syncstore.settings import get_settings
from syncstore.shops import connections, marketplaces
from syncstore.sync import engine as sync
from syncstore.sync import runs as sync_runs
from syncstore.sync.engine import ShopPlan, SyncLogView

PAGE_SIZE: Final = 50
HEALTH_REFRESH_SECONDS: Final = 10
PLAN_KEY: Final = "sync_activity_plan"
FLASH_KEY: Final = "sync_activity_flash"
APPLY_KEY: Final = "sync_activity_apply_job"
STATUSES: Final = (N_("success"), N_("failed"), N_("pending"), N_("superseded"))
OPERATIONS: Final = (
    N_("create"), N_("bind"), N_("update_price"), N_("update_stock"), N_("update_fields"), N_("activate"),
    N_("deactivate"), N_("delete"), N_("adopt"), N_("review"),
)  # fmt: skip
OUTBOX_STATUSES: Final = (N_("pending"), N_("done"), N_("failed"))
SINCE_CHOICES: Final = {
    N_("Any time"): None,
    N_("Last hour"): timedelta(hours=1),
    N_("Last 24 hours"): timedelta(hours=24),
    N_("Last 7 days"): timedelta(days=7),
    N_("Last 30 days"): timedelta(days=30),
}
STATUS_BADGES: Final = {"success": "green", "failed": "red", "pending": "orange", "superseded": "gray"}


@dataclass(frozen=True)
class LogFilters:
    connection_id: int | None
    status: str | None
    operation: str | None
    product_id: int | None
    since: timedelta | None

    def key(self) -> str:
        return f"{self.connection_id}-{self.status}-{self.operation}-{self.product_id}-{self.since}"


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
        rows = connections.list_connections(session)
    return {row.id: shop_title(row.platform, row.shop_name, row.shop_id) for row in rows}


def status_badge(status: str) -> str:
    return ui.badge(status, STATUS_BADGES.get(status))


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
        t("Failed changes, last 24 h"), "—" if rate is None else f"{rate:.1%}",
        help=t("Failed / (succeeded + failed) among changes sent in the last 24 hours."),
    )  # fmt: skip
    for column, (status, count) in zip(columns[1:], counts.items(), strict=True):
        column.metric(t("Outbox: {status}", status=tv(status)), f"{count:,}")


# --- plan -------------------------------------------------------------------------------------


def _plan_summary(plan: ShopPlan) -> str:
    by_operation = Counter(change.operation for change in plan.changes)
    counts = ", ".join(f"{count} {tv(operation)}" for operation, count in sorted(by_operation.items()))
    invalid = sum(1 for change in plan.changes if change.issues)
    verdict = ui.badge(t("would succeed"), "green") if plan.would_succeed else ui.badge(t("would fail"), "red")
    parts = [
        t("{verdict} {changes} ({counts})", verdict=verdict,
          changes=tn("{n} change", "{n} changes", len(plan.changes)), counts=counts or t("nothing to do")),
    ]  # fmt: skip
    if invalid:
        parts.append(tn("{n} with problems (not sent)", "{n} with problems (not sent)", invalid))
    parts.append(tn("{n} API call", "{n} API calls", plan.api_calls))
    parts.append(tn("{n} conflict", "{n} conflicts", plan.conflicts))
    # The plan catalog_diff stored (and listing_sync applies) while it is current; else planned now.
    if plan.plan_id is not None:
        parts.append(t("stored plan #{plan}", plan=plan.plan_id))
    return " · ".join(parts)


def _plan_shop(plan: ShopPlan) -> str:
    """The shop a plan is for, as every page names it."""
    return title_of(plan.connection_id, f"{ui.platform_label(plan.platform)} · {plan.shop_name}")


def _log_shop(log: SyncLogView) -> str:
    """The shop a log entry is about (its platform when the shop was removed since)."""
    return title_of(log.connection_id, log.shop_name or ui.platform_label(log.platform))


def _show_plan(plans: Sequence[ShopPlan]) -> None:
    if not plans:
        st.info(t("No connected shop: nothing would be synced."))
        return
    for plan in plans:
        with st.expander(ui.plain(_plan_shop(plan)), expanded=True):
            st.markdown(_plan_summary(plan))
            if not plan.changes:
                continue
            st.dataframe(
                [
                    {
                        t("Operation"): tv(change.operation), t("Product"): change.product_id, t("SKU"): change.sku,
                        t("Remote item"): change.remote_item_id,
                        t("Problems"): "; ".join(f"{i.field}: {i.message}" for i in change.issues),
                    }
                    for change in plan.changes
                ],
                hide_index=True,
                width="stretch",
            )  # fmt: skip
            names = {i: f"{i + 1}. {tv(change.operation)} {change.sku or ''}" for i, change in enumerate(plan.changes)}
            index: int = st.selectbox(
                t("Payload of change"), options=list(names), format_func=names.__getitem__,
                key=f"plan_change_{plan.connection_id}",
            )  # fmt: skip
            st.json(ui.json_safe(plan.changes[index].request()), expanded=False)


@dataclass(frozen=True)
class PendingWork:
    """What "Apply now" sends: the products of the previewed changes, to the shops they are planned for."""

    product_ids: tuple[int, ...]
    connection_ids: tuple[int, ...]
    changes: int
    shop_names: tuple[str, ...]


def pending_work(plans: Sequence[ShopPlan]) -> PendingWork:
    """The previewed changes that can be applied now (valid, of a product, in a shop that is connected)."""
    products: set[int] = set()
    shops: dict[int, str] = {}
    changes = 0
    for plan in plans:
        applicable = [c for c in plan.changes if c.product_id is not None and not c.issues]
        if not applicable:
            continue
        changes += len(applicable)
        products.update(c.product_id for c in applicable if c.product_id is not None)
        shops[plan.connection_id] = _plan_shop(plan)
    return PendingWork(tuple(sorted(products)), tuple(sorted(shops)), changes, tuple(shops.values()))


def apply_now(actor: Actor, work: PendingWork) -> None:
    """Queue the previewed changes as one bulk sync job; the worker sends them within seconds."""
    try:
        with ui.session() as session:
            job_id = sync.start_bulk_sync(actor, session, list(work.product_ids), list(work.connection_ids))
    except SyncStoreError as error:
        ui.show_error(error)
        return
    message = t(
        "Applying {changes} for {products} in {shops} now.",
        changes=tn("{n} change", "{n} changes", work.changes),
        products=tn("{n} product", "{n} products", len(work.product_ids)),
        shops=", ".join(work.shop_names),
    )
    st.session_state[APPLY_KEY] = (message, job_id)
    st.session_state.pop(PLAN_KEY, None)  # the preview is what was; the progress shows what happens now
    ui.after_write(message)
    st.rerun()


def plan_section(actor: Actor) -> None:
    st.subheader(t("Next sync (dry run)"))
    st.caption(t("What a sync would send to each shop now, from the stored snapshot: no API call, nothing written."))
    applying = st.session_state.get(APPLY_KEY)
    if applying is not None:
        message, job_id = applying
        st.success(ui.plain(message))
        ui.job_progress(job_id)
        if st.button(t("Dismiss"), key="apply_dismiss"):
            st.session_state.pop(APPLY_KEY, None)
            st.rerun()
    if st.button(t("Preview the next sync"), key="preview_plan", icon=":material/preview:"):
        try:
            st.session_state[PLAN_KEY] = sync.dry_run(ui.engine())
        except SyncStoreError as error:
            ui.show_error(error)
    plans = st.session_state.get(PLAN_KEY)
    if plans is None:
        return
    work = pending_work(plans)
    if work.changes and ui.can(Permission.SYNC_RUN):
        label = t(
            "Apply now: {changes} for {products}",
            changes=tn("{n} change", "{n} changes", work.changes),
            products=tn("{n} product", "{n} products", len(work.product_ids)),
        )
        if st.button(label, key="apply_plan", type="primary", icon=":material/send:"):
            apply_now(actor, work)
    elif work.changes:
        ui.read_only_note(Permission.SYNC_RUN)
    _show_plan(plans)


# --- runs -------------------------------------------------------------------------------------


def runs_section() -> None:
    st.subheader(t("Recent runs"))
    with ui.session() as session:
        runs = sync_runs.recent_runs(session)
    if not runs:
        st.caption(t("No sync has run yet."))
        return
    st.dataframe(
        [
            {
                t("Run"): run.run_id, t("Shops"): ", ".join(run.shops), t("Changes"): run.changes,
                t("Succeeded"): run.succeeded, t("Failed"): run.failed, t("Started"): ui.local_time(run.started_at),
                t("Last change"): ui.local_time(run.finished_at), "Dagster": dagster_run_link(run.run_id),
            }
            for run in runs
        ],
        hide_index=True,
        width="stretch",
        column_config={"Dagster": st.column_config.LinkColumn(t("Dagster run"), display_text=t("Open run"))},
    )  # fmt: skip


# --- the log ----------------------------------------------------------------------------------


def _any(value: str | None) -> str:
    return t("Any") if value is None else tv(value)


def log_filters(shops: dict[int, str]) -> LogFilters:
    shop, status, operation, product, since = st.columns(5)
    connection_id = shop.selectbox(
        t("Shop"), options=[None, *shops], format_func=lambda i: t("All shops") if i is None else shops[i],
        key="log_shop",
    )  # fmt: skip
    chosen_status = status.selectbox(t("Status"), options=[None, *STATUSES], format_func=_any, key="log_status")
    chosen_operation = operation.selectbox(
        t("Operation"), options=[None, *OPERATIONS], format_func=_any, key="log_operation"
    )
    product_id = product.number_input(t("Product id"), min_value=1, value=None, step=1, key="log_product")
    since_label = since.selectbox(t("Since"), options=list(SINCE_CHOICES), index=0, format_func=tv, key="log_since")
    return LogFilters(
        connection_id=connection_id, status=chosen_status, operation=chosen_operation,
        product_id=int(product_id) if product_id is not None else None, since=SINCE_CHOICES[since_label],
    )  # fmt: skip


def _log_table(logs: Sequence[SyncLogView]) -> None:
    st.dataframe(
        [
            {
                t("Log"): log.id, t("When"): ui.local_time(log.created_at), t("Shop"): _log_shop(log),
                t("Product"): log.product_id, t("Variant"): log.variant_id, t("Operation"): tv(log.operation),
                t("Status"): tv(log.status), t("Attempts"): log.attempts, "ms": log.duration_ms,
                t("Error"): log.error_message or "", "Dagster": dagster_run_link(log.run_id),
            }
            for log in logs
        ],
        hide_index=True,
        width="stretch",
        column_config={"Dagster": st.column_config.LinkColumn(t("Dagster run"), display_text=t("Open run"))},
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
        flash = (
            "success",
            t("Retried: log {log} succeeded on attempt {attempt}.", log=log.id, attempt=result.attempts),
        )
    elif result.status == "superseded":
        flash = ("info", t("Log {log} is no longer needed: {reason}", log=log.id, reason=result.error_message or ""))
    else:
        flash = (
            "error",
            t("Retried, and log {log} is {status} again: {reason}", log=log.id, status=tv(result.status),
              reason=result.error_message or t("no message")),
        )  # fmt: skip
    # Shown after the rerun, above the log as it is now.
    st.session_state[FLASH_KEY] = flash
    st.rerun()


def show_flash() -> None:
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is not None:
        kind, text = flash
        {"success": st.success, "info": st.info}.get(kind, st.error)(ui.plain(text))


def _payload(title: str, value: Any, missing: str) -> None:
    """A request or response as JSON; a change never sent (or not answered) says so instead."""
    st.markdown(f"**{title}**")
    if value is None or value == {} or value == []:
        st.markdown(ui.badge(missing, "gray"))
    else:
        st.json(ui.json_safe(value), expanded=2)


def log_detail(actor: Actor, logs: Sequence[SyncLogView]) -> None:
    by_id = {log.id: log for log in logs}
    # The newest failed entry first: that is usually the one to look at (and retry).
    first_failed = next((i for i, log in enumerate(logs) if log.status == "failed"), 0)
    chosen = st.selectbox(
        t("Entry"), options=list(by_id), index=first_failed, key="log_entry",
        format_func=lambda i: f"#{i} · {tv(by_id[i].status)} · {tv(by_id[i].operation)} · {_log_shop(by_id[i])}",
    )  # fmt: skip
    log = by_id[chosen]
    st.markdown(
        t(
            "{status} **{operation}** on {shop} · product {product} · attempt {attempt} · {when}",
            status=status_badge(log.status), operation=ui.plain(tv(log.operation)),
            shop=ui.plain(_log_shop(log)), product=log.product_id, attempt=log.attempts,
            when=ui.when(log.created_at),
        )
    )  # fmt: skip
    if log.error_message:
        st.error(ui.plain(log.error_message))
    link = dagster_run_link(log.run_id)
    if link:
        st.link_button(t("Open the Dagster run"), link, icon=":material/open_in_new:")
    elif log.run_id:
        st.caption(t("Run {run}", run=ui.plain(log.run_id)))
    request, response = st.columns(2)
    with request:
        _payload(t("Request"), log.request_data, t("not sent"))
    with response:
        _payload(t("Response"), log.response_data, t("not sent") if log.status != "success" else t("no answer"))
    if log.status != "failed":
        return
    if ui.can(Permission.SYNC_RUN):
        if st.button(t("Retry"), key=f"retry_{log.id}", type="primary", icon=":material/replay:"):
            retry(actor, log)
    else:
        ui.read_only_note(Permission.SYNC_RUN)


def log_section(actor: Actor) -> None:
    st.subheader(t("Sync log"))
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
        st.info(t("No sync log entry matches these filters."))
        return
    first = (page - 1) * PAGE_SIZE + 1
    st.caption(
        tn("Entry {first} to {last} of {n}, newest first.", "Entries {first} to {last} of {n}, newest first.", total,
           first=f"{first:,}", last=f"{first + len(logs) - 1:,}")
    )  # fmt: skip
    _log_table(logs)
    log_detail(actor, logs)


def main() -> None:
    actor = ui.current_actor()
    st.title(t("Sync activity"))
    try:
        health()
        plan_section(actor)
        runs_section()
        log_section(actor)
    except SyncStoreError as error:
        ui.show_error(error)


main()
