# The Listings page: every shop's remote SKUs with their binding (bound, orphan, excluded) and the SKU-mapping actions.
"""Listings (SKU mapping).

Everyone may read; Editors and Admins act. A page of remote SKUs at a time comes from
`syncstore.catalog.bindings.list_bindings` (filters: shop by name, state, search in title or seller
SKU), with the counts per state. For the SKU chosen: bind an orphan to a master SKU after a preview
of what would be pushed, unbind, exclude or include, or create a master product from its listing.
Below: bulk binding by CSV (preview, then apply) and each shop's seller-SKU prefix and suffix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from streamlit_app import ui
from syncstore.catalog import binding_csv, bindings
from syncstore.catalog.bindings import BindingFilter, BindingPage, BindingRow, ShopOption
from syncstore.plan import binding_preview
from syncstore.security.auth import Actor, Permission

PAGE_SIZE = 50
ALL = "All"
STATE_LABELS = {"bound": "🟢 bound", "orphan": "🟠 orphan", "excluded": "⚪ excluded"}
PREVIEW_KEY = "listings_preview"
CSV_PREVIEW_KEY = "listings_csv_preview"
FLASH_KEY = "listings_flash"


def _shops() -> list[ShopOption]:
    with ui.session() as session:
        return bindings.shop_options(session)


def _page(filters: BindingFilter, page: int) -> BindingPage:
    with ui.session() as session:
        return bindings.list_bindings(session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)


def filter_bar(shops: Sequence[ShopOption]) -> BindingFilter:
    shop_col, state_col, search_col = st.columns([3, 2, 4])
    names = sorted({shop.label for shop in shops})
    shop = shop_col.selectbox("Shop", [ALL, *names], key="listings_shop")
    state = state_col.selectbox("State", [ALL, *bindings.STATES], key="listings_state")
    search = search_col.text_input("Search", placeholder="title or seller SKU", key="listings_search")
    return BindingFilter(
        shop_name=None if shop == ALL else shop,
        state=next((s for s in bindings.STATES if s == state), None),
        search=search.strip() or None,
    )


def table(rows: Sequence[BindingRow]) -> dict[str, list[Any]]:
    return {
        "SKU id": [row.listing_sku_id for row in rows],
        "Shop": [row.shop_name for row in rows],
        "Listing": [row.title or row.remote_item_id for row in rows],
        "Seller SKU": [row.seller_sku or "" for row in rows],
        "State": [STATE_LABELS[row.state] for row in rows],
        "Master SKU": [row.master_sku or "" for row in rows],
        "Shop stock": [row.stock for row in rows],
        "Shop price": [ui.money(row.price, row.currency) for row in rows],
        "Why": [row.reason or "" for row in rows],
    }


def _label(row: BindingRow) -> str:
    seller = row.seller_sku or "(no seller SKU)"
    return f"#{row.listing_sku_id} · {seller} · {row.title or row.remote_item_id} · {row.shop_name}"


def bind_form(row: BindingRow) -> None:
    master = st.text_input("Master SKU", value=row.suggestion or "", key=f"listings_master_{row.listing_sku_id}")
    preview_col, bind_col = st.columns(2)
    if preview_col.button("Preview binding", icon=":material/preview:", key="listings_preview_button"):
        try:
            preview = binding_preview.preview_bind(ui.engine(), row.listing_sku_id, master)
        except Exception as error:
            ui.show_error(error)
            st.session_state.pop(PREVIEW_KEY, None)
        else:
            st.session_state[PREVIEW_KEY] = (row.listing_sku_id, master.strip().lower(), preview.text())
    shown: tuple[int, str, str] | None = st.session_state.get(PREVIEW_KEY)
    ready = shown is not None and shown[:2] == (row.listing_sku_id, master.strip().lower())
    if shown is not None and ready:
        st.info(f"Binding would push: {shown[2]}")
    if bind_col.button("Bind", type="primary", icon=":material/link:", disabled=not ready, key="listings_bind"):
        st.session_state.pop(PREVIEW_KEY, None)
        _act(lambda actor, session: bindings.bind_sku(actor, session, row.listing_sku_id, master,
                                                      expected_version=row.version),
             f"Bound: {shown[2] if shown else master}. The stock is pushed within seconds.")  # fmt: skip
    if not ready:
        st.caption("Preview first: it shows what binding would push to the shop.")


def _act(action: Callable[[Actor, Session], object], message: str) -> None:
    """Run one command; on success keep the message for the next run (shown above the table) and rerun."""
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            action(actor, session)
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state[FLASH_KEY] = message
    ui.after_write(message)
    st.rerun()


def actions(row: BindingRow) -> None:
    bound_to = f" → **{ui.plain(row.master_sku)}**" if row.master_sku else ""
    st.markdown(f"**{ui.plain(_label(row))}**: {STATE_LABELS[row.state]}{bound_to} · shop stock {row.stock}")
    if row.reason:
        st.caption(ui.plain(row.reason))
    if not ui.can(Permission.CATALOG_WRITE):
        ui.read_only_note(Permission.CATALOG_WRITE)
        return
    sku_id, version = row.listing_sku_id, row.version
    if row.state == "orphan":
        bind_form(row)
        exclude_col, create_col = st.columns(2)
        if exclude_col.button("Exclude", icon=":material/block:", key="listings_exclude"):
            _act(lambda a, s: bindings.set_excluded(a, s, sku_id, True, expected_version=version),
                 f"Excluded {row.seller_sku}: the sync ignores it.")  # fmt: skip
        if create_col.button("Create a master product from this listing", icon=":material/add_box:",
                             key="listings_create"):  # fmt: skip
            _create_from_listing(row.listing_id)
    elif row.state == "bound":
        unbind_col, exclude_col = st.columns(2)
        if unbind_col.button("Unbind", icon=":material/link_off:", key="listings_unbind"):
            _act(lambda a, s: bindings.unbind_sku(a, s, sku_id, expected_version=version), f"Unbound {row.seller_sku}.")
        if exclude_col.button("Exclude", icon=":material/block:", key="listings_exclude"):
            _act(lambda a, s: bindings.set_excluded(a, s, sku_id, True, expected_version=version),
                 f"Unbound and excluded {row.seller_sku}.")  # fmt: skip
    elif st.button("Include", icon=":material/undo:", key="listings_include"):
        _act(lambda a, s: bindings.set_excluded(a, s, sku_id, False, expected_version=version),
             f"Included {row.seller_sku} again.")  # fmt: skip


def _create_from_listing(listing_id: int) -> None:
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            imported = bindings.create_product_from_listing(actor, session, listing_id)
    except Exception as error:
        ui.show_error(error)
        return
    notes = "; ".join(imported.notes)
    message = (f"Created product #{imported.product_id} with {len(imported.bound)} SKUs, all bound: "
               + ", ".join(sku for _, sku in imported.bound) + (f". {notes}" if notes else "."))  # fmt: skip
    st.session_state[FLASH_KEY] = message
    ui.after_write(f"Created product #{imported.product_id}")
    st.rerun()


def bulk_csv() -> None:
    with st.expander("Bulk binding by CSV", icon=":material/upload_file:"):
        st.caption("One line per binding: `seller_sku,master_sku[,shop]` (shop: its name; empty: every shop). "
                   "Preview first; nothing is written when a line is refused.")  # fmt: skip
        uploaded = st.file_uploader("CSV file", type=["csv"], key="listings_csv_file")
        pasted = st.text_area("… or paste the lines", key="listings_csv_text", height=120)
        text = uploaded.getvalue().decode("utf-8-sig") if uploaded is not None else pasted
        if st.button("Preview the file", key="listings_csv_preview_button", disabled=not text.strip()):
            try:
                with ui.session() as session:
                    preview = binding_csv.preview_csv(session, text)
            except Exception as error:
                ui.show_error(error)
                st.session_state.pop(CSV_PREVIEW_KEY, None)
            else:
                st.session_state[CSV_PREVIEW_KEY] = (text, preview)
        stored = st.session_state.get(CSV_PREVIEW_KEY)
        if stored is None or stored[0] != text:
            return
        preview = stored[1]
        st.dataframe(
            {
                "Line": [line.line for line in preview.lines],
                "Seller SKU": [line.seller_sku for line in preview.lines],
                "Master SKU": [line.master_sku for line in preview.lines],
                "Shop": [line.shop for line in preview.lines],
                "Outcome": [line.outcome for line in preview.lines],
                "Why": [line.reason for line in preview.lines],
            },
            hide_index=True,
            key="listings_csv_table",
        )
        if preview.refused:
            st.error(f"{len(preview.refused)} line(s) refused: fix them and preview again; nothing was written.")
            return
        if ui.can(Permission.CATALOG_WRITE) and st.button(
            f"Bind {len(preview.to_bind)} SKU(s)", type="primary", key="listings_csv_apply"
        ):
            st.session_state.pop(CSV_PREVIEW_KEY, None)
            _act(lambda a, s: binding_csv.apply_csv(a, s, text), f"Bound {len(preview.to_bind)} SKU(s) from the file.")


def shop_rules(shops: Sequence[ShopOption]) -> None:
    with st.expander("Auto-bind rules per shop (seller-SKU prefix and suffix)", icon=":material/rule:"):
        st.caption("Auto-binding ignores case, spaces and dashes; a shop's prefix and suffix are also stripped "
                   "from its seller SKUs before they are matched to master SKUs.")  # fmt: skip
        if not shops:
            st.caption("No shop connected yet.")
            return
        by_id = {shop.connection_id: shop for shop in shops}
        chosen_id = st.selectbox("Shop", list(by_id), format_func=lambda i: by_id[i].label, key="listings_rules_shop")
        chosen = by_id[chosen_id]
        if not ui.can(Permission.CATALOG_WRITE):
            st.write(f"Prefix: `{chosen.prefix or '—'}` · suffix: `{chosen.suffix or '—'}`")
            return
        with st.form(f"listings_affixes_{chosen.connection_id}"):
            prefix_col, suffix_col = st.columns(2)
            prefix = prefix_col.text_input("Prefix", value=chosen.prefix, key=f"listings_prefix_{chosen.connection_id}")
            suffix = suffix_col.text_input("Suffix", value=chosen.suffix, key=f"listings_suffix_{chosen.connection_id}")
            saved = st.form_submit_button("Save rules")
        if saved:
            _act(lambda a, s: bindings.set_shop_affixes(a, s, chosen.connection_id, prefix=prefix, suffix=suffix),
                 f"Saved the SKU rules of {chosen.label}; its SKU keys were recomputed.")  # fmt: skip


def main() -> None:
    ui.current_actor()
    st.title("Listings")
    st.caption("Every shop's listings and SKUs, and the master SKU each is bound to.")
    if message := st.session_state.pop(FLASH_KEY, None):
        st.success(ui.plain(message))
    shops = _shops()
    filters = filter_bar(shops)
    if st.session_state.get("listings_last_filter") != filters:
        st.session_state["listings_last_filter"] = filters
        st.session_state.pop("listings_page", None)
    page_number = int(st.session_state.get("listings_page", 1))
    try:
        result = _page(filters, page_number)
    except Exception as error:
        ui.show_error(error)
        return
    bound_col, orphan_col, excluded_col = st.columns(3)
    bound_col.metric("Bound", result.counts["bound"])
    orphan_col.metric("Orphans", result.counts["orphan"])
    excluded_col.metric("Excluded", result.counts["excluded"])
    pages = max(1, -(-result.total // PAGE_SIZE))
    st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=min(page_number, pages), step=1,
                    key="listings_page")  # fmt: skip
    if not result.rows:
        st.info("No listing SKU matches these filters.")
    else:
        st.dataframe(table(result.rows), hide_index=True, width="stretch", key="listings_table")
        by_id = {row.listing_sku_id: row for row in result.rows}
        chosen = st.selectbox("SKU", list(by_id), format_func=lambda i: _label(by_id[i]), key="listings_chosen")
        if chosen is not None:
            actions(by_id[chosen])
    bulk_csv()
    shop_rules(shops)


main()
