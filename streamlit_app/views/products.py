# The Products page: the catalog, filtered and paginated in SQL, with each shop's listing status.
"""Products.

Filters (search, platform, category, price range, channel status: synced, pending, in review, failed,
conflict or not listed) become one SQL query of one
page (`syncstore.catalog.reads.product_rows`); a 100,000-product catalog is never loaded whole. Rows
can be selected for bulk actions: open in the editor, bulk edit, sync now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import streamlit as st

from connectors import registry
from streamlit_app import thumbnails, ui
from streamlit_app.i18n import N_, t, tn, tv
from streamlit_app.shop_names import name_of, title_of
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import ListingStatus, ProductFilter, ProductRow, ProductRowPage
from syncstore.inventory import availability, bundles
from syncstore.security.auth import Permission

PAGE_SIZES = (25, 50, 100)
# The channel status of a listing, as the filter offers it and the table shows it (N_: translated when shown).
STATUS_LABELS = {
    "synced": N_("synced"),
    "pending": N_("pending"),
    "in_review": N_("in review"),
    "failed": N_("failed"),
    "conflict": N_("conflict"),
    catalog_reads.NOT_LISTED: N_("not listed"),
}
ALL = "All"
ROW_HEIGHT = 40
# Shown columns and their widths (px), fitting a 1440 px wide window beside the sidebar without scrolling
# sideways; the other columns stay in the data (selection, tests) but are not shown.
SHOWN = ("image", "title", "price", "available", "channels", "last synced")
SHOP_NAME_CHARS = 18


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


def _all_or(label: Callable[[str], str]) -> Callable[[str], str]:
    return lambda value: t("All") if value == ALL else label(value)


def filter_bar() -> ProductFilter:
    search_col, platform_col, category_col, status_col = st.columns([3, 2, 3, 2])
    search = search_col.text_input(t("Search"), placeholder=t("title, handle or SKU"), key="products_search")
    platform = platform_col.selectbox(
        t("Platform"), [ALL, *registry.names()], format_func=_all_or(ui.platform_label), key="products_platform"
    )
    category = category_col.selectbox(
        t("Category"), [ALL, *_categories(ui.database_url())], format_func=_all_or(str), key="products_category"
    )
    sync_status = status_col.selectbox(
        t("Channel status"), [ALL, *STATUS_LABELS], format_func=_all_or(_status_word), key="products_sync",
        help=t("Products with a listing in this state on any shop (on the chosen platform's shops when one is "
               "chosen), or listed nowhere"),
    )  # fmt: skip
    min_col, max_col, state_col, _ = st.columns([2, 2, 2, 6])
    with min_col:
        min_price = _price(t("Min price"), "products_min_price")
    with max_col:
        max_price = _price(t("Max price"), "products_max_price")
    state = state_col.selectbox(
        t("Product status"), [ALL, "active", "inactive"], format_func=_all_or(tv), key="products_state"
    )
    return ProductFilter(
        search=search.strip() or None,
        category=None if category == ALL else category,
        status=None if state == ALL else state,
        min_price=min_price,
        max_price=max_price,
        platform=None if platform == ALL else platform,
        sync_status=None if sync_status == ALL else sync_status,
    )


def _status_word(status: str) -> str:
    return tv(STATUS_LABELS.get(status, status))


def _shop(name: str) -> str:
    return name if len(name) <= SHOP_NAME_CHARS else name[: SHOP_NAME_CHARS - 1] + "…"


def _shop_name(listing: ListingStatus) -> str:
    return _shop(name_of(listing.connection_id, listing.shop_name))


def channel_cell(row: ProductRow) -> list[str]:
    """One pill per shop listing the product: "<shop>: <status>" (none when not listed anywhere)."""
    return [t("{shop}: {status}", shop=_shop_name(listing), status=_status_word(listing.sync_status))
            for listing in row.listings]  # fmt: skip


def _channel_options(rows: Sequence[ProductRow]) -> tuple[list[str], list[str]]:
    """The pills of this page and the colour of each (the status's badge colour)."""
    options: dict[str, str] = {}
    for row in rows:
        for listing, text in zip(row.listings, channel_cell(row), strict=True):
            options.setdefault(text, ui.STATUS_COLOURS.get(listing.sync_status, "gray"))
    options.setdefault(tv(STATUS_LABELS[catalog_reads.NOT_LISTED]), "gray")
    return list(options), list(options.values())


def table(rows: Sequence[ProductRow], bundle_available: dict[int, int] | None = None) -> dict[str, list[Any]]:
    """The page as columns (st.dataframe takes a dict of lists; no pandas frame needed).

    A product holding a bundle is marked "Bundle ·" and its available is the computed one.
    """
    computed = bundle_available or {}
    not_listed = [tv(STATUS_LABELS[catalog_reads.NOT_LISTED])]
    return {
        "id": [row.id for row in rows],
        "image": [thumbnails.src(row.thumbnail) for row in rows],
        "title": [
            (t("Bundle · {title}", title=row.title) if row.id in computed else row.title)
            + ("" if row.status == "active" else f" ({tv(row.status)})")
            for row in rows
        ],
        "handle": [row.handle for row in rows],
        "category": [row.category for row in rows],
        "price": [ui.money(row.base_price, row.currency) for row in rows],
        "variants": [row.variant_count for row in rows],
        "available": [computed.get(row.id, row.available) for row in rows],
        "channels": [channel_cell(row) or not_listed for row in rows],
        "last synced": [ui.local_time(row.last_synced_at) if row.last_synced_at else t("never") for row in rows],
        "status": [row.status for row in rows],
    }


def columns(rows: Sequence[ProductRow]) -> dict[str, Any]:
    """The shown columns' headers and widths; the channel pills coloured by status."""
    options, colours = _channel_options(rows)
    return {
        "image": st.column_config.ImageColumn(t("Image"), width=48),
        "title": st.column_config.TextColumn(t("Title"), width=220),
        "price": st.column_config.TextColumn(t("Base price"), width=100),
        "available": st.column_config.NumberColumn(
            t("Stock"), width=60, format="%d", help=t("Available to sell: on hand minus reserved")
        ),
        "channels": st.column_config.MultiselectColumn(
            t("Channel status"),
            width=370,
            options=options,
            color=colours,
            help=t("Each shop's listing of the product: synced, pending, in review, failed or conflict"),
        ),
        "last synced": st.column_config.TextColumn(t("Last synced"), width=140),
    }


ATTENTION = ("failed", "in_review")


def attention(rows: Sequence[ProductRow]) -> None:
    """The failed and in-review listings of this page, with the platform's reason."""
    found = [(row, listing) for row in rows for listing in row.listings if listing.sync_status in ATTENTION]
    if not found:
        return
    failed = sum(1 for _, listing in found if listing.sync_status == "failed")
    in_review = len(found) - failed
    title = t("Listings on this page: {failed} failed and {in_review} in review", failed=failed, in_review=in_review)
    with st.expander(title, icon=":material/report:", expanded=failed > 0):
        for row, listing in found:
            where = title_of(listing.connection_id, f"{ui.platform_label(listing.platform)} · {listing.shop_name}")
            reason = listing.last_error or (t("waiting for the platform's review") if listing.sync_status == "in_review"
                                            else t("no reason recorded"))  # fmt: skip
            st.markdown(
                t("{badge} **#{id} {title}** on {shop}: {reason}", badge=ui.badge(_status_word(listing.sync_status),
                  ui.STATUS_COLOURS.get(listing.sync_status)), id=row.id, title=ui.plain(row.title),
                  shop=ui.plain(where), reason=ui.plain(reason))
            )  # fmt: skip
        st.caption(t("Fix the product (or its category on the Categories page), then Sync now or Publish to shops."))


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
    ui.after_write(tn("Sync of {n} product queued (job {job}).", "Sync of {n} products queued (job {job}).",
                      len(product_ids), job=job_id))  # fmt: skip


def bulk_actions(product_ids: list[int]) -> None:
    st.markdown("**" + tn("{n} selected", "{n} selected", len(product_ids)) + "**")
    edit_col, bulk_col, sync_col, publish_col, _ = st.columns([2, 2, 2, 2, 4])
    if len(product_ids) == 1 and edit_col.button(t("Open in editor"), icon=":material/edit:", key="products_open"):
        ui.open_editor(product_ids[0])
    if ui.can(Permission.CATALOG_WRITE) and bulk_col.button(t("Bulk edit"), icon=":material/table_edit:",
                                                            key="to_bulk"):  # fmt: skip
        st.session_state["bulk_product_ids"] = product_ids
        st.switch_page("views/bulk_edit.py")
    if ui.can(Permission.SYNC_RUN) and sync_col.button(t("Sync now"), icon=":material/sync:", key="products_sync_now"):
        _start_sync(product_ids)
    if ui.can(Permission.SYNC_RUN) and publish_col.button(t("Publish to shops"), icon=":material/publish:",
                                                          key="products_publish"):  # fmt: skip
        st.session_state["publish_product_ids"] = list(product_ids)
        st.session_state.pop("publish_preview", None)
        st.switch_page("views/publish.py")


def table_height(rows: int) -> int:
    """Every row of the page at once: the table grows with the page instead of scrolling in a small box."""
    return (rows + 1) * ROW_HEIGHT + 3


def main() -> None:
    ui.current_actor()
    st.title(t("Products"))
    filters = filter_bar()
    size_col, page_col = st.columns([1, 5])
    page_size = size_col.selectbox(t("Rows per page"), PAGE_SIZES, index=1, key="products_page_size")
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
    summary = tn("{count} product · page {page} of {pages}", "{count} products · page {page} of {pages}",
                 result.total, count=f"{result.total:,}", page=result.page, pages=result.pages)  # fmt: skip
    page_col.caption(summary + (t(" · filtered") if filters != ProductFilter() else ""))
    if not result.rows:
        st.info(t("No product matches these filters.") if result.total == 0 else t("This page is empty."))
        return
    try:
        bundle_available = _bundle_available(ui.database_url(), tuple(row.id for row in result.rows))
    except Exception as error:
        ui.show_error(error)
        bundle_available = {}
    selection = st.dataframe(
        table(result.rows, bundle_available),
        column_config=columns(result.rows),
        column_order=SHOWN,
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key="products_table",
        row_height=ROW_HEIGHT,
        height=table_height(len(result.rows)),
        width="stretch",
    )
    attention(result.rows)
    if result.pages > 1:
        st.pagination(result.pages, default=result.page, key="products_page")
    chosen = _selected_ids(result.rows, selection)
    if chosen:
        bulk_actions(chosen)
    else:
        st.caption(t("Select rows to open a product in the editor, edit many at once or sync them now."))
    job_id = st.session_state.get("bulk_job_id")
    if isinstance(job_id, int):
        ui.job_progress(job_id)


main()
