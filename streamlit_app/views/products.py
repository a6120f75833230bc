# The Products page: the catalog, filtered and paginated in SQL, with each shop's listing status.
"""Products.

Filters (search, platform, category, price range, sync status) become one SQL query of one
page (`syncstore.catalog.reads.product_rows`); a 100,000-product catalog is never loaded whole. Rows
can be selected for bulk actions: open in the editor, bulk edit, sync now.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import streamlit as st

from connectors import registry
from streamlit_app import thumbnails, ui
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import ProductFilter, ProductRow, ProductRowPage
from syncstore.inventory import availability, bundles
from syncstore.security.auth import Permission

PAGE_SIZES = (25, 50, 100)
STATUS_LABELS = {
    "synced": "synced",
    "pending": "pending",
    "in_review": "in review",
    "failed": "failed",
    "conflict": "conflict",
    catalog_reads.NOT_LISTED: "not listed",
}
# Text badges: a dataframe cell cannot hold markdown, so a coloured dot says the state at a glance.
STATUS_DOTS = {"synced": "🟢", "pending": "🟡", "in_review": "🔵", "failed": "🔴", "conflict": "🟣"}
ALL = "All"


@ui.cached_read()
def _categories(url: str) -> list[str]:
    with ui.session() as session:
        return catalog_reads.categories(session)


@ui.cached_read()
def _page(url: str, filters: ProductFilter, page: int, page_size: int) -> ProductRowPage:
    with ui.session() as session:
        return catalog_reads.product_rows(session, filters, page=page, page_size=page_size)


@ui.cached_read()
def _bundle_available(url: str, product_ids: tuple[int, ...]) -> dict[int, int]:
    """Per product of the page holding a bundle: its available with each bundle's computed from its components."""
    with ui.session() as session:
        variants = catalog_reads.variant_rows(session, product_ids=list(product_ids), limit=100 * len(product_ids))
        bundle_ids = set(bundles.components(session, [v.variant_id for v in variants]))
        computed = availability.available_totals(session, list(bundle_ids)) if bundle_ids else {}
    totals: dict[int, int] = {}
    for product_id in {v.product_id for v in variants if v.variant_id in bundle_ids}:
        own = [v for v in variants if v.product_id == product_id and v.is_active]
        totals[product_id] = sum(computed.get(v.variant_id, 0) if v.variant_id in bundle_ids else v.available
                                 for v in own)  # fmt: skip
    return totals


def _price(label: str, key: str) -> Decimal | None:
    value = st.number_input(label, min_value=0.0, value=None, step=1.0, format="%.2f", key=key)
    # The widget returns a float; money becomes an exact Decimal of the two decimals shown.
    return None if value is None else Decimal(f"{value:.2f}")


def filter_bar() -> ProductFilter:
    search_col, platform_col, category_col, status_col = st.columns([3, 2, 3, 2])
    search = search_col.text_input("Search", placeholder="title, handle or SKU", key="products_search")
    platform = platform_col.selectbox(
        "Platform",
        [ALL, *registry.names()],
        format_func=ui.platform_label,
        key="products_platform",
    )
    category = category_col.selectbox("Category", [ALL, *_categories(ui.database_url())], key="products_category")
    sync_status = status_col.selectbox(
        "Sync status", [ALL, *STATUS_LABELS], format_func=lambda s: STATUS_LABELS.get(s, s), key="products_sync"
    )
    min_col, max_col, state_col, _ = st.columns([2, 2, 2, 6])
    with min_col:
        min_price = _price("Min price", "products_min_price")
    with max_col:
        max_price = _price("Max price", "products_max_price")
    state = state_col.selectbox("Product status", [ALL, "active", "inactive"], key="products_state")
    return ProductFilter(
        search=search.strip() or None,
        category=None if category == ALL else category,
        status=None if state == ALL else state,
        min_price=min_price,
        max_price=max_price,
        platform=None if platform == ALL else platform,
        sync_status=None if sync_status == ALL else sync_status,
    )


def _platform_cell(row: ProductRow, platform: str) -> str:
    shops = [listing for listing in row.listings if listing.platform == platform]
    if not shops:
        return "— not listed"
    return "  ".join(
        f"{STATUS_DOTS.get(shop.sync_status, '⚪')} {STATUS_LABELS.get(shop.sync_status, shop.sync_status)}"
        for shop in shops
    )


def table(rows: Sequence[ProductRow], bundle_available: dict[int, int] | None = None) -> dict[str, list[Any]]:
    """The page as columns (st.dataframe takes a dict of lists; no pandas frame needed).

    A product holding a bundle is marked "📦 bundle" and its available is the computed one.
    """
    computed = bundle_available or {}
    return {
        "id": [row.id for row in rows],
        "image": [thumbnails.src(row.thumbnail) for row in rows],
        "title": [("📦 bundle · " if row.id in computed else "") + row.title for row in rows],
        "handle": [row.handle for row in rows],
        "category": [row.category for row in rows],
        "price": [ui.money(row.base_price, row.currency) for row in rows],
        "variants": [row.variant_count for row in rows],
        "available": [computed.get(row.id, row.available) for row in rows],
        # One column per registered platform, keyed by its name (labelled by `columns()`).
        **{platform: [_platform_cell(row, platform) for row in rows] for platform in ui.platform_names()},
        "last synced": [ui.when(row.last_synced_at) for row in rows],
        "status": [row.status for row in rows],
    }


