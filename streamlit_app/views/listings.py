# The Listings page: every shop's remote SKUs with their binding (bound, orphan, excluded) and the SKU-mapping actions.
"""Listings (SKU mapping).

Everyone may read; Editors and Admins act. A page of remote SKUs at a time comes from
`syncstore.catalog.bindings.list_bindings` (filters: shop by name, state, search in title or seller
SKU), with the counts per state. For the SKU chosen: bind an orphan to a master SKU after a preview
of what would be pushed, unbind, exclude or include, or create a master product from its listing.
Below: bulk binding by CSV (preview, then apply) and each shop's seller-SKU prefix and suffix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from streamlit_app import ui
from streamlit_app.i18n import N_, t, tn, translate, tv
from streamlit_app.shop_names import shop_title, title_of
from syncstore.catalog import binding_csv, bindings
from syncstore.catalog.bindings import BindingFilter, BindingPage, BindingRow, ShopOption
from syncstore.plan import binding_preview
from syncstore.security.auth import Actor, Permission

PAGE_SIZE = 50
# A listing SKU's binding state: its word and the colour of its badge.
STATE_WORDS: Mapping[str, str] = {"bound": N_("bound"), "orphan": N_("orphan"), "excluded": N_("excluded")}
STATE_COLOURS: Mapping[str, str] = {"bound": "green", "orphan": "orange", "excluded": "gray"}
# What a line of a binding CSV would do.
OUTCOME_WORDS: Mapping[str, str] = {"bind": N_("bind"), "unchanged": N_("unchanged"), "refused": N_("refused")}
PREVIEW_KEY = "listings_preview"
CSV_PREVIEW_KEY = "listings_csv_preview"
FLASH_KEY = "listings_flash"


def _shops() -> list[ShopOption]:
    with ui.session() as session:
        return bindings.shop_options(session)


def _page(filters: BindingFilter, page: int) -> BindingPage:
    with ui.session() as session:
        return bindings.list_bindings(session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)


def shop_label(shop: ShopOption) -> str:
    """ "<Platform> · Kedai Demo": the platform and the shop's name (its id only when it has no name yet)."""
    return shop_title(shop.platform, shop.name, shop.shop_id)


def state_badge(state: str) -> str:
    return ui.badge(tv(STATE_WORDS.get(state, state)), STATE_COLOURS.get(state, "gray"))


def filter_bar(shops: Sequence[ShopOption]) -> BindingFilter:
    shop_col, state_col, search_col = st.columns([3, 2, 4])
    # Labels are worked out now, in the user's language (a format_func may be called after this run).
    labels: dict[int | None, str] = {None: t("Every shop")}
    labels.update({shop.connection_id: shop_label(shop) for shop in sorted(shops, key=shop_label)})
    shop = shop_col.selectbox(t("Shop"), list(labels), key="listings_shop", format_func=labels.__getitem__)
    states: dict[str | None, str] = {None: t("Any state")}
    states.update({state: tv(STATE_WORDS[state]) for state in bindings.STATES})
    state = state_col.selectbox(t("State"), list(states), key="listings_state", format_func=states.__getitem__)
    search = search_col.text_input(t("Search"), placeholder=t("title or seller SKU"), key="listings_search")
    return BindingFilter(
        connection_id=None if shop is None else int(shop),
        state=next((s for s in bindings.STATES if s == state), None),
        search=search.strip() or None,
    )


def table(rows: Sequence[BindingRow]) -> dict[str, list[Any]]:
    return {
        t("SKU id"): [row.listing_sku_id for row in rows],
        t("Shop"): [_shop(row) for row in rows],
        t("Listing"): [row.title or row.remote_item_id for row in rows],
        t("Seller SKU"): [row.seller_sku or "" for row in rows],
        t("State"): [tv(STATE_WORDS.get(row.state, row.state)) for row in rows],
        t("Master SKU"): [row.master_sku or "" for row in rows],
        t("Shop stock"): [row.stock for row in rows],
        t("Shop price"): [ui.money(row.price, row.currency) for row in rows],
        t("Why"): [row.reason or "" for row in rows],
    }


def _shop(row: BindingRow) -> str:
    return title_of(row.connection_id, f"{ui.platform_label(row.platform)} · {row.shop_name}")


def _label(row: BindingRow) -> str:
    seller = row.seller_sku or t("(no seller SKU)")
    shop = _shop(row)
    return f"#{row.listing_sku_id} · {seller} · {row.title or row.remote_item_id} · {shop}"


