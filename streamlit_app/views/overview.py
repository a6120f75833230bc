# The Overview (landing page): what needs action, today's stock and orders, each shop's health and sync activity.
"""Overview.

What a merchant checks first, from `syncstore.reports.overview` (one indexed query per figure):

- what needs action, each count linking to the page that deals with it (the same counts appear
  in the menu, `streamlit_app.attention`);
- stock moved and orders seen today, "today" starting at midnight in the user's time zone;
- one card per shop: connected or not, when its token expires, the API quota used today, the last
  sync and the share of changes that failed over the last 24 hours;
- the sync activity of the last 24 hours, per hour and status (a stacked bar chart).

The figures live in a fragment that reruns by itself every `attention.REFRESH_SECONDS` (30 s): they
refresh without a full rerun of the page, and the reads are keyed by the refresh slot, so each
refresh reads the database again (once per slot, however many tabs are open). The menu's counts,
read under the same slot, follow on the page's next rerun.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import altair as alt
import polars as pl
import streamlit as st

from streamlit_app import attention, ui
from streamlit_app.i18n import N_, current_time_zone, t, tn, tv
from streamlit_app.shop_names import shop_title
from syncstore.db.types import utcnow
from syncstore.reports import overview
from syncstore.security.auth import Permission

# The sync log statuses as the chart names and colours them.
ACTIVITY_STATUSES: tuple[tuple[str, str], ...] = (
    (N_("success"), "#21c354"),
    (N_("failed"), "#ff4b4b"),
    (N_("pending"), "#ffa421"),
    (N_("superseded"), "#a3a8b8"),
)
# The pages the Overview links to.
CONFLICTS_PAGE = "views/conflicts.py"
SYNC_ACTIVITY_PAGE = "views/sync_activity.py"
PRODUCTS_PAGE = "views/products.py"
LISTINGS_PAGE = "views/listings.py"
INVENTORY_PAGE = "views/inventory.py"
ADMIN_PAGE = "views/admin.py"
ORDERS_PAGE = "views/orders.py"
CONNECTIONS_PAGE = "views/connections.py"


@dataclass(frozen=True)
class CountCard:
    """One count of the "Needs attention" row: its words, the page that deals with it, and who may open it."""

    label: str
    value: int
    page: str
    link: str
    icon: str
    visible_to_all: bool = True
    help: str | None = None


@ui.cached_read()
def _shops(url: str, slot: int) -> list[overview.ShopHealth]:
    with ui.session() as session:
        return overview.shop_health(session)


@ui.cached_read()
def _today(url: str, since: datetime, slot: int) -> overview.Today:
    with ui.session() as session:
        return overview.today(session, since)


@ui.cached_read()
def _activity(url: str, hour: datetime, slot: int) -> list[overview.HourActivity]:
    with ui.session() as session:
        return overview.activity_by_hour(session, now=hour)


def _cards(counts: overview.Attention) -> list[CountCard]:
    return [
        CountCard(t("Pending conflicts"), counts.pending_conflicts, CONFLICTS_PAGE, t("Resolve"),
                  ":material/call_split:"),
        CountCard(t("Failed changes"), counts.failed_changes, SYNC_ACTIVITY_PAGE, t("Review and retry"),
                  ":material/sync_problem:", help=t("Changes sent in the last 24 hours that failed and were not "
                                                     "retried since.")),
        CountCard(t("Listings in review"), counts.listings_in_review, PRODUCTS_PAGE, t("Check their status"),
                  ":material/hourglass_top:"),
        CountCard(t("Orphan SKUs"), counts.orphan_skus, LISTINGS_PAGE, t("Bind SKUs"), ":material/link_off:"),
        CountCard(t("Low-stock variants"), counts.low_stock_variants, INVENTORY_PAGE, t("See stock levels"),
                  ":material/production_quantity_limits:"),
        CountCard(t("Open alerts"), counts.open_alerts, ADMIN_PAGE, t("See alerts"),
                  ":material/notifications_active:", visible_to_all=False),
    ]  # fmt: skip


def needs_attention(counts: overview.Attention) -> None:
    st.subheader(t("Needs attention"))
    cards = _cards(counts)
    if not any(card.value for card in cards):
        st.success(t("Nothing needs your attention."), icon=":material/check_circle:")
    per_row = 3
    columns = [column for _ in range(0, len(cards), per_row) for column in st.columns(per_row)]
    for column, card in zip(columns, cards, strict=False):
        with column.container(border=True):
            st.metric(card.label, f"{card.value:,}", help=card.help)
            if card.visible_to_all or ui.can(Permission.USERS_MANAGE):
                st.page_link(card.page, label=card.link, icon=card.icon)
            else:
                st.caption(t("An admin sees them."))


def today_section(figures: overview.Today) -> None:
    st.subheader(t("Today"))
    st.caption(t("Since midnight, {time}.", time=ui.local_time(figures.since)))
    stock, orders = st.columns(2)
    with stock.container(border=True):
        st.metric(t("Stock moved"), tn("{n} unit", "{n} units", figures.units_moved, n=f"{figures.units_moved:,}"))
        st.caption(tn("{n} stock change", "{n} stock changes", figures.stock_changes, n=f"{figures.stock_changes:,}"))
        st.page_link(INVENTORY_PAGE, label=t("See stock levels"), icon=":material/warehouse:")
    with orders.container(border=True):
        st.metric(t("Orders seen"), tn("{n} order", "{n} orders", figures.orders, n=f"{figures.orders:,}"))
        st.caption(tn("{n} unit ordered", "{n} units ordered", figures.order_units, n=f"{figures.order_units:,}"))
        st.page_link(ORDERS_PAGE, label=t("See the order list"), icon=":material/receipt_long:")


def _token_text(shop: overview.ShopHealth, now: datetime) -> str:
    """When the shop's authorization ends (its refresh token; the access token is renewed with it)."""
    refresh, access = shop.refresh_token_expires_at, shop.access_token_expires_at
    if refresh is not None:
        if refresh <= now:
            return t("Authorization ended {when}: connect the shop again.", when=ui.when(refresh))
        return t("Authorization valid until {time}", time=ui.local_time(refresh))
    if access is not None and access <= now:
        return t("Access token expired {when}: connect the shop again.", when=ui.when(access))
    if access is not None:
        return t("Access token valid until {time}", time=ui.local_time(access))
    return t("No token expiry recorded")


