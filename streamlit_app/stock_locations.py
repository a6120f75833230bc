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

from collections.abc import Callable, Sequence

import streamlit as st
from sqlalchemy.orm import Session

from streamlit_app import fresh_forms, ui
from streamlit_app.i18n import t
from syncstore.inventory import locations as stock_locations
from syncstore.inventory.locations import Location, LocationLevel
from syncstore.publishing import logistics
from syncstore.publishing.logistics import ShopLogistics
from syncstore.security.auth import Actor, Permission

TRANSFER_RESULT_KEY = "inventory_transfer_result"
LOCATIONS_FLASH_KEY = "inventory_locations_flash"


def load_locations() -> list[Location]:
    with ui.session() as session:
        return stock_locations.list_locations(session)


def location_label(location: Location) -> str:
    if location.is_default:
        return t("{name} (default)", name=location.name)
    return location.name if location.is_active else t("{name} (inactive)", name=location.name)


def _all_locations() -> str:
    return t("all locations")


def _save(form: str, action: Callable[[Actor, Session], object], message: str) -> None:
    """Run one command as the signed-in actor; on success the form is drawn empty and the message stays shown."""
    try:
        with ui.session() as session:
            action(ui.current_actor(), session)
    except Exception as error:
        ui.show_error(error)
        return
    fresh_forms.renew(form)
    st.session_state[LOCATIONS_FLASH_KEY] = message
    ui.after_write(message)
    st.rerun()


# --- the locations ---------------------------------------------------------------------------


def locations_section(locations: Sequence[Location]) -> None:
    if message := st.session_state.pop(LOCATIONS_FLASH_KEY, None):
        st.success(ui.plain(message))
    st.dataframe(
        {
            t("Location"): [location.name for location in locations],
            t("Default"): [t("yes") if location.is_default else "" for location in locations],
            t("Active"): [t("yes") if location.is_active else t("no") for location in locations],
        },
        hide_index=True,
        key="locations_table",
    )
    st.caption(
        t(
            "The default location holds every quantity not placed elsewhere: with one location nothing changes. "
            "Stock goes to a shop from the locations it sells (Shop sources)."
        )
    )
    if not ui.can(Permission.INVENTORY_ADJUST):
        ui.read_only_note(Permission.INVENTORY_ADJUST)
        return
    add_col, rename_col = st.columns(2)
    with add_col, st.form("location_add"):
        name = st.text_input(t("New location name"), max_chars=100, key=fresh_forms.key("location_add", "name"))
        if st.form_submit_button(t("Add location")):
            _save("location_add", lambda actor, session: stock_locations.create_location(actor, session, name.strip()),
                  t("Location {name} added.", name=name.strip()))  # fmt: skip
    by_id = {location.id: location for location in locations}
    labels = {location.id: location_label(location) for location in locations}
    with rename_col, st.form("location_rename"):
        chosen = st.selectbox(t("Location"), list(by_id), format_func=labels.__getitem__,
                              key=fresh_forms.key("location_rename", "id"))  # fmt: skip
        new_name = st.text_input(t("Rename to"), max_chars=100, key=fresh_forms.key("location_rename", "name"))
        rename, deactivate = st.columns(2)
        if rename.form_submit_button(t("Rename")) and chosen is not None:
            _save("location_rename",
                  lambda actor, session: stock_locations.rename_location(actor, session, int(chosen), new_name.strip()),
                  t("Location renamed to {name}.", name=new_name.strip()))  # fmt: skip
        if deactivate.form_submit_button(t("Deactivate (only an empty location)")) and chosen is not None:
            _save("location_rename",
                  lambda actor, session: stock_locations.deactivate_location(actor, session, int(chosen)),
                  t("Location {name} deactivated.", name=by_id[int(chosen)].name))  # fmt: skip


# --- one variant's stock per location, and transfers -------------------------------------------


def load_levels(variant_id: int) -> list[LocationLevel]:
    with ui.session() as session:
        return stock_locations.location_levels(session, [variant_id])