def bind_form(row: BindingRow) -> None:
    master = st.text_input(t("Master SKU"), value=row.suggestion or "", key=f"listings_master_{row.listing_sku_id}")
    preview_col, bind_col = st.columns(2)
    if preview_col.button(t("Preview binding"), icon=":material/preview:", key="listings_preview_button"):
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
        st.info(ui.plain(t("Binding would push: {what}", what=shown[2])))
    if bind_col.button(t("Bind"), type="primary", icon=":material/link:", disabled=not ready, key="listings_bind"):
        st.session_state.pop(PREVIEW_KEY, None)
        _act(lambda actor, session: bindings.bind_sku(actor, session, row.listing_sku_id, master,
                                                      expected_version=row.version),
             t("Bound: {what}. The stock is pushed within seconds.", what=shown[2] if shown else master))  # fmt: skip
    if not ready:
        st.caption(t("Preview first: it shows what binding would push to the shop."))


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
    stock = ui.plain(t("shop stock {stock}", stock="—" if row.stock is None else row.stock))
    st.markdown(f"**{ui.plain(_label(row))}**: {state_badge(row.state)}{bound_to} · {stock}")
    if row.reason:
        st.caption(ui.plain(row.reason))
    if not ui.can(Permission.CATALOG_WRITE):
        ui.read_only_note(Permission.CATALOG_WRITE)
        return
    sku_id, version = row.listing_sku_id, row.version
    if row.state == "orphan":
        bind_form(row)
        exclude_col, create_col = st.columns(2)
        if exclude_col.button(t("Exclude"), icon=":material/block:", key="listings_exclude"):
            _act(lambda a, s: bindings.set_excluded(a, s, sku_id, True, expected_version=version),
                 t("Excluded {sku}: the sync ignores it.", sku=row.seller_sku))  # fmt: skip
        if create_col.button(t("Create a master product from this listing"), icon=":material/add_box:",
                             key="listings_create"):  # fmt: skip
            _create_from_listing(row.listing_id)
    elif row.state == "bound":
        unbind_col, exclude_col = st.columns(2)
        if unbind_col.button(t("Unbind"), icon=":material/link_off:", key="listings_unbind"):
            _act(lambda a, s: bindings.unbind_sku(a, s, sku_id, expected_version=version),
                 t("Unbound {sku}.", sku=row.seller_sku))  # fmt: skip
        if exclude_col.button(t("Exclude"), icon=":material/block:", key="listings_exclude"):
            _act(lambda a, s: bindings.set_excluded(a, s, sku_id, True, expected_version=version),
                 t("Unbound and excluded {sku}.", sku=row.seller_sku))  # fmt: skip
    elif st.button(t("Include"), icon=":material/undo:", key="listings_include"):
        _act(lambda a, s: bindings.set_excluded(a, s, sku_id, False, expected_version=version),
             t("Included {sku} again.", sku=row.seller_sku))  # fmt: skip


def _create_from_listing(listing_id: int) -> None:
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            imported = bindings.create_product_from_listing(actor, session, listing_id)
    except Exception as error:
        ui.show_error(error)
        return
    notes = "; ".join(imported.notes)
    skus = ", ".join(sku for _, sku in imported.bound)
    message = tn("Created product #{id} with {n} SKU, bound: {skus}.",
                 "Created product #{id} with {n} SKUs, all bound: {skus}.",
                 len(imported.bound), id=imported.product_id, skus=skus)  # fmt: skip
    if notes:
        message = f"{message} {notes}"
    st.session_state[FLASH_KEY] = message
    ui.after_write(t("Created product #{id}.", id=imported.product_id))
    st.rerun()


def _would_push(line: binding_csv.CsvLine, pushes: dict[int, str]) -> str:
    return pushes.get(line.listing_sku_id or 0, "") if line.outcome == "bind" else ""


