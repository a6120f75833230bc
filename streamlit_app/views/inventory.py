# The Inventory page: levels per location, what each channel was sent, low stock, history, adjustments, transfers.
"""Inventory.

Quantities come from the master ledger (`product_variants`, `inventory_history`); what each shop
was last sent is the stock baseline of its bound SKU. Adjustments go through
`syncstore.inventory.ledger.adjust_stock` with a reason and a location, which records the ledger
row and announces the change to every channel. The locations, transfers between them and the
locations each shop sells are drawn by `streamlit_app.stock_locations`. A bundle has no stock of
its own: its available quantity is computed from its components (`syncstore.inventory.availability`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from streamlit_app import low_stock_panel, stock_locations, ui
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import ChannelStock, VariantRow
from syncstore.inventory import availability, bundles, low_stock
from syncstore.inventory import ledger as inventory
from syncstore.inventory.locations import Location, LocationLevel
from syncstore.security.auth import Permission

MAX_ROWS = 200
SET_TO, CHANGE_BY = "Set on hand to", "Add or remove"
FLASH_KEY = "inventory_flash"
EXACT_KEY = "inventory_exact_search"


def _load(search: str | None, low_only: bool) -> tuple[list[VariantRow], dict[int, list[ChannelStock]], dict[int, int]]:
    """The variants shown, what each shop was sent, and the computed available of the bundles among them."""
    with ui.session() as session:
        rows = catalog_reads.variant_rows(
            session, filters=catalog_reads.ProductFilter(search=search), low_stock_only=low_only, limit=MAX_ROWS
        )
        variant_ids = [row.variant_id for row in rows]
        channels = catalog_reads.channel_stock(session, variant_ids)
        bundle_ids = list(bundles.components(session, variant_ids))
        bundle_available = availability.available_totals(session, bundle_ids) if bundle_ids else {}
    return rows, channels, bundle_available


def _channel_label(channel: ChannelStock) -> str:
    return f"{ui.platform_label(channel.platform)} · {channel.shop_name}"


def levels_table(
    rows: Sequence[VariantRow], channels: dict[int, list[ChannelStock]], bundle_available: dict[int, int]
) -> None:
    shops = sorted({_channel_label(c) for listed in channels.values() for c in listed})
    data: dict[str, list[Any]] = {
        "SKU": [row.sku for row in rows],
        "Product": [row.product_title for row in rows],
        "Bundle": ["bundle" if row.variant_id in bundle_available else "" for row in rows],
        # A bundle has no stock of its own: blank on hand and reserved, its available computed.
        "On hand": [None if row.variant_id in bundle_available else row.stock for row in rows],
        "Reserved": [None if row.variant_id in bundle_available else row.reserved for row in rows],
        "Available": [bundle_available.get(row.variant_id, row.available) for row in rows],
        "Low stock at": [row.low_stock_threshold for row in rows],
        "Low": ["⚠️ low" if _is_low(row) else "" for row in rows],
    }
    for shop in shops:
        data[f"Sent to {shop}"] = [
            next((c.pushed for c in channels.get(row.variant_id, []) if _channel_label(c) == shop), None)
            for row in rows
        ]
    st.dataframe(data, hide_index=True, width="stretch", key="inventory_table")


def _is_low(row: VariantRow) -> bool:
    return row.is_active and row.low_stock_threshold is not None and row.available <= row.low_stock_threshold


def bundle_detail(row: VariantRow, channels: Sequence[ChannelStock], available: int) -> None:
    """A bundle: its available comes from its components; it has no stock of its own to adjust or move."""
    st.subheader(ui.plain(f"{row.sku} · {row.product_title}"))
    st.markdown(ui.badge("bundle", "violet"))
    st.metric("Available as a bundle", available)
    st.caption(
        "A bundle has no stock of its own: its available quantity is the least, over its components, of the "
        "component's available divided by its quantity. Adjust or move the components; edit the bundle in the "
        "Product editor."
    )
    channel_table(channels)


def channel_table(channels: Sequence[ChannelStock]) -> None:
    if channels:
        st.dataframe(
            {
                "Shop": [_channel_label(c) for c in channels],
                "Last sent": [c.pushed for c in channels],
                "Shop shows": [c.remote for c in channels],
                "Last synced": [ui.when(c.last_synced_at) for c in channels],
            },
            hide_index=True,
            key="inventory_channels",
        )
    else:
        st.caption("Not listed on any shop yet.")


def variant_detail(row: VariantRow, channels: Sequence[ChannelStock], locations: Sequence[Location]) -> None:
    st.subheader(ui.plain(f"{row.sku} · {row.product_title}"))
    on_hand, reserved, available, threshold = st.columns(4)
    on_hand.metric("On hand", row.stock)
    reserved.metric("Reserved", row.reserved)
    available.metric("Available", row.available)
    threshold.metric("Low stock at", "—" if row.low_stock_threshold is None else row.low_stock_threshold)
    levels = stock_locations.load_levels(row.variant_id)
    if len(levels) > 1:
        stock_locations.levels_by_location(levels, locations)
    channel_table(channels)
    history_chart(row.variant_id)
    if ui.can(Permission.INVENTORY_ADJUST):
        adjust_form(row, levels, locations)
        stock_locations.transfer_form(row.variant_id, row.sku, locations)
    else:
        ui.read_only_note(Permission.INVENTORY_ADJUST)


def history_chart(variant_id: int) -> None:
    with ui.session() as session:
        ledger = list(reversed(inventory.history(session, variant_id, limit=200)))
    if not ledger:
        st.caption("No stock history yet.")
        return
    st.line_chart(
        {
            "time": [entry.created_at for entry in ledger],
            "on hand": [entry.new_quantity for entry in ledger],
            "reserved": [entry.new_reserved for entry in ledger],
        },
        x="time",
        y=["on hand", "reserved"],
    )
    with st.expander(f"Ledger ({len(ledger)} changes)"):
        st.dataframe(
            {
                "When": [ui.when(e.created_at) for e in reversed(ledger)],
                "On hand": [f"{e.previous_quantity} → {e.new_quantity}" for e in reversed(ledger)],
                "Reserved": [f"{e.previous_reserved} → {e.new_reserved}" for e in reversed(ledger)],
                "Reason": [e.change_reason for e in reversed(ledger)],
                "By": [e.changed_by for e in reversed(ledger)],
                "Note": [e.note or "" for e in reversed(ledger)],
            },
            hide_index=True,
            key="inventory_ledger",
        )


def _seen_key(variant_id: int, location_id: int | None) -> str:
    return f"adjust_seen_{variant_id}_{location_id}"


def _location_choice(levels: Sequence[LocationLevel], locations: Sequence[Location]) -> tuple[int | None, int]:
    """The location adjusted (None: the default, with one location only) and its on hand now."""
    if len(levels) < 2:
        return None, levels[0].on_hand if levels else 0
    names = {location.id: stock_locations.location_label(location) for location in locations}
    on_hand = {level.location_id: level.on_hand for level in levels}
    chosen = st.selectbox("Location", list(on_hand), format_func=lambda i: names.get(i, str(i)), key="adjust_location")
    return (None, 0) if chosen is None else (int(chosen), on_hand[int(chosen)])


def adjust_form(row: VariantRow, levels: Sequence[LocationLevel], locations: Sequence[Location]) -> None:
    """Set or change one variant's on hand at one location, conditional on the quantity the person saw (S2).

    Every widget is keyed by the variant and location (and the quantity by the on-hand value shown),
    so choosing another variant or location, or the stock moving, always shows its current value.
    With one location there is no picker and the quantity is the variant's on hand.
    """
    st.markdown("**Adjust stock**")
    location_id, current = _location_choice(levels, locations)
    if location_id is None:
        current = row.stock
    seen_key = _seen_key(row.variant_id, location_id)
    # The on hand shown when this form was last drawn: what the person's change is based on.
    seen = st.session_state.setdefault(seen_key, current)
    mode = st.radio("Change", [SET_TO, CHANGE_BY], horizontal=True, key="adjust_mode")
    set_mode = mode == SET_TO
    with st.form(f"adjust_{row.variant_id}"):
        quantity_col, reason_col = st.columns(2)
        quantity = quantity_col.number_input(
            "New on hand" if set_mode else "Change by (negative removes)",
            value=seen if set_mode else 0, step=1,
            key=f"adjust_quantity_{row.variant_id}_{location_id}_{'set' if set_mode else 'change'}_{seen}",
        )  # fmt: skip
        reason = reason_col.selectbox("Reason", list(inventory.MANUAL_REASONS), key="adjust_reason")
        note = st.text_input("Note (why; kept in the ledger)", key=f"adjust_note_{row.variant_id}")
        threshold = st.number_input(
            "Low-stock threshold (empty: no alert)", min_value=0, value=row.low_stock_threshold, step=1,
            key=f"adjust_threshold_{row.variant_id}",
        )  # fmt: skip
        submitted = st.form_submit_button("Apply", type="primary")
    if not submitted:
        if seen != current:  # the stock moved since the form was drawn: draw it with the current value
            st.session_state[seen_key] = current
            st.rerun()
        return
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            change = {"set_to": int(quantity)} if set_mode else {"delta": int(quantity)}
            level = inventory.adjust_stock(actor, session, row.variant_id, reason=str(reason), note=note or None,
                                           expected_on_hand=int(seen), location_id=location_id, **change)  # fmt: skip
            new_threshold = None if threshold is None else int(threshold)
            if new_threshold != row.low_stock_threshold:
                inventory.set_low_stock_threshold(actor, session, row.variant_id, new_threshold)
                low_stock.evaluate(session, [row.variant_id])  # its alert opens or resolves with the new threshold
    except Exception as error:
        ui.show_error(error)
        st.session_state[seen_key] = current  # the next run shows the current value
        return
    where = "" if location_id is None else f" at {_location_name(locations, location_id)}"
    now = level.on_hand if location_id is None else _location_on_hand(row.variant_id, location_id)
    message = f"{row.sku}: on hand{where} {seen} → {now}, available {level.available}."
    st.session_state[seen_key] = now
    st.session_state[FLASH_KEY] = message
    ui.after_write(message)
    st.rerun()


def _location_name(locations: Sequence[Location], location_id: int) -> str:
    return next((location.name for location in locations if location.id == location_id), str(location_id))


def _location_on_hand(variant_id: int, location_id: int) -> int:
    levels = stock_locations.load_levels(variant_id)
    return next((level.on_hand for level in levels if level.location_id == location_id), 0)


def _exact_sku_choice(search: str, rows: Sequence[VariantRow]) -> None:
    """A new search naming one SKU exactly chooses that variant (not the first of its product)."""
    wanted = search.strip().lower()
    exact = next((row for row in rows if wanted and row.sku.lower() == wanted), None)
    if exact is not None and st.session_state.get(EXACT_KEY) != wanted:
        st.session_state["inventory_variant"] = exact.variant_id
    st.session_state[EXACT_KEY] = wanted if exact is not None else None
    if st.session_state.get("inventory_variant") not in {row.variant_id for row in rows}:
        st.session_state.pop("inventory_variant", None)


def levels_tab(locations: Sequence[Location]) -> None:
    with st.expander("Low-stock alerts", expanded=True):
        low_stock_panel.show("inventory")
    search_col, low_col = st.columns([4, 1])
    search = search_col.text_input("Find variants", placeholder="title, handle or SKU", key="inventory_search")
    low_only = low_col.toggle("Low stock only", key="inventory_low_only")
    try:
        rows, channels, bundle_available = _load(search.strip() or None, low_only)
    except Exception as error:
        ui.show_error(error)
        return
    if not rows:
        st.info("No variant matches.")
        return
    st.caption(
        f"{len(rows)} variants" + (f" (the first {MAX_ROWS}; search to narrow)" if len(rows) == MAX_ROWS else "")
    )
    levels_table(rows, channels, bundle_available)
    _exact_sku_choice(search, rows)
    by_id = {row.variant_id: row for row in rows}
    chosen = st.selectbox(
        "Variant",
        list(by_id),
        format_func=lambda v: f"{by_id[v].sku} · {by_id[v].product_title}",
        key="inventory_variant",
    )
    if chosen is None:
        return
    if chosen in bundle_available:
        bundle_detail(by_id[chosen], channels.get(chosen, []), bundle_available[chosen])
    else:
        variant_detail(by_id[chosen], channels.get(chosen, []), locations)


def main() -> None:
    ui.current_actor()
    st.title("Inventory")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(ui.plain(flash))
    try:
        locations = stock_locations.load_locations()
    except Exception as error:
        ui.show_error(error)
        return
    levels, places, sources = st.tabs(["Stock levels", "Locations", "Shop sources"])
    with levels:
        levels_tab(locations)
    with places:
        stock_locations.locations_section(locations)
    with sources:
        stock_locations.sources_section(locations)


main()