def _failure_text(shop: overview.ShopHealth) -> str:
    if not shop.sent:
        return t("No change sent in the last 24 hours")
    rate = shop.failure_rate or 0.0
    return tn(
        "{failed} of {n} change failed in the last 24 hours ({rate})",
        "{failed} of {n} changes failed in the last 24 hours ({rate})",
        shop.sent,
        n=f"{shop.sent:,}",
        failed=f"{shop.failed:,}",
        rate=f"{rate:.0%}",
    )


def shop_card(shop: overview.ShopHealth, now: datetime) -> None:
    with st.container(border=True):
        name = shop_title(shop.platform, shop.shop_name, shop.shop_id)
        st.markdown(f"**{ui.plain(name)}**  \n{ui.badge(shop.status)}")
        token = _token_text(shop, now)
        if shop.token_trouble(now):
            st.warning(token, icon=":material/key:")
        else:
            st.caption(token)
        share = min(shop.quota_share, 1.0)
        st.progress(
            share,
            text=t(
                "API calls today: {used} of {limit} ({share})",
                used=f"{shop.quota_used:,}",
                limit=f"{shop.quota_limit:,}",
                share=f"{share:.0%}",
            ),
        )
        if shop.paused_until is not None and shop.paused_until > now:
            st.warning(t("Paused by the marketplace until {time}.", time=ui.local_time(shop.paused_until)))
        st.caption(t("Last sync: {when}", when=ui.when(shop.last_synced_at)))
        failures = _failure_text(shop)
        if shop.failed:
            st.error(failures, icon=":material/sync_problem:")
        else:
            st.caption(failures)


