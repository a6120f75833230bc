# The Bulk edit page: price and stock of many variants in one table, then a bulk sync with live progress.
"""Bulk edit.

The variants come from the Products page selection (`st.session_state["bulk_product_ids"]`) or
from a search here. Edits are saved through `catalog.update_product`, one product at a time in
ONE transaction: either every change is saved or none is, and the errors name each SKU. Then
`sync.start_bulk_sync` queues the sync; the bar follows the job's recorded progress.

Every save is conditional on what the person loaded (S2): the rows are read once and kept in the
session, so a price is saved only if its product still has the version loaded, and an on-hand
value only if the variant still has the on hand loaded; otherwise nothing is saved and the page
says who changed it since. "Reload" reads the current values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from streamlit_app import ui
from streamlit_app.i18n import t, tn
from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import VariantRow
from syncstore.errors import InvalidInput, SyncStoreError, VersionConflict
from syncstore.inventory import ledger as inventory
from syncstore.security.auth import Permission

SELECTION_KEY = "bulk_product_ids"
JOB_KEY = "bulk_job_id"
RESULT_KEY = "bulk_result"
LOADED_KEY = "bulk_loaded"
MAX_VARIANTS = 500


class BulkSaveRefused(SyncStoreError):
    """At least one product's changes were refused; the whole bulk save was rolled back."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(tn("nothing was saved: {n} problem", "nothing was saved: {n} problems", len(errors)))


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


