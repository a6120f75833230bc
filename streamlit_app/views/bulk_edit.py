# The Bulk edit page: price and stock of many variants in one table, then a bulk sync with live progress.
"""Bulk edit.

The variants come from the Products page selection (`st.session_state["bulk_product_ids"]`) or
from a search here. Edits are saved through `catalog.update_product`, one product at a time in
ONE transaction: either every change is saved or none is, and the errors name each SKU. Then
`sync.start_bulk_sync` queues the sync; the bar follows the job's recorded progress.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from streamlit_app import ui
from syncstore import catalog, catalog_reads
from syncstore.auth import Permission
from syncstore.catalog_reads import VariantRow
from syncstore.errors import InvalidInput, SyncStoreError, VersionConflict

SELECTION_KEY = "bulk_product_ids"
JOB_KEY = "bulk_job_id"
RESULT_KEY = "bulk_result"
MAX_VARIANTS = 500


class BulkSaveRefused(SyncStoreError):
    """At least one product's changes were refused; the whole bulk save was rolled back."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(f"nothing was saved: {len(errors)} problem{'s' if len(errors) != 1 else ''}")


def _load(product_ids: Sequence[int] | None, search: str | None) -> list[VariantRow]:
    with ui.session() as session:
        if product_ids:
            return catalog_reads.variant_rows(session, product_ids=product_ids, limit=MAX_VARIANTS)
        return catalog_reads.variant_rows(
            session, filters=catalog_reads.ProductFilter(search=search), limit=MAX_VARIANTS
        )


def _table(rows: Sequence[VariantRow]) -> list[dict[str, Any]]:
    return [
        {
            "variant": row.variant_id,
            "product": row.product_title,
            "sku": row.sku,
            "price": str(row.effective_price),
            "stock": row.stock,
            "reserved": row.reserved,
            "active": row.is_active,
        }
        for row in rows
    ]


COLUMNS = {
    "variant": st.column_config.NumberColumn("Variant", disabled=True, format="%d"),
    "product": st.column_config.TextColumn("Product", disabled=True, width="large"),
    "sku": st.column_config.TextColumn("SKU", disabled=True),
    "price": st.column_config.TextColumn("Price", required=True),
    "stock": st.column_config.NumberColumn("On hand", min_value=0, step=1, format="%d", required=True),
    "reserved": st.column_config.NumberColumn("Reserved", disabled=True, format="%d"),
    "active": st.column_config.CheckboxColumn("Active", disabled=True),
}


def changes_by_product(
    rows: Sequence[VariantRow], edited: Sequence[Mapping[str, Any]]
) -> dict[int, list[dict[str, Any]]]:
    """The variant patches per product: only prices and stock that differ from what was loaded."""
    by_id = {row.variant_id: row for row in rows}
    patches: dict[int, list[dict[str, Any]]] = {}
    for entry in edited:
        row = by_id.get(int(entry["variant"]))
        if row is None:
            continue
        patch: dict[str, Any] = {}
        price = str(entry.get("price") or "").strip()
        if price != str(row.effective_price):
            patch["price"] = price or None
        stock = entry.get("stock")
        if stock is not None and int(stock) != row.stock:
            patch["stock"] = int(stock)
        if patch:
            patches.setdefault(row.product_id, []).append({"id": row.variant_id, **patch})
    return patches


def save_all(rows: Sequence[VariantRow], patches: Mapping[int, list[dict[str, Any]]]) -> int:
    """Save every product's patch in one transaction; BulkSaveRefused names each refused SKU."""
    actor = ui.current_actor()
    versions = {row.product_id: row.product_version for row in rows}
    skus = {row.variant_id: row.sku for row in rows}
    errors: dict[str, str] = {}
    with ui.session() as session:
        for product_id, variants in patches.items():
            try:
                catalog.update_product(
                    actor, session, product_id, expected_version=versions[product_id], changes={"variants": variants}
                )
            except InvalidInput as error:
                for key, message in error.errors.items():
                    parts = key.split(".")
                    index = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
                    where = skus[variants[index]["id"]] if index is not None and index < len(variants) else key
                    errors[f"{where} {parts[-1]}"] = message
            except VersionConflict as error:
                errors[f"product {product_id}"] = str(error)
        if errors:
            raise BulkSaveRefused(errors)  # rolls the whole transaction back
    return sum(len(v) for v in patches.values())


def _show_refusal(error: BulkSaveRefused) -> None:
    st.error(f"Not saved: {error}. Fix these and save again.")
    for where, message in error.errors.items():
        st.error(f"**{where}**: {message}")


def start_sync(product_ids: Sequence[int]) -> None:
    from syncstore import sync

    actor = ui.current_actor()
    try:
        with ui.session() as session:
            job_id = sync.start_bulk_sync(actor, session, list(product_ids))
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state[JOB_KEY] = job_id
    ui.after_write(f"Bulk sync queued (job {job_id}).")


def main() -> None:
    ui.current_actor()
    st.title("Bulk edit")
    if not ui.can(Permission.CATALOG_WRITE):
        ui.read_only_note(Permission.CATALOG_WRITE)
        return
    selected: list[int] = list(st.session_state.get(SELECTION_KEY) or [])
    search: str | None = None
    if selected:
        st.caption(f"{len(selected)} products selected on the Products page.")
        if st.button("Choose other products", key="bulk_clear"):
            st.session_state.pop(SELECTION_KEY, None)
            st.rerun()
    else:
        search = st.text_input("Products matching", placeholder="title, handle or SKU", key="bulk_search") or None
        if not search:
            st.info("Select products on the Products page, or search for them here.")
    rows = _load(selected, search) if selected or search else []
    if selected or search:
        if not rows:
            st.info("No variant matches.")
        else:
            if len(rows) == MAX_VARIANTS:
                st.warning(f"Showing the first {MAX_VARIANTS} variants; narrow the search to edit the others.")
            _editor(rows)
    job_id = st.session_state.get(JOB_KEY)
    if isinstance(job_id, int):
        st.subheader("Bulk sync")
        ui.job_progress(job_id)


def _editor(rows: Sequence[VariantRow]) -> None:
    product_ids = sorted({row.product_id for row in rows})
    st.caption(f"{len(rows)} variants of {len(product_ids)} products. Edit price and stock, then save.")
    with st.form("bulk_form", border=False):
        edited = st.data_editor(
            _table(rows), column_config=COLUMNS, hide_index=True, num_rows="fixed", key="bulk_table",
            width="stretch",
        )  # fmt: skip
        submitted = st.form_submit_button("Save changes", type="primary", icon=":material/save:")
    if submitted:
        patches = changes_by_product(rows, list(edited))
        if not patches:
            st.info("Nothing changed.")
        else:
            try:
                saved = save_all(rows, patches)
            except BulkSaveRefused as error:
                _show_refusal(error)
            except Exception as error:
                ui.show_error(error)
            else:
                st.session_state[RESULT_KEY] = f"Saved {saved} variants of {len(patches)} products."
                ui.after_write(st.session_state[RESULT_KEY])
                st.session_state.pop("bulk_table", None)
                st.rerun()
    if RESULT_KEY in st.session_state:
        st.success(st.session_state.pop(RESULT_KEY))
    if ui.can(Permission.SYNC_RUN) and st.button(
        f"Sync these {len(product_ids)} products to every shop", icon=":material/sync:", key="bulk_sync"
    ):
        start_sync(product_ids)


main()
