# The Inventory page's locations sections: the locations, stock per location, transfers and each shop's sources.
"""Stock locations (warehouses) on the Inventory page (`syncstore.inventory.locations`).

- `locations_section`: every location (default first), add and rename one, deactivate an empty one.
- `levels_by_location`: one variant's on hand, reserved and available at each active location.
- `transfer_form`: move a quantity of one variant between two locations, with a note; shows the result.
- `sources_section`: per shop, the locations whose stock it sells (none chosen: all of them; an
  Admin chooses, as for the shop's other settings), and the platform location / warehouse its stock
  goes to (chosen on Connections; shown read-only here).

Everything goes through syncstore (roles are enforced there); the buttons are shown only to a role
that holds the permission.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from streamlit_app import ui
from syncstore.inventory import locations as stock_locations
from syncstore.inventory.locations import Location, LocationLevel
from syncstore.publishing import logistics
from syncstore.publishing.logistics import ShopLogistics
from syncstore.security.auth import Permission

TRANSFER_RESULT_KEY = "inventory_transfer_result"
ALL_LOCATIONS = "all locations"


def load_locations() -> list[Location]:
    with ui.session() as session:
        return stock_locations.list_locations(session)


def location_label(location: Location) -> str:
    return location.name + (" (default)" if location.is_default else "") + ("" if location.is_active else " (inactive)")


# --- the locations ---------------------------------------------------------------------------


def locations_section(locations: Sequence[Location]) -> None:
    st.dataframe(
        {
            "Location": [location.name for location in locations],
            "Default": ["yes" if location.is_default else "" for location in locations],
            "Active": ["yes" if location.is_active else "no" for location in locations],
        },
        hide_index=True,
        key="locations_table",
    )
    st.caption(
        "The default location holds every quantity not placed elsewhere: with one location nothing changes. "
        "Stock goes to a shop from the locations it sells (Shop sources)."
    )
    if not ui.can(Permission.INVENTORY_ADJUST):
        ui.read_only_note(Permission.INVENTORY_ADJUST)
        return
    add_col, rename_col = st.columns(2)
    with add_col, st.form("location_add", clear_on_submit=True):
        name = st.text_input("New location name", max_chars=100, key="location_new_name")
        if st.form_submit_button("Add location"):
            ui.write(lambda actor, session: stock_locations.create_location(actor, session, name.strip()),
                     f"Location {name.strip()} added.")  # fmt: skip
    by_id = {location.id: location for location in locations}
    with rename_col, st.form("location_rename"):
        chosen = st.selectbox("Location", list(by_id), format_func=lambda i: location_label(by_id[i]),
                              key="location_rename_id")  # fmt: skip
        new_name = st.text_input("Rename to", max_chars=100, key="location_rename_name")
        rename, deactivate = st.columns(2)
        if rename.form_submit_button("Rename") and chosen is not None:
            ui.write(lambda actor, session: stock_locations.rename_location(actor, session, int(chosen),
                                                                            new_name.strip()),
                     f"Location renamed to {new_name.strip()}.")  # fmt: skip
        if deactivate.form_submit_button("Deactivate (only an empty location)") and chosen is not None:
            ui.write(lambda actor, session: stock_locations.deactivate_location(actor, session, int(chosen)),
                     f"Location {by_id[int(chosen)].name} deactivated.")  # fmt: skip


# --- one variant's stock per location, and transfers -------------------------------------------


def load_levels(variant_id: int) -> list[LocationLevel]:
    with ui.session() as session:
        return stock_locations.location_levels(session, [variant_id])


def levels_by_location(levels: Sequence[LocationLevel], locations: Sequence[Location]) -> None:
    names = {location.id: location_label(location) for location in locations}
    st.dataframe(
        {
            "Location": [names.get(level.location_id, str(level.location_id)) for level in levels],
            "On hand": [level.on_hand for level in levels],
            "Reserved": [level.reserved for level in levels],
            "Available here": [level.available for level in levels],
        },
        hide_index=True,
        key="inventory_locations",
    )


def transfer_form(variant_id: int, sku: str, locations: Sequence[Location]) -> None:
    """Move stock of one variant from one location to another; the result stays shown after the rerun."""
    active = [location for location in locations if location.is_active]
    result = st.session_state.get(TRANSFER_RESULT_KEY)
    if result and result.get("variant_id") == variant_id:
        st.success(ui.plain(result["message"]))
    if len(active) < 2:
        st.caption("Transfers need two locations: add one on the Locations tab.")
        return
    names = {location.id: location.name for location in active}
    ids = list(names)
    with st.form(f"transfer_{variant_id}"):
        st.markdown("**Transfer between locations**")
        from_col, to_col, quantity_col = st.columns(3)
        source = from_col.selectbox("From", ids, format_func=names.__getitem__, key=f"transfer_from_{variant_id}")
        target = to_col.selectbox("To", ids, index=1, format_func=names.__getitem__, key=f"transfer_to_{variant_id}")
        quantity = quantity_col.number_input("Quantity", min_value=1, value=1, step=1,
                                             key=f"transfer_quantity_{variant_id}")  # fmt: skip
        note = st.text_input("Transfer note (kept in the ledger)", key=f"transfer_note_{variant_id}")
        submitted = st.form_submit_button("Transfer")
    if not submitted or source is None or target is None:
        return
    try:
        with ui.session() as session:
            after = stock_locations.transfer_stock(
                ui.current_actor(), session, variant_id, from_location_id=int(source), to_location_id=int(target),
                quantity=int(quantity), note=note.strip() or None,
            )  # fmt: skip
    except Exception as error:
        ui.show_error(error)
        return
    now = {level.location_id: level.on_hand for level in after}
    message = (
        f"Moved {int(quantity)} of {sku} from {names[int(source)]} to {names[int(target)]}: "
        f"{names[int(source)]} now holds {now.get(int(source), 0)}, {names[int(target)]} {now.get(int(target), 0)}."
    )
    st.session_state[TRANSFER_RESULT_KEY] = {"variant_id": variant_id, "message": message}
    ui.after_write(message)
    st.rerun()


# --- which locations each shop sells -----------------------------------------------------------


def _platform_location(shop: ShopLogistics) -> str:
    if shop.location_id is None:
        if shop.needs_location_choice:
            return "no platform warehouse chosen yet (several offered): choose it on Connections"
        return "the shop's default platform location (choose another on Connections)"
    names = {location.location_id: location.name for location in shop.locations}
    shown = names.get(shop.location_id, shop.location_id)
    return f"platform location {shown} ({shop.location_id}); change it on Connections"


def sources_section(locations: Sequence[Location]) -> None:
    with ui.session() as session:
        shops = logistics.list_shop_logistics(session)
        sources = stock_locations.shop_sources(session)
    if not shops:
        st.info("No shop is connected yet.")
        return
    active = {location.id: location.name for location in locations if location.is_active}
    manage = ui.can(Permission.CONNECTIONS_MANAGE)
    st.caption("A shop sells the stock of the locations chosen for it; none chosen: every active location.")
    for shop in shops:
        chosen = sorted(sources.get(shop.connection_id, frozenset()))
        with st.container(border=True):
            st.markdown(f"**{ui.plain(ui.platform_label(shop.platform))} · {ui.plain(shop.shop_name)}**")
            sells = ", ".join(active.get(i, f"#{i}") for i in chosen) if chosen else ALL_LOCATIONS
            st.caption(f"Sells: {ui.plain(sells)} · stock goes to {ui.plain(_platform_location(shop))}")
            if not manage:
                continue
            with st.form(f"sources_{shop.connection_id}"):
                picked = st.multiselect(
                    "Locations this shop sells", list(active), default=[i for i in chosen if i in active],
                    format_func=active.__getitem__, placeholder=ALL_LOCATIONS, key=f"sources_{shop.connection_id}",
                )  # fmt: skip
                if st.form_submit_button("Save sources"):
                    _save_sources(shop, [int(i) for i in picked], active)
    if not manage:
        ui.read_only_note(Permission.CONNECTIONS_MANAGE)


def _save_sources(shop: ShopLogistics, location_ids: list[int], names: dict[int, str]) -> None:
    sells = ", ".join(names[i] for i in location_ids) or ALL_LOCATIONS
    ui.write(
        lambda actor, session: stock_locations.set_shop_sources(actor, session, shop.connection_id, location_ids),
        f"{shop.shop_name} now sells {sells}.",
    )