def bulk_csv() -> None:
    with st.expander(t("Bulk binding by CSV"), icon=":material/upload_file:"):
        st.caption(t("One line per binding: `seller_sku,master_sku[,shop]` (shop: its name; empty: every shop). "
                     "Preview first; nothing is written when a line is refused."))  # fmt: skip
        uploaded = st.file_uploader(t("CSV file"), type=["csv"], key="listings_csv_file")
        pasted = st.text_area(t("… or paste the lines"), key="listings_csv_text", height=120)
        text = uploaded.getvalue().decode("utf-8-sig") if uploaded is not None else pasted
        if st.button(t("Preview the file"), key="listings_csv_preview_button", disabled=not text.strip()):
            try:
                with ui.session() as session:
                    preview = binding_csv.preview_csv(session, text)
                bound = [(line.listing_sku_id, line.variant_id) for line in preview.to_bind
                         if line.listing_sku_id is not None and line.variant_id is not None]  # fmt: skip
                pushes = binding_preview.preview_many(ui.engine(), bound)
            except Exception as error:
                ui.show_error(error)
                st.session_state.pop(CSV_PREVIEW_KEY, None)
            else:
                st.session_state[CSV_PREVIEW_KEY] = (text, preview, pushes)
        stored = st.session_state.get(CSV_PREVIEW_KEY)
        if stored is None or stored[0] != text:
            return
        preview, pushes = stored[1], stored[2]
        st.dataframe(
            {
                t("Line"): [line.line for line in preview.lines],
                t("Seller SKU"): [line.seller_sku for line in preview.lines],
                t("Master SKU"): [line.master_sku for line in preview.lines],
                t("Shop"): [line.shop for line in preview.lines],
                t("Outcome"): [tv(OUTCOME_WORDS.get(line.outcome, line.outcome)) for line in preview.lines],
                t("Why"): [translate(line.why) for line in preview.lines],
                t("Would push"): [_would_push(line, pushes) for line in preview.lines],
            },
            hide_index=True,
            key="listings_csv_table",
        )
        if preview.refused:
            st.error(tn("{n} line refused: fix it and preview again; nothing was written.",
                        "{n} lines refused: fix them and preview again; nothing was written.",
                        len(preview.refused)))  # fmt: skip
            return
        count = len(preview.to_bind)
        if ui.can(Permission.CATALOG_WRITE) and st.button(
            tn("Bind {n} SKU", "Bind {n} SKUs", count), type="primary", key="listings_csv_apply"
        ):
            st.session_state.pop(CSV_PREVIEW_KEY, None)
            _act(lambda a, s: binding_csv.apply_csv(a, s, text),
                 tn("Bound {n} SKU from the file.", "Bound {n} SKUs from the file.", count))  # fmt: skip


def shop_rules(shops: Sequence[ShopOption]) -> None:
    with st.expander(t("Auto-bind rules per shop (seller-SKU prefix and suffix)"), icon=":material/rule:"):
        st.caption(t("Auto-binding ignores case, spaces and dashes; a shop's prefix and suffix are also stripped "
                     "from its seller SKUs before they are matched to master SKUs."))  # fmt: skip
        if not shops:
            st.caption(t("No shop connected yet."))
            return
        by_id = {shop.connection_id: shop for shop in shops}
        rule_shops = {i: shop_label(shop) for i, shop in by_id.items()}
        chosen_id = st.selectbox(t("Shop"), list(by_id), format_func=rule_shops.__getitem__,
                                 key="listings_rules_shop")  # fmt: skip
        chosen = by_id[chosen_id]
        if not ui.can(Permission.CATALOG_WRITE):
            st.markdown(t("Prefix: {prefix} · suffix: {suffix}", prefix=ui.code_span(chosen.prefix or "—"),
                          suffix=ui.code_span(chosen.suffix or "—")))  # fmt: skip
            return
        with st.form(f"listings_affixes_{chosen.connection_id}"):
            prefix_col, suffix_col = st.columns(2)
            prefix = prefix_col.text_input(t("Prefix"), value=chosen.prefix,
                                           key=f"listings_prefix_{chosen.connection_id}")  # fmt: skip
            suffix = suffix_col.text_input(t("Suffix"), value=chosen.suffix,
                                           key=f"listings_suffix_{chosen.connection_id}")  # fmt: skip
            saved = st.form_submit_button(t("Save rules"))
        if saved:
            saved_message = t("Saved the SKU rules of {shop}; its SKU keys were recomputed.", shop=shop_label(chosen))
            _act(lambda a, s: bindings.set_shop_affixes(a, s, chosen.connection_id, prefix=prefix, suffix=suffix),
                 saved_message)  # fmt: skip


def main() -> None:
    ui.current_actor()
    st.title(t("Listings"))
    st.caption(t("Every shop's listings and SKUs, and the master SKU each is bound to."))
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
    bound_col.metric(t("Bound"), result.counts["bound"])
    orphan_col.metric(t("Orphans"), result.counts["orphan"])
    excluded_col.metric(t("Excluded"), result.counts["excluded"])
    pages = max(1, -(-result.total // PAGE_SIZE))
    st.number_input(t("Page (of {pages})", pages=pages), min_value=1, max_value=pages,
                    value=min(page_number, pages), step=1, key="listings_page")  # fmt: skip
    if not result.rows:
        st.info(t("No listing SKU matches these filters."))
    else:
        st.dataframe(table(result.rows), hide_index=True, width="stretch", key="listings_table")
        by_id = {row.listing_sku_id: row for row in result.rows}
        chosen = st.selectbox(t("SKU"), list(by_id), format_func=lambda i: _label(by_id[i]), key="listings_chosen")
        if chosen is not None:
            actions(by_id[chosen])
    bulk_csv()
    shop_rules(shops)


main()