def levels_by_location(levels: Sequence[LocationLevel], locations: Sequence[Location]) -> None:
    names = {location.id: location_label(location) for location in locations}
    st.dataframe(
        {
            t("Location"): [names.get(level.location_id, str(level.location_id)) for level in levels],
            t("On hand"): [level.on_hand for level in levels],
            t("Reserved"): [level.reserved for level in levels],
            t("Available here"): [level.available for level in levels],
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
        st.caption(t("Transfers need two locations: add one on the Locations tab."))
        return
    names = {location.id: location.name for location in active}
    ids = list(names)
    form = f"transfer_{variant_id}"
    with st.form(form):
        st.markdown(f"**{t('Transfer between locations')}**")
        from_col, to_col, quantity_col = st.columns(3)
        source = from_col.selectbox(t("From"), ids, format_func=names.__getitem__, key=fresh_forms.key(form, "from"))
        target = to_col.selectbox(t("To"), ids, index=1, format_func=names.__getitem__,
                                  key=fresh_forms.key(form, "to"))  # fmt: skip
        quantity = quantity_col.number_input(t("Quantity"), min_value=1, value=1, step=1,
                                             key=fresh_forms.key(form, "quantity"))  # fmt: skip
        note = st.text_input(t("Transfer note (kept in the ledger)"), key=fresh_forms.key(form, "note"))
        submitted = st.form_submit_button(t("Transfer"))
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
    message = t(
        "Moved {quantity} of {sku} from {source} to {target}: {source} now holds {source_on_hand}, "
        "{target} {target_on_hand}.",
        quantity=int(quantity), sku=sku, source=names[int(source)], target=names[int(target)],
        source_on_hand=now.get(int(source), 0), target_on_hand=now.get(int(target), 0),
    )  # fmt: skip
    st.session_state[TRANSFER_RESULT_KEY] = {"variant_id": variant_id, "message": message}
    fresh_forms.renew(form)
    ui.after_write(message)
    st.rerun()


# --- which locations each shop sells -----------------------------------------------------------


def _platform_location(shop: ShopLogistics) -> str:
    if shop.location_id is None:
        if shop.needs_location_choice:
            return t("no platform warehouse chosen yet (several offered): choose it on Connections")
        return t("the shop's default platform location (choose another on Connections)")
    names = {location.location_id: location.name for location in shop.locations}
    shown = names.get(shop.location_id, shop.location_id)
    return t("platform location {name} ({id}); change it on Connections", name=shown, id=shop.location_id)


def sources_section(locations: Sequence[Location]) -> None:
    with ui.session() as session:
        shops = logistics.list_shop_logistics(session)
        sources = stock_locations.shop_sources(session)
    if not shops:
        st.info(t("No shop is connected yet."))
        return
    active = {location.id: location.name for location in locations if location.is_active}
    manage = ui.can(Permission.CONNECTIONS_MANAGE)
    st.caption(t("A shop sells the stock of the locations chosen for it; none chosen: every active location."))
    for shop in shops:
        chosen = sorted(sources.get(shop.connection_id, frozenset()))
        with st.container(border=True):
            st.markdown(f"**{ui.plain(ui.platform_label(shop.platform))} · {ui.plain(shop.shop_name)}**")
            sells = ", ".join(active.get(i, f"#{i}") for i in chosen) if chosen else _all_locations()
            st.caption(
                ui.plain(
                    t("Sells: {locations} · stock goes to {where}", locations=sells, where=_platform_location(shop))
                )
            )
            if not manage:
                continue
            with st.form(f"sources_{shop.connection_id}"):
                picked = st.multiselect(
                    t("Locations this shop sells"), list(active), default=[i for i in chosen if i in active],
                    format_func=active.__getitem__, placeholder=_all_locations(), key=f"sources_{shop.connection_id}",
                )  # fmt: skip
                if st.form_submit_button(t("Save sources")):
                    _save_sources(shop, [int(i) for i in picked], active)
    if not manage:
        ui.read_only_note(Permission.CONNECTIONS_MANAGE)


def _save_sources(shop: ShopLogistics, location_ids: list[int], names: dict[int, str]) -> None:
    sells = ", ".join(names[i] for i in location_ids) or _all_locations()
    ui.write(
        lambda actor, session: stock_locations.set_shop_sources(actor, session, shop.connection_id, location_ids),
        t("{shop} now sells {locations}.", shop=shop.shop_name, locations=sells),
    )
