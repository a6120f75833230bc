# The Connections page's logistics section: a shop's channels and warehouses, and the Admin's choice.
"""Logistics and warehouses of one shop (`syncstore.publishing.logistics`).

Everyone sees the channels (Shopee's `get_channel_list`) and the warehouses / stock locations the
platform offers, and which are used for new listings; an Admin fetches them again from the shop,
chooses the enabled channels and the warehouse that receives stock. Without a choice, the channels
the platform has enabled and a shop's only (or default) location are used; a shop with several
warehouses and no choice cannot be published to (the publish preview says so).
"""

from __future__ import annotations

import streamlit as st

from streamlit_app import shop_calls, ui
from streamlit_app.i18n import N_, t, tn
from syncstore.errors import SyncStoreError
from syncstore.publishing import logistics
from syncstore.publishing.logistics import ShopLogistics

NO_CHOICE = ""
# Whether a channel or warehouse serves new listings: a badge, not an emoji.
USED, NOT_USED = N_("used"), N_("not used")


def _used(flag: bool) -> str:
    return ui.badge(USED, "green") if flag else ui.badge(NOT_USED, "gray")


def _refresh(connection_id: int) -> None:
    try:
        with shop_calls.connector(connection_id) as connector:
            logistics.refresh_shop_logistics(ui.current_actor(), ui.engine(), connection_id, connector)
    except SyncStoreError as error:
        ui.show_error(error)
        return
    except Exception as error:  # the platform's or the network's: named, never its payload
        st.error(t("The shop's channels and warehouses could not be fetched ({kind}).", kind=type(error).__name__))
        return
    ui.after_write(t("Logistics channels and warehouses fetched."))
    st.rerun()


def _summary(shop: ShopLogistics) -> None:
    if shop.fetched_at is None:
        st.caption(t("Not fetched from the shop yet (a publish fetches them, or use the button)."))
        return
    st.caption(t("Fetched {when}.", when=ui.when(shop.fetched_at)))
    if shop.channels:
        used = set(shop.channel_ids)
        lines = [
            f"{_used(c.channel_id in used)} {ui.plain(c.name)} ({ui.code_span(c.channel_id)})"
            + ("" if c.enabled else " · " + t("disabled on the platform"))
            for c in shop.channels
        ]
        st.markdown("**" + t("Logistics channels") + "**  \n" + "  \n".join(lines))
    elif shop.needs_channel:
        st.warning(t("The platform offers this shop no logistics channel: enable one in the seller centre."))
    if shop.locations:
        lines = [
            f"{_used(loc.location_id == shop.location_id)} {ui.plain(loc.name)} ({ui.code_span(loc.location_id)})"
            + (" · " + t("default") if loc.is_default else "")
            for loc in shop.locations
        ]
        st.markdown("**" + t("Warehouses / stock locations") + "**  \n" + "  \n".join(lines))
    if shop.needs_location_choice:
        st.warning(
            tn(
                "{n} warehouse and none chosen: choose the one that receives stock.",
                "{n} warehouses and none chosen: choose the one that receives stock.",
                len(shop.locations),
            )
        )


def _choose(shop: ShopLogistics) -> None:
    key = f"logistics_{shop.connection_id}"
    with st.form(key):
        channel_names = {c.channel_id: c.name for c in shop.channels}
        channels = st.multiselect(t("Enabled channels for new listings"), list(channel_names),
                                  default=[c for c in shop.chosen_channel_ids if c in channel_names],
                                  format_func=lambda c: f"{channel_names[c]} ({c})", key=f"{key}_channels",
                                  disabled=not shop.channels)  # fmt: skip
        location_names = {loc.location_id: loc.name for loc in shop.locations}
        options = [NO_CHOICE, *location_names]
        current = shop.chosen_location_id or NO_CHOICE
        location = st.selectbox(t("Warehouse that receives stock"), options,
                                index=options.index(current) if current in options else 0,
                                format_func=lambda v: location_names.get(v, t("— the shop's default —")),
                                key=f"{key}_location", disabled=not shop.locations)  # fmt: skip
        if st.form_submit_button(t("Save the choice")):
            ui.write(lambda actor, session: logistics.set_shop_logistics(
                actor, session, shop.connection_id, channel_ids=list(channels), location_id=location or ""),
                t("Logistics choice saved."))  # fmt: skip


def section(connection_id: int, manage: bool) -> None:
    """The expander on a shop's card."""
    try:
        with ui.session() as session:
            shop = logistics.shop_logistics(session, connection_id)
    except SyncStoreError as error:
        ui.show_error(error)
        return
    with st.expander(t("Logistics and warehouses"), icon=":material/local_shipping:"):
        _summary(shop)
        if not manage:
            return
        if st.button(t("Fetch from the shop"), key=f"logistics_refresh_{connection_id}", icon=":material/refresh:"):
            _refresh(connection_id)
        if shop.channels or shop.locations:
            _choose(shop)
