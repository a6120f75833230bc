# The Orders page: every order seen from every shop, filtered and paged, with its lines, ledger effects and link.
"""Orders.

The orders SyncStore has seen (`syncstore.orders.reads.list_orders`), newest first: platform, shop, order
number, status, the lines with the master SKUs they bound to ("unbound" when none) and the times, in
the user's time zone.
Filters: shop, status, when the order was first seen, and a search over the order number and the SKUs;
paged in SQL. Picking an order shows its lines, the ledger rows it wrote (reserve, release, consume per
line, with quantities and time) and a link to the order in the platform's seller centre.

Orders are recorded from the moment this version runs (webhooks and order polls); older orders are not
backfilled, and the page says so when it has none. Everyone may read this page; nothing on it writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import streamlit as st

from streamlit_app import stock_reasons, ui
from streamlit_app.i18n import N_, current_time_zone, t, tn, tv
from streamlit_app.shop_names import name_of, title_of
from syncstore.errors import SyncStoreError
from syncstore.orders import reads
from syncstore.orders.reads import LineView, OrderDetail, OrderFilters, OrderView

PAGE_SIZE: Final = 50
UNBOUND: Final = N_("unbound")
BETWEEN: Final = "between"
# When an order was first seen: the choice's key, its words, and how far back it reaches.
SEEN_CHOICES: Final[Mapping[str, tuple[str, timedelta | None]]] = {
    "any": (N_("Any time"), None),
    "24h": (N_("Last 24 hours"), timedelta(hours=24)),
    "7d": (N_("Last 7 days"), timedelta(days=7)),
    "30d": (N_("Last 30 days"), timedelta(days=30)),
    BETWEEN: (N_("Between dates"), None),
}
# Order statuses in words and the colour of their badge.
STATUS_WORDS: Final[Mapping[str, str]] = {
    "pending": N_("pending"),
    "paid": N_("paid"),
    "shipped": N_("shipped"),
    "completed": N_("completed"),
    "cancelled": N_("cancelled"),
    "other": N_("other"),
}
STATUS_COLOURS: Final[Mapping[str, str]] = {
    "pending": "orange",
    "paid": "blue",
    "shipped": "violet",
    "completed": "green",
    "cancelled": "gray",
    "other": "gray",
}
TRANSITION_WORDS: Final[Mapping[str, str]] = {
    "reserve": N_("reserve"),
    "release": N_("release"),
    "consume": N_("consume"),
}
_TIME_FORMAT: Final = "YYYY-MM-DD HH:mm:ss z"


def status_words(status: str) -> str:
    return tv(STATUS_WORDS.get(status, status))


def _transition_words(transition: str) -> str:
    if transition.startswith("cancel-units:"):
        return t("cancel {n} units", n=transition.split(":", 1)[1])
    return tv(TRANSITION_WORDS.get(transition, transition))


def _zone_name() -> str:
    return str(current_time_zone().key)


def _seen_window() -> tuple[datetime | None, datetime | None]:
    # Labels are worked out now, in the user's language (a format_func may be called after this run).
    choices = {choice: tv(words) for choice, (words, _) in SEEN_CHOICES.items()}
    choice = st.selectbox(t("First seen"), options=list(choices), key="ord_seen", format_func=choices.__getitem__)
    if choice != BETWEEN:
        span = SEEN_CHOICES[str(choice)][1]
        return (datetime.now(UTC) - span if span is not None else None), None
    zone = current_time_zone()
    today = datetime.now(zone).date()
    chosen = st.date_input(t("From / to"), value=(today - timedelta(days=7), today), key="ord_dates")
    days = [day for day in (chosen if isinstance(chosen, tuple) else (chosen,)) if isinstance(day, date)]
    if not days:
        return None, None
    # Whole days in the user's time zone.
    start = datetime.combine(days[0], time.min, tzinfo=zone).astimezone(UTC)
    return start, (datetime.combine(days[-1], time.min, tzinfo=zone) + timedelta(days=1)).astimezone(UTC)


def filters() -> OrderFilters:
    with ui.session() as session:
        choices = reads.shop_choices(session)
    shops: dict[int | None, str] = {None: t("Every shop")}
    shops.update({cid: title_of(cid, f"{ui.platform_label(platform)} · {name}") for cid, platform, name in choices})
    statuses: dict[str | None, str] = {None: t("Any status")}
    statuses.update({status: status_words(status) for status in reads.STATUSES})
    shop_col, status_col, seen_col, search_col = st.columns(4)
    shop = shop_col.selectbox(t("Shop"), options=list(shops), key="ord_shop", format_func=shops.__getitem__)
    status = status_col.selectbox(t("Status"), options=list(statuses), key="ord_status",
                                  format_func=statuses.__getitem__)  # fmt: skip
    with seen_col:
        since, until = _seen_window()
    search = search_col.text_input(t("Order number or SKU"), key="ord_search", max_chars=100).strip() or None
    return OrderFilters(connection_id=shop, status=status, since=since, until=until, search=search)


def _page_key(chosen: OrderFilters) -> str:
    # A relative window moves on every run: the key uses the choice, not the instant.
    seen = st.session_state.get("ord_seen")
    return f"ord_page_{chosen.connection_id}-{chosen.status}-{seen}-{chosen.search}"


def line_label(line: LineView) -> str:
    """ "SELLER-SKU x2 → MASTER-SKU", or "... → unbound"."""
    cancelled = " " + t("({n} cancelled)", n=line.cancelled_quantity) if line.cancelled_quantity else ""
    return f"{line.seller_sku or line.sku_id} x{line.quantity}{cancelled} → {line.master_sku or tv(UNBOUND)}"


def _table(orders: list[OrderView]) -> None:
    status, lines, updated, first_seen = t("Status"), t("Lines"), t("Updated (platform)"), t("First seen")
    st.dataframe(
        [
            {
                t("Order"): order.order_id,
                t("Platform"): ui.platform_label(order.platform),
                t("Shop"): name_of(order.connection_id, order.shop_name),
                status: [status_words(order.status)],
                first_seen: order.first_seen_at,
                updated: order.updated_at,
                t("Units"): order.units,
                lines: [line_label(line) for line in order.lines],
            }
            for order in orders
        ],
        hide_index=True,
        width="stretch",
        column_config={
            status: st.column_config.ListColumn(status, help=t("normalized status (the platform's in the detail)")),
            lines: st.column_config.ListColumn(lines, help=t("seller SKU x quantity → the master SKU it bound to")),
            updated: st.column_config.DatetimeColumn(format=_TIME_FORMAT, timezone=_zone_name()),
            first_seen: st.column_config.DatetimeColumn(format=_TIME_FORMAT, timezone=_zone_name()),
        },
    )


def _detail_header(detail: OrderDetail) -> None:
    order = detail.order
    badge = ui.badge(status_words(order.status), STATUS_COLOURS.get(order.status, "gray"))
    platform_status = t("platform status {status}", status=ui.code_span(order.raw_status or "?"))
    st.markdown(
        f"{badge} **{ui.plain(order.order_id)}** · {ui.plain(ui.platform_label(order.platform))} · "
        f"{ui.plain(name_of(order.connection_id, order.shop_name))} · {platform_status}"
    )
    st.caption(
        t(
            "Updated on the platform {updated} · first seen {first} · last seen {last}",
            updated=ui.when(order.updated_at),
            first=ui.when(order.first_seen_at),
            last=ui.when(order.last_seen_at),
        )
    )
    if detail.seller_url:
        label = t("Open in {platform} seller centre", platform=ui.platform_label(order.platform))
        st.link_button(label, detail.seller_url, icon=":material/open_in_new:")
    else:
        st.caption(t("{platform} offers no link to its orders.", platform=ui.platform_label(order.platform)))


def order_detail(orders: list[OrderView]) -> None:
    st.subheader(t("Order"))
    by_id = {order.id: order for order in orders}
    labels = {i: f"{o.order_id} · {name_of(o.connection_id, o.shop_name)} · {status_words(o.status)}"
              for i, o in by_id.items()}  # fmt: skip
    chosen = st.selectbox(
        t("Order"),
        options=list(by_id),
        key="ord_pick",
        format_func=labels.__getitem__,
    )
    with ui.session() as session:
        detail = reads.get_order(session, chosen)
    _detail_header(detail)
    st.dataframe(
        [
            {
                t("Line"): line.line_id,
                t("Item"): line.item_id,
                t("Platform SKU"): line.sku_id,
                t("Seller SKU"): line.seller_sku or "",
                t("Master SKU"): line.master_sku or tv(UNBOUND),
                t("Quantity"): line.quantity,
                t("Cancelled"): line.cancelled_quantity,
            }
            for line in detail.order.lines
        ],
        hide_index=True,
        width="stretch",
    )
    st.markdown(f"**{t('Ledger effects')}**")
    if not detail.effects:
        st.caption(t("No stock moved for this order: its lines are unbound, or its status moves no stock."))
        return
    when = t("Time")
    st.dataframe(
        [
            {
                when: effect.at,
                t("Line"): effect.line_id,
                t("Transition"): _transition_words(effect.transition),
                t("SKU"): effect.sku or t("(deleted variant)"),
                t("On hand"): effect.on_hand_change,
                t("Reserved"): effect.reserved_change,
                t("Reason"): stock_reasons.reason_words(effect.reason),
            }
            for effect in detail.effects
        ],
        hide_index=True,
        width="stretch",
        column_config={when: st.column_config.DatetimeColumn(format=_TIME_FORMAT, timezone=_zone_name())},
    )


def _page(chosen: OrderFilters, *, offset: int) -> reads.OrderPage:
    with ui.session() as session:
        return reads.list_orders(session, chosen, limit=PAGE_SIZE, offset=offset)


def _nothing_shown(chosen: OrderFilters) -> None:
    if chosen == OrderFilters():
        st.info(
            t(
                "No order seen yet. SyncStore records every order it sees from now on, from webhooks and order "
                "polls; orders placed before are not backfilled."
            )
        )
    else:
        st.info(t("No order matches these filters."))


def main() -> None:
    ui.current_actor()
    st.title(t("Orders"))
    st.caption(
        t(
            "Orders seen from every shop, newest first, with what each did to the stock. Times are in your time "
            "zone ({zone}).",
            zone=_zone_name(),
        )
    )
    try:
        chosen = filters()
        first = _page(chosen, offset=0)
        pages = max(1, -(-first.total // PAGE_SIZE))
        page = st.pagination(pages, key=_page_key(chosen)) if pages > 1 else 1
        result = first if page == 1 else _page(chosen, offset=(page - 1) * PAGE_SIZE)
        if not result.orders:
            _nothing_shown(chosen)
            return
        start = (page - 1) * PAGE_SIZE + 1
        st.caption(
            tn(
                "{n} order.",
                "Orders {first} to {last} of {n}, newest first.",
                result.total,
                first=f"{start:,}",
                last=f"{start + len(result.orders) - 1:,}",
            )
        )
        _table(result.orders)
        order_detail(result.orders)
    except SyncStoreError as error:
        ui.show_error(error)


main()
