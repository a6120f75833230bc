# The Inventory page: levels per location, what each channel was sent, low stock, history, adjustments, transfers.
"""Inventory.

Quantities come from the master ledger (`product_variants`, `inventory_history`); what each shop
was last sent is the stock baseline of its bound SKU. Adjustments go through
`syncstore.inventory.ledger.adjust_stock` with a reason a person gives (`PERSON_REASONS`: stock count,
damaged, returned, found, other with a note) and a location, which records the ledger row and
announces the change to every channel; the system's own reasons (orders, transfers, imports, syncs)
are never offered. The locations, transfers between them and the locations each shop sells are
drawn by `streamlit_app.stock_locations`, the history chart and ledger by `streamlit_app.stock_history`.
A bundle has no stock of its own: its available quantity is computed from its components
(`syncstore.inventory.availability`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from streamlit_app import fresh_forms, low_stock_panel, stock_history, stock_locations, stock_reasons, ui
from streamlit_app.i18n import N_, t, tn, tv
from streamlit_app.shop_names import title_of
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import ChannelStock, VariantRow
from syncstore.inventory import availability, bundles, low_stock
from syncstore.inventory import ledger as inventory
from syncstore.inventory.locations import Location, LocationLevel
from syncstore.security.auth import Permission

MAX_ROWS = 200
SET_TO, CHANGE_BY = "set", "change"
MODES: Mapping[str, str] = {SET_TO: N_("Set on hand to"), CHANGE_BY: N_("Add or remove")}
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
    return title_of(channel.connection_id, f"{ui.platform_label(channel.platform)} · {channel.shop_name}")


def levels_table(
    rows: Sequence[VariantRow], channels: dict[int, list[ChannelStock]], bundle_available: dict[int, int]
) -> None:
    shops = sorted({_channel_label(c) for listed in channels.values() for c in listed})
    data: dict[str, list[Any]] = {
        t("SKU"): [row.sku for row in rows],
        t("Product"): [row.product_title for row in rows],
        t("Bundle"): [t("bundle") if row.variant_id in bundle_available else "" for row in rows],
        # A bundle has no stock of its own: blank on hand and reserved, its available computed.
        t("On hand"): [None if row.variant_id in bundle_available else row.stock for row in rows],
        t("Reserved"): [None if row.variant_id in bundle_available else row.reserved for row in rows],
        t("Available"): [bundle_available.get(row.variant_id, row.available) for row in rows],
        t("Low stock at"): [row.low_stock_threshold for row in rows],
        t("Low"): [t("low stock") if _is_low(row) else "" for row in rows],
    }
    for shop in shops:
        data[t("Sent to {shop}", shop=shop)] = [
            next((c.pushed for c in channels.get(row.variant_id, []) if _channel_label(c) == shop), None)
            for row in rows
        ]
    st.dataframe(data, hide_index=True, width="stretch", key="inventory_table")


def _is_low(row: VariantRow) -> bool:
    return row.is_active and row.low_stock_threshold is not None and row.available <= row.low_stock_threshold


def bundle_detail(row: VariantRow, channels: Sequence[ChannelStock], available: int) -> None:
    """A bundle: its available comes from its components; it has no stock of its own to adjust or move."""
    st.subheader(ui.plain(f"{row.sku} · {row.product_title}"))
    st.markdown(ui.badge(t("bundle"), "violet"))
    st.metric(t("Available as a bundle"), available)
    st.caption(
        t(
            "A bundle has no stock of its own: its available quantity is the least, over its components, of the "
            "component's available divided by its quantity. Adjust or move the components; edit the bundle in the "
            "Product editor."
        )
    )
    channel_table(channels)


def channel_table(channels: Sequence[ChannelStock]) -> None:
    if channels:
        st.dataframe(
            {
                t("Shop"): [_channel_label(c) for c in channels],
                t("Last sent"): [c.pushed for c in channels],
                t("Shop shows"): [c.remote for c in channels],
                t("Last synced"): [ui.when(c.last_synced_at) for c in channels],
            },
            hide_index=True,
            key="inventory_channels",
        )
    else:
        st.caption(t("Not listed on any shop yet."))


def variant_detail(row: VariantRow, channels: Sequence[ChannelStock], locations: Sequence[Location]) -> None:
    st.subheader(ui.plain(f"{row.sku} · {row.product_title}"))
    badges = [ui.badge(t("active"), "green") if row.is_active else ui.badge(t("inactive"), "gray")]
    if _is_low(row):
        badges.append(ui.badge(t("low stock"), "orange"))
    st.markdown(" ".join(badges))
    on_hand, reserved, available, threshold = st.columns(4)
    on_hand.metric(t("On hand"), row.stock)
    reserved.metric(t("Reserved"), row.reserved)
    available.metric(t("Available"), row.available)
    threshold.metric(t("Low stock at"), "—" if row.low_stock_threshold is None else row.low_stock_threshold)
    levels = stock_locations.load_levels(row.variant_id)
    if len(levels) > 1:
        stock_locations.levels_by_location(levels, locations)
    channel_table(channels)
    stock_history.show(row.variant_id, {location.id: location.name for location in locations})
    if ui.can(Permission.INVENTORY_ADJUST):
        adjust_form(row, levels, locations)
        stock_locations.transfer_form(row.variant_id, row.sku, locations)
    else:
        ui.read_only_note(Permission.INVENTORY_ADJUST)


def _seen_key(variant_id: int, location_id: int | None) -> str:
    return f"adjust_seen_{variant_id}_{location_id}"


def _location_choice(levels: Sequence[LocationLevel], locations: Sequence[Location]) -> tuple[int | None, int]:
    """The location adjusted (None: the default, with one location only) and its on hand now."""
    if len(levels) < 2:
        return None, levels[0].on_hand if levels else 0
    names = {location.id: stock_locations.location_label(location) for location in locations}
    on_hand = {level.location_id: level.on_hand for level in levels}
    chosen = st.selectbox(t("Location"), list(on_hand), format_func=lambda i: names.get(i, str(i)),
                          key="adjust_location")  # fmt: skip
    return (None, 0) if chosen is None else (int(chosen), on_hand[int(chosen)])


def adjust_form(row: VariantRow, levels: Sequence[LocationLevel], locations: Sequence[Location]) -> None:
    """Set or change one variant's on hand at one location, conditional on the quantity the person saw (S2).

    Every widget is keyed by the variant and location (and the quantity by the on-hand value shown),
    so choosing another variant or location, or the stock moving, always shows its current value.
    With one location there is no picker and the quantity is the variant's on hand. After a save the
    form is drawn empty again (`fresh_forms`); a refused save keeps what was typed.
    """
    st.markdown(f"**{t('Adjust stock')}**")
    location_id, current = _location_choice(levels, locations)
    if location_id is None:
        current = row.stock
    seen_key = _seen_key(row.variant_id, location_id)
    # The on hand shown when this form was last drawn: what the person's change is based on.
    seen = st.session_state.setdefault(seen_key, current)
    # Labels are worked out now, in the user's language (a format_func may be called after this run).
    modes = {mode: tv(words) for mode, words in MODES.items()}
    mode = st.radio(t("Change"), list(modes), format_func=modes.__getitem__, horizontal=True, key="adjust_mode")
    set_mode = mode == SET_TO
    form = f"adjust_{row.variant_id}"
    reasons = {reason: stock_reasons.option_label(reason) for reason in stock_reasons.offered()}
    with st.form(form):
        quantity_col, reason_col = st.columns(2)
        quantity = quantity_col.number_input(
            t("New on hand") if set_mode else t("Change by (negative removes)"),
            value=seen if set_mode else 0, step=1,
            key=fresh_forms.key(form, f"adjust_quantity_{location_id}_{'set' if set_mode else 'change'}_{seen}"),
        )  # fmt: skip
        reason = reason_col.selectbox(t("Reason"), list(reasons),
                                      format_func=reasons.__getitem__,
                                      key=fresh_forms.key(form, "adjust_reason"))  # fmt: skip
        note = st.text_input(t("Note (why; kept in the ledger; needed for “Other”)"),
                             key=fresh_forms.key(form, "adjust_note"))  # fmt: skip
        threshold = st.number_input(
            t("Low-stock threshold (empty: no alert)"), min_value=0, value=row.low_stock_threshold, step=1,
            key=fresh_forms.key(form, "adjust_threshold"),
        )  # fmt: skip
        submitted = st.form_submit_button(t("Apply"), type="primary")
    if not submitted:
        if seen != current:  # the stock moved since the form was drawn: draw it with the current value
            st.session_state[seen_key] = current
            st.rerun()
        return
    refusal = stock_reasons.refused_reason(reason, note)
    if refusal:
        st.error(refusal)
        return
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            change = {"set_to": int(quantity)} if set_mode else {"delta": int(quantity)}
            level = inventory.adjust_stock(actor, session, row.variant_id, reason=str(reason),
                                           note=note.strip() or None, expected_on_hand=int(seen),
                                           location_id=location_id, **change)  # fmt: skip
            new_threshold = None if threshold is None else int(threshold)
            if new_threshold != row.low_stock_threshold:
                inventory.set_low_stock_threshold(actor, session, row.variant_id, new_threshold)
                low_stock.evaluate(session, [row.variant_id])  # its alert opens or resolves with the new threshold
    except Exception as error:
        ui.show_error(error)
        st.session_state[seen_key] = current  # the next run shows the current value
        return
    now = level.on_hand if location_id is None else _location_on_hand(row.variant_id, location_id)
    if location_id is None:
        message = t("{sku}: on hand {before} → {after}, available {available}.", sku=row.sku, before=seen,
                    after=now, available=level.available)  # fmt: skip
    else:
        message = t("{sku}: on hand at {location} {before} → {after}, available {available}.", sku=row.sku,
                    location=_location_name(locations, location_id), before=seen, after=now,
                    available=level.available)  # fmt: skip
    st.session_state[seen_key] = now
    st.session_state[FLASH_KEY] = message
    fresh_forms.renew(form)
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
    with st.expander(t("Low-stock alerts"), expanded=True):
        low_stock_panel.show("inventory")
    search_col, low_col = st.columns([4, 1])
    search = search_col.text_input(t("Find variants"), placeholder=t("title, handle or SKU"), key="inventory_search")
    low_only = low_col.toggle(t("Low stock only"), key="inventory_low_only")
    try:
        rows, channels, bundle_available = _load(search.strip() or None, low_only)
    except Exception as error:
        ui.show_error(error)
        return
    if not rows:
        st.info(t("No variant matches."))
        return
    if len(rows) == MAX_ROWS:
        st.caption(tn("The first {n} variant; search to narrow.", "The first {n} variants; search to narrow.",
                      MAX_ROWS))  # fmt: skip
    else:
        st.caption(tn("{n} variant", "{n} variants", len(rows)))
    levels_table(rows, channels, bundle_available)
    _exact_sku_choice(search, rows)
    by_id = {row.variant_id: row for row in rows}
    chosen = st.selectbox(
        t("Variant"),
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
    st.title(t("Inventory"))
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(ui.plain(flash))
    try:
        locations = stock_locations.load_locations()
    except Exception as error:
        ui.show_error(error)
        return
    levels, places, sources = st.tabs([t("Stock levels"), t("Locations"), t("Shop sources")])
    with levels:
        levels_tab(locations)
    with places:
        stock_locations.locations_section(locations)
    with sources:
        stock_locations.sources_section(locations)


main()