def shops_section(shops: Sequence[overview.ShopHealth]) -> None:
    st.subheader(t("Shops"))
    if not shops:
        st.info(t("No shop is connected yet."))
        st.page_link(CONNECTIONS_PAGE, label=t("Connect a shop"), icon=":material/storefront:")
        return
    now = utcnow()
    healthy = sum(shop.healthy(now) for shop in shops)
    st.caption(tn("Healthy: {healthy} of {n} shop", "Healthy: {healthy} of {n} shops", len(shops), healthy=healthy))
    per_row = 3
    for start in range(0, len(shops), per_row):
        columns = st.columns(per_row)
        for column, shop in zip(columns, shops[start : start + per_row], strict=False):
            with column:
                shop_card(shop, now)
    st.page_link(CONNECTIONS_PAGE, label=t("Manage shops"), icon=":material/storefront:")


def activity_frame(hours: Sequence[overview.HourActivity]) -> pl.DataFrame:
    """One row per hour and status: the hour as the user reads it (local "HH:00"), the status in words, the count."""
    zone = current_time_zone()
    rows = []
    for hour in hours:
        label = hour.hour.astimezone(zone).strftime("%H:%M")
        for status, _ in ACTIVITY_STATUSES:
            rows.append({"hour": label, "status": tv(status), "changes": hour.counts.get(status, 0)})
    return pl.DataFrame(rows, schema={"hour": pl.String, "status": pl.String, "changes": pl.Int64})


def activity_section(hours: Sequence[overview.HourActivity]) -> None:
    st.subheader(t("Sync activity, last 24 hours"))
    total = sum(hour.total for hour in hours)
    failed = sum(hour.counts.get("failed", 0) for hour in hours)
    st.caption(
        t(
            "{changes} · {failed}",
            changes=tn("{n} change logged", "{n} changes logged", total, n=f"{total:,}"),
            failed=tn("{n} failed", "{n} failed", failed, n=f"{failed:,}"),
        )
    )
    frame = activity_frame(hours)
    order = list(dict.fromkeys(frame["hour"]))
    statuses = [tv(status) for status, _ in ACTIVITY_STATUSES]
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("hour:O", sort=order, title=t("Hour")),
            y=alt.Y("sum(changes):Q", title=t("Changes"), axis=alt.Axis(format="d", tickMinStep=1)),
            color=alt.Color(
                "status:N",
                title=t("Status"),
                scale=alt.Scale(domain=statuses, range=[colour for _, colour in ACTIVITY_STATUSES]),
            ),
            tooltip=[
                alt.Tooltip("hour:O", title=t("Hour")),
                alt.Tooltip("status:N", title=t("Status")),
                alt.Tooltip("changes:Q", title=t("Changes")),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")
    st.page_link(SYNC_ACTIVITY_PAGE, label=t("See the change log"), icon=":material/sync:")


@st.fragment(run_every=attention.REFRESH_SECONDS)
def live_figures() -> None:
    """Everything the Overview shows below its title, refreshed by itself every REFRESH_SECONDS."""
    url = ui.database_url()
    now = utcnow()
    slot = attention.refresh_slot()
    try:
        counts = attention.counts()
        shops = _shops(url, slot)
        figures = _today(url, overview.local_midnight(now, current_time_zone()), slot)
        hours = _activity(url, now.replace(minute=0, second=0, microsecond=0), slot)
    except Exception as error:
        ui.show_error(error)
        return
    st.caption(t("These figures refresh by themselves every {seconds} seconds.", seconds=attention.REFRESH_SECONDS))
    needs_attention(counts)
    today_section(figures)
    shops_section(shops)
    activity_section(hours)


def main() -> None:
    ui.current_actor()
    st.title(t("Overview"))
    live_figures()


main()
