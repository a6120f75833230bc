# The Product editor's product picker: search by title, handle or SKU (in SQL), and previous/next product.
"""Choosing a product in the Product editor.

`picker()` finds products whose title, handle or SKU contains the search (`catalog.reads.find_products`,
one LIMITed query: fast on 100,000 products, never a 100,000-option select box); `neighbours(id)` offers
the previous and next product by number (`catalog.reads.neighbour_ids`).
"""

from __future__ import annotations

import streamlit as st

from streamlit_app import ui
from streamlit_app.i18n import t
from streamlit_app.sync_preview import PREVIEW_KEY
from syncstore.catalog import reads as catalog_reads

PICKER_LIMIT = 20


def picker(current: int | None = None) -> None:
    """Find a product by title, handle or SKU (searched in SQL, 20 at most shown) and open it."""
    if current is None:
        st.info(t("Choose a product to edit, or open one from the Products page."))
    search = st.text_input(t("Find a product"), placeholder=t("title, handle or SKU"), key="editor_find")
    if current is not None and not search.strip():
        return
    with ui.session() as session:
        found = catalog_reads.find_products(session, search, limit=PICKER_LIMIT)
    if not found:
        st.caption(t("No product matches."))
        return
    options = {row.id: f"{row.title} ({row.handle})" + (f" · {row.sku}" if row.sku else "") for row in found}
    pick_col, open_col = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick_col.selectbox(t("Product"), list(options), format_func=options.__getitem__, key="editor_pick")
    if open_col.button(t("Edit this product"), type="primary", key="editor_open") and chosen is not None:
        _open(int(chosen))


def _open(product_id: int) -> None:
    st.session_state.pop(PREVIEW_KEY, None)
    st.session_state.pop("editor_pick", None)
    ui.select_product(product_id)
    st.rerun()


def neighbours(product_id: int) -> None:
    """Previous and next product (by number), for going through the catalog one product at a time."""
    with ui.session() as session:
        previous, following = catalog_reads.neighbour_ids(session, product_id)
    back_col, next_col, _ = st.columns([1, 1, 4])
    if back_col.button(t("Previous product"), icon=":material/chevron_left:", key="editor_previous",
                       disabled=previous is None, width="stretch") and previous is not None:  # fmt: skip
        _open(previous)
    if next_col.button(t("Next product"), icon=":material/chevron_right:", key="editor_next",
                       disabled=following is None, width="stretch") and following is not None:  # fmt: skip
        _open(following)
