# The Orders page: every order seen from every shop, filtered and paged, with its lines, ledger effects and link.
"""Orders.

The orders SyncStore has seen (`syncstore.orders.reads.list_orders`), newest first: platform, shop, order
number, status, the lines with the master SKUs they bound to ("unbound" when none) and the times, in UTC.
Filters: shop, status, when the order was first seen, and a search over the order number and the SKUs;
paged in SQL. Picking an order shows its lines, the ledger rows it wrote (reserve, release, consume per
line, with quantities and time) and a link to the order in the platform's seller centre.

Orders are recorded from the moment this version runs (webhooks and order polls); older orders are not
backfilled, and the page says so when it has none. Everyone may read this page; nothing on it writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import streamlit as st

from streamlit_app import ui
from syncstore.errors import SyncStoreError
from syncstore.orders import reads
from syncstore.orders.reads import LineView, OrderDetail, OrderFilters, OrderView

PAGE_SIZE: Final = 50
UNBOUND: Final = "unbound"
SEEN_CHOICES: Final = {
    "Any time": None,
    "Last 24 hours": timedelta(hours=24),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "Between dates": None,
}
NOT_BACKFILLED: Final = (
    "No order seen yet. SyncStore records every order it sees from now on, from webhooks and order polls; "
    "orders placed before are not backfilled."
)
_TIME_FORMAT: Final = "YYYY-MM-DD HH:mm:ss z"


def _seen_window() -> tuple[datetime | None, datetime | None]:
    choice = st.selectbox("First seen", options=list(SEEN_CHOICES), key="ord_seen")
    if choice != "Between dates":
        span = SEEN_CHOICES[choice]
        return (datetime.now(UTC) - span if span is not None else None), None
    today = datetime.now(UTC).date()
    chosen = st.date_input("From / to (UTC)", value=(today - timedelta(days=7), today), key="ord_dates")
    days = [day for day in (chosen if isinstance(chosen, tuple) else (chosen,)) if isinstance(day, date)]
    if not days:
        return None, None
    start = datetime.combine(days[0], time.min, tzinfo=UTC)
    return start, datetime.combine(days[-1], time.min, tzinfo=UTC) + timedelta(days=1)


def filters() -> OrderFilters:
    with ui.session() as session:
        shops = {cid: f"{ui.platform_label(platform)} · {name}" for cid, platform, name in reads.shop_choices(session)}
    shop_col, status_col, seen_col, search_col = st.columns(4)
    shop = shop_col.selectbox(
        "Shop", options=[None, *shops], key="ord_shop", format_func=lambda c: "Every shop" if c is None else shops[c]
    )
    status = status_col.selectbox(
        "Status", options=[None, *reads.STATUSES], key="ord_status", format_func=lambda s: "Any" if s is None else s
    )
    with seen_col:
        since, until = _seen_window()
    search = search_col.text_input("Order number or SKU", key="ord_search", max_chars=100).strip() or None
    return OrderFilters(connection_id=shop, status=status, since=since, until=until, search=search)


def _page_key(chosen: OrderFilters) -> str:
    # A relative window moves on every run: the key uses the choice, not the instant.
    seen = st.session_state.get("ord_seen")
    return f"ord_page_{chosen.connection_id}-{chosen.status}-{seen}-{chosen.search}"


def line_label(line: LineView) -> str:
    """ "SELLER-SKU x2 → MASTER-SKU", or "... → unbound"."""
    cancelled = f" ({line.cancelled_quantity} cancelled)" if line.cancelled_quantity else ""
    return f"{line.seller_sku or line.sku_id} x{line.quantity}{cancelled} → {line.master_sku or UNBOUND}"


def _table(orders: list[OrderView]) -> None:
    st.dataframe(
        [
            {
                "Order": order.order_id,
                "Platform": ui.platform_label(order.platform),
                "Shop": order.shop_name,
                "Status": [order.status],
                "First seen": order.first_seen_at,
                "Updated (platform)": order.updated_at,
                "Units": order.units,
                "Lines": [line_label(line) for line in order.lines],
            }
            for order in orders
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Status": st.column_config.ListColumn("Status", help="normalized status (the platform's in the detail)"),
            "Lines": st.column_config.ListColumn("Lines", help="seller SKU x quantity → the master SKU it bound to"),
            "Updated (platform)": st.column_config.DatetimeColumn(format=_TIME_FORMAT),
            "First seen": st.column_config.DatetimeColumn(format=_TIME_FORMAT),
        },
    )


def _detail_header(detail: OrderDetail) -> None:
    order = detail.order
    st.markdown(
        f"{ui.badge(order.status)} **{ui.plain(order.order_id)}** · {ui.plain(ui.platform_label(order.platform))} · "
        f"{ui.plain(order.shop_name)} · platform status {ui.code_span(order.raw_status or '?')}"
    )
    st.caption(
        f"Updated on the platform {ui.when(order.updated_at)} · first seen {ui.when(order.first_seen_at)} · "
        f"last seen {ui.when(order.last_seen_at)}"
    )
    if detail.seller_url:
        label = f"Open in {ui.platform_label(order.platform)} seller centre"
        st.link_button(label, detail.seller_url, icon=":material/open_in_new:")
    else:
        st.caption(f"{ui.platform_label(order.platform)} offers no link to its orders.")


def order_detail(orders: list[OrderView]) -> None:
    st.subheader("Order")
    by_id = {order.id: order for order in orders}
    chosen = st.selectbox(
        "Order",
        options=list(by_id),
        key="ord_pick",
        format_func=lambda i: f"{by_id[i].order_id} · {by_id[i].shop_name} · {by_id[i].status}",
    )
    with ui.session() as session:
        detail = reads.get_order(session, chosen)
    _detail_header(detail)
    st.dataframe(
        [
            {
                "Line": line.line_id,
                "Item": line.item_id,
                "Platform SKU": line.sku_id,
                "Seller SKU": line.seller_sku or "",
                "Master SKU": line.master_sku or UNBOUND,
                "Quantity": line.quantity,
                "Cancelled": line.cancelled_quantity,
            }
            for line in detail.order.lines
        ],
        hide_index=True,
        width="stretch",
    )
    st.markdown("**Ledger effects**")
    if not detail.effects:
        st.caption("No stock moved for this order: its lines are unbound, or its status moves no stock.")
        return
    st.dataframe(
        [
            {
                "Time": effect.at,
                "Line": effect.line_id,
                "Transition": effect.transition,
                "SKU": effect.sku or "(deleted variant)",
                "On hand": effect.on_hand_change,
                "Reserved": effect.reserved_change,
                "Reason": effect.reason,
            }
            for effect in detail.effects
        ],
        hide_index=True,
        width="stretch",
        column_config={"Time": st.column_config.DatetimeColumn(format=_TIME_FORMAT)},
    )


def _page(chosen: OrderFilters, *, offset: int) -> reads.OrderPage:
    with ui.session() as session:
        return reads.list_orders(session, chosen, limit=PAGE_SIZE, offset=offset)


def main() -> None:
    ui.current_actor()
    st.title("Orders")
    st.caption("Orders seen from every shop, newest first, with what each did to the stock. Times are UTC.")
    try:
        chosen = filters()
        first = _page(chosen, offset=0)
        pages = max(1, -(-first.total // PAGE_SIZE))
        page = st.pagination(pages, key=_page_key(chosen)) if pages > 1 else 1
        result = first if page == 1 else _page(chosen, offset=(page - 1) * PAGE_SIZE)
        if not result.orders:
            st.info(NOT_BACKFILLED if chosen == OrderFilters() else "No order matches these filters.")
            return
        start = (page - 1) * PAGE_SIZE + 1
        st.caption(f"Orders {start:,} to {start + len(result.orders) - 1:,} of {result.total:,}, newest first.")
        _table(result.orders)
        order_detail(result.orders)
    except SyncStoreError as error:
        ui.show_error(error)


main()