def columns() -> dict[str, Any]:
    """The table's columns, labelled in the user's language."""
    return {
        "variant": st.column_config.NumberColumn(t("Variant"), disabled=True, format="%d"),
        "product": st.column_config.TextColumn(t("Product"), disabled=True, width="large"),
        "sku": st.column_config.TextColumn(t("SKU"), disabled=True),
        "price": st.column_config.TextColumn(t("Price"), required=True),
        "stock": st.column_config.NumberColumn(t("On hand"), min_value=0, step=1, format="%d", required=True),
        "reserved": st.column_config.NumberColumn(t("Reserved"), disabled=True, format="%d"),
        "active": st.column_config.CheckboxColumn(t("Active"), disabled=True),
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
    """Save every product's patch in one transaction, conditional on the rows as loaded.

    Prices (and other product fields) need the product's loaded version; on-hand values need the
    loaded on hand. BulkSaveRefused names each refused SKU or product, and who changed it since.
    """
    actor = ui.current_actor()
    versions = {row.product_id: row.product_version for row in rows}
    loaded = {row.variant_id: row for row in rows}
    errors: dict[str, str] = {}
    changed: list[tuple[str, str, int]] = []  # (where, entity, id) changed since loaded
    try:
        with ui.session() as session:
            for product_id, variants in patches.items():
                product_patch = [{k: v for k, v in p.items() if k != "stock"} for p in variants]
                product_patch = [p for p in product_patch if len(p) > 1]
                try:
                    if product_patch:
                        catalog.update_product(
                            actor, session, product_id, expected_version=versions[product_id],
                            changes={"variants": product_patch},
                        )  # fmt: skip
                except InvalidInput as error:
                    for key, message in ui.field_errors(error).items():
                        parts = key.split(".")
                        index = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
                        inside = index is not None and index < len(product_patch)
                        where = loaded[product_patch[index]["id"]].sku if inside and index is not None else key
                        errors[f"{where} {parts[-1]}"] = message
                    continue
                except VersionConflict:
                    title = next(row.product_title for row in rows if row.product_id == product_id)
                    changed.append((t("product {id} ({title})", id=product_id, title=title), "product", product_id))
                    continue
                for entry in variants:
                    if "stock" not in entry:
                        continue
                    row = loaded[entry["id"]]
                    try:
                        inventory.adjust_stock(actor, session, row.variant_id, set_to=int(entry["stock"]),
                                               reason="manual", expected_on_hand=row.stock)  # fmt: skip
                    except InvalidInput as error:
                        errors.update({f"{row.sku} stock": message for message in ui.field_errors(error).values()})
                    except VersionConflict:
                        changed.append((t("{sku} on hand", sku=row.sku), "variant", row.variant_id))
            if errors or changed:
                raise BulkSaveRefused(errors)  # rolls the whole transaction back
    except BulkSaveRefused as refused:
        for where, entity, entity_id in changed:
            refused.errors[where] = t(
                "changed by {who} since you opened it; reload and apply your change again",
                who=ui.changed_by(entity, entity_id),
            )
        raise BulkSaveRefused(refused.errors) from None
    return sum(len(v) for v in patches.values())


def _show_refusal(error: BulkSaveRefused) -> None:
    st.error(t("Not saved: {reason}. Fix these and save again.", reason=ui.plain(str(error))))
    for where, message in error.errors.items():
        st.error(t("**{where}**: {message}", where=ui.plain(where), message=ui.plain(message)))


def _loaded_rows(product_ids: Sequence[int], search: str | None) -> list[VariantRow]:
    """The rows as first loaded for this selection or search, kept until saved or reloaded (S2)."""
    key = (tuple(product_ids), search)
    kept = st.session_state.get(LOADED_KEY)
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == key:
        return list(kept[1])
    rows = _load(product_ids, search)
    st.session_state[LOADED_KEY] = (key, rows)
    st.session_state.pop("bulk_table", None)
    return rows


def _reload() -> None:
    st.session_state.pop(LOADED_KEY, None)
    st.session_state.pop("bulk_table", None)


def start_sync(product_ids: Sequence[int]) -> None:
    from syncstore.sync import engine as sync

    actor = ui.current_actor()
    try:
        with ui.session() as session:
            job_id = sync.start_bulk_sync(actor, session, list(product_ids))
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state[JOB_KEY] = job_id
    ui.after_write(t("Bulk sync queued (job {job}).", job=job_id))


def main() -> None:
    ui.current_actor()
    st.title(t("Bulk edit"))
    if not ui.can(Permission.CATALOG_WRITE):
        ui.read_only_note(Permission.CATALOG_WRITE)
        return
    selected: list[int] = list(st.session_state.get(SELECTION_KEY) or [])
    search: str | None = None
    if selected:
        st.caption(tn("{n} product selected on the Products page.", "{n} products selected on the Products page.",
                      len(selected)))  # fmt: skip
        if st.button(t("Choose other products"), key="bulk_clear"):
            st.session_state.pop(SELECTION_KEY, None)
            st.rerun()
    else:
        search = (st.text_input(t("Products matching"), placeholder=t("title, handle or SKU"), key="bulk_search")
                  or None)  # fmt: skip
        if not search:
            st.info(t("Select products on the Products page, or search for them here."))
    rows = _loaded_rows(selected, search) if selected or search else []
    if selected or search:
        if not rows:
            st.info(t("No variant matches."))
        else:
            if len(rows) == MAX_VARIANTS:
                st.warning(t("Showing the first {n} variants; narrow the search to edit the others.", n=MAX_VARIANTS))
            _editor(rows)
    job_id = st.session_state.get(JOB_KEY)
    if isinstance(job_id, int):
        st.subheader(t("Bulk sync"))
        ui.job_progress(job_id)


def _editor(rows: Sequence[VariantRow]) -> None:
    product_ids = sorted({row.product_id for row in rows})
    st.caption(
        t("{variants} of {products}, as loaded. Edit price and stock, then save; a value someone else changed since "
          "is refused, never overwritten.", variants=tn("{n} variant", "{n} variants", len(rows)),
          products=tn("{n} product", "{n} products", len(product_ids)))
    )  # fmt: skip
    st.button(t("Reload the current values"), key="bulk_reload", on_click=_reload, icon=":material/refresh:")
    with st.form("bulk_form", border=False):
        edited = st.data_editor(
            _table(rows), column_config=columns(), hide_index=True, num_rows="fixed", key="bulk_table",
            width="stretch",
        )  # fmt: skip
        submitted = st.form_submit_button(t("Save changes"), type="primary", icon=":material/save:")
    if submitted:
        patches = changes_by_product(rows, list(edited))
        if not patches:
            st.info(t("Nothing changed."))
        else:
            try:
                saved = save_all(rows, patches)
            except BulkSaveRefused as error:
                _show_refusal(error)
            except Exception as error:
                ui.show_error(error)
            else:
                st.session_state[RESULT_KEY] = t("Saved {variants} of {products}.",
                                                 variants=tn("{n} variant", "{n} variants", saved),
                                                 products=tn("{n} product", "{n} products", len(patches)))  # fmt: skip
                ui.after_write(st.session_state[RESULT_KEY])
                _reload()
                st.rerun()
    if RESULT_KEY in st.session_state:
        st.success(st.session_state.pop(RESULT_KEY))
    if ui.can(Permission.SYNC_RUN) and st.button(
        tn("Sync this product to every shop", "Sync these {n} products to every shop", len(product_ids)),
        icon=":material/sync:",
        key="bulk_sync",
    ):
        start_sync(product_ids)


main()