def columns() -> dict[str, Any]:
    """The table's column headers (the platforms' from the registry, as registered now)."""
    return {
        "id": st.column_config.NumberColumn("ID", width="small", format="%d"),
        "image": st.column_config.ImageColumn("Image", width="small"),
        "title": st.column_config.TextColumn("Title", width="large"),
        "handle": st.column_config.TextColumn("Handle"),
        "category": st.column_config.TextColumn("Category"),
        "price": st.column_config.TextColumn("Base price"),
        "variants": st.column_config.NumberColumn("Variants", width="small"),
        "available": st.column_config.NumberColumn("Available", width="small"),
        **{platform: st.column_config.TextColumn(ui.platform_label(platform)) for platform in ui.platform_names()},
        "last synced": st.column_config.TextColumn("Last synced"),
        "status": st.column_config.TextColumn("Status", width="small"),
    }


ATTENTION = ("failed", "in_review")


def attention(rows: Sequence[ProductRow]) -> None:
    """The failed and in-review listings of this page, with the platform's reason."""
    found = [(row, listing) for row in rows for listing in row.listings if listing.sync_status in ATTENTION]
    if not found:
        return
    failed = sum(1 for _, listing in found if listing.sync_status == "failed")
    with st.expander(f"{failed} failed and {len(found) - failed} in-review listings on this page",
                     icon=":material/report:", expanded=failed > 0):  # fmt: skip
        for row, listing in found:
            where = f"{ui.platform_label(listing.platform)} · {listing.shop_name}"
            label = STATUS_LABELS.get(listing.sync_status, listing.sync_status)
            reason = listing.last_error or ("waiting for the platform's review" if listing.sync_status == "in_review"
                                            else "no reason recorded")  # fmt: skip
            st.markdown(f"{ui.badge(label)} **#{row.id} {ui.plain(row.title)}** on {ui.plain(where)}: "
                        f"{ui.plain(reason)}")  # fmt: skip
        st.caption("Fix the product (or its category on the Categories page), then Sync now or Publish to shops.")


def _selected_ids(rows: Sequence[ProductRow], selection: object) -> list[int]:
    chosen = getattr(getattr(selection, "selection", None), "rows", None) or []
    return [rows[index].id for index in chosen if 0 <= index < len(rows)]


def _start_sync(product_ids: list[int]) -> None:
    from syncstore.sync import engine as sync

    actor = ui.current_actor()
    try:
        with ui.session() as session:
            job_id = sync.start_bulk_sync(actor, session, product_ids)
    except Exception as error:  # shown, never raised: the page stays usable
        ui.show_error(error)
        return
    st.session_state["bulk_job_id"] = job_id
    ui.after_write(f"Sync of {len(product_ids)} products queued (job {job_id}).")


def bulk_actions(product_ids: list[int]) -> None:
    st.markdown(f"**{len(product_ids)} selected**")
    edit_col, bulk_col, sync_col, publish_col, _ = st.columns([2, 2, 2, 2, 4])
    if len(product_ids) == 1 and edit_col.button("Open in editor", icon=":material/edit:", key="products_open"):
        ui.open_editor(product_ids[0])
    if ui.can(Permission.CATALOG_WRITE) and bulk_col.button("Bulk edit", icon=":material/table_edit:", key="to_bulk"):
        st.session_state["bulk_product_ids"] = product_ids
        st.switch_page("views/bulk_edit.py")
    if ui.can(Permission.SYNC_RUN) and sync_col.button("Sync now", icon=":material/sync:", key="products_sync_now"):
        _start_sync(product_ids)
    if ui.can(Permission.SYNC_RUN) and publish_col.button("Publish to shops", icon=":material/publish:",
                                                          key="products_publish"):  # fmt: skip
        st.session_state["publish_product_ids"] = list(product_ids)
        st.session_state.pop("publish_preview", None)
        st.switch_page("views/publish.py")


def main() -> None:
    ui.current_actor()
    st.title("Products")
    filters = filter_bar()
    size_col, page_col = st.columns([1, 5])
    page_size = size_col.selectbox("Rows per page", PAGE_SIZES, index=1, key="products_page_size")
    if st.session_state.get("products_last_filter") != (filters, page_size):
        # New filters start at page 1 (the old page number may not exist any more).
        st.session_state["products_last_filter"] = (filters, page_size)
        # Dropping the widget's state (rather than writing 1 into it) lets it start from its default.
        st.session_state.pop("products_page", None)
    requested = int(st.session_state.get("products_page", 1))
    try:
        result = _page(ui.database_url(), filters, requested, page_size)
    except Exception as error:
        ui.show_error(error)
        return
    page_col.caption(
        f"{result.total:,} products · page {result.page} of {result.pages}"
        + (" · filtered" if filters != ProductFilter() else "")
    )
    if not result.rows:
        st.info("No product matches these filters." if result.total == 0 else "This page is empty.")
        return
    try:
        bundle_available = _bundle_available(ui.database_url(), tuple(row.id for row in result.rows))
    except Exception as error:
        ui.show_error(error)
        bundle_available = {}
    selection = st.dataframe(
        table(result.rows, bundle_available),
        column_config=columns(),
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key="products_table",
        row_height=48,
    )
    attention(result.rows)
    if result.pages > 1:
        st.pagination(result.pages, default=result.page, key="products_page")
    chosen = _selected_ids(result.rows, selection)
    if chosen:
        bulk_actions(chosen)
    else:
        st.caption("Select rows to open a product in the editor, edit many at once or sync them now.")
    job_id = st.session_state.get("bulk_job_id")
    if isinstance(job_id, int):
        ui.job_progress(job_id)


main()
