# The Conflicts page: fields edited on a marketplace AND in the master, side by side, and how to settle them.
"""Conflicts.

Pending conflicts (`syncstore.plan.conflicts.list_conflicts`), oldest first, with the master value, the
marketplace value and the value both had at the last sync side by side. Editors and Admins settle
one with "use master", "use marketplace" or a value of their own (`conflicts.resolve`), or many at
once with one of the first two (`conflicts.resolve_many`); Viewers only read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import streamlit as st

from streamlit_app import ui
from syncstore.catalog import reads as catalog_reads
from syncstore.errors import InvalidInput, NotFoundError
from syncstore.plan import conflicts
from syncstore.plan.conflicts import Strategy
from syncstore.security.auth import Actor, Permission
from syncstore.shops import connections

if TYPE_CHECKING:
    from syncstore.db.models import ProductConflict

PAGE_SIZE: Final = 50
FLASH_KEY: Final = "conflicts_flash"
ERROR_KEY: Final = "conflicts_error"
STRATEGY_LABELS: Final = {Strategy.USE_MASTER: "Use master", Strategy.USE_PLATFORM: "Use marketplace"}


@dataclass(frozen=True)
class ConflictRow:
    """One pending conflict as the page shows it."""

    id: int
    connection_id: int | None
    shop: str
    product_id: int | None
    product_version: int | None  # the version this page showed: resolving is conditional on it (S2)
    product: str
    sku: str
    field: str
    master_value: Any
    platform_value: Any
    base_value: Any
    detected_at: datetime

    @property
    def label(self) -> str:
        return f"#{self.id} · {self.shop} · {self.product} · {self.field}" + (f" ({self.sku})" if self.sku else "")


def shown(value: Any) -> str:
    """A conflict value as text: lists one item a line, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return "\n".join(str(item) for item in value) or "(empty list)"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _shops() -> dict[int, str]:
    with ui.session() as session:
        return {
            row.id: f"{ui.platform_label(row.platform)} · {row.shop_name or row.shop_id}"
            for row in connections.list_connections(session)
        }


def _rows(found: list[ProductConflict], shops: dict[int, str]) -> list[ConflictRow]:
    """Conflicts with their shop, product title and SKU (one product read per distinct product)."""
    products: dict[int, tuple[str, dict[int, str], int | None]] = {}
    with ui.session() as session:
        for product_id in {c.product_id for c in found if c.product_id is not None}:
            try:
                product = catalog_reads.get_product(session, product_id)
            except NotFoundError:
                products[product_id] = (f"product {product_id} (deleted)", {}, None)
                continue
            products[product_id] = (product.title, {v.id: v.sku for v in product.variants}, product.version)
    rows = []
    for c in found:
        title, skus, version = products.get(c.product_id or -1, ("—", {}, None))
        rows.append(
            ConflictRow(
                id=c.id, connection_id=c.connection_id, shop=shops.get(c.connection_id or -1, c.platform),
                product_id=c.product_id, product_version=version, product=title,
                sku=skus.get(c.variant_id or -1, ""), field=c.field,
                master_value=c.master_value, platform_value=c.platform_value, base_value=c.base_value,
                detected_at=c.detected_at,
            )
        )  # fmt: skip
    return rows


def _table(rows: list[ConflictRow]) -> None:
    st.dataframe(
        [
            {
                "Conflict": row.id, "Shop": row.shop, "Product": row.product, "SKU": row.sku, "Field": row.field,
                "Master": shown(row.master_value), "Marketplace": shown(row.platform_value),
                "Last synced": shown(row.base_value), "Detected": row.detected_at,
            }
            for row in rows
        ],
        hide_index=True,
        width="stretch",
        column_config={"Detected": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm z")},
    )  # fmt: skip


def _side_by_side(row: ConflictRow) -> None:
    master, market, base = st.columns(3)
    for column, title, value in (
        (master, "Master (SyncStore)", row.master_value),
        (market, f"Marketplace ({row.shop})", row.platform_value),
        (base, "Last synced", row.base_value),
    ):
        with column, st.container(border=True):
            st.markdown(f"**{ui.plain(title)}**")
            st.text(shown(value))


# Buttons act through callbacks bound to the conflict ids they were drawn for: when the list changed
# meanwhile (someone else resolved one), a click can never land on another conflict.


def _done(message: str) -> None:
    ui.after_write()
    st.session_state[FLASH_KEY] = message


def _failed(error: Exception) -> None:
    """Keep the error for the next run to show (ui.show_error: never a traceback; unexpected ones are logged)."""
    st.session_state[ERROR_KEY] = error


def _resolve(
    actor: Actor, conflict_id: int, strategy: Strategy, value: Any = None, expected_version: int | None = None
) -> None:
    try:
        with ui.session() as session:
            conflicts.resolve(actor, session, conflict_id, strategy, value, expected_version=expected_version)
    except Exception as error:  # every failure is shown on the page, never raised into it
        _failed(error)
        return
    _done(f"Conflict {conflict_id} resolved ({strategy.value.replace('_', ' ')}).")


def _resolve_manually(actor: Actor, row: ConflictRow) -> None:
    text = str(st.session_state.get(f"manual_value_{row.id}", ""))
    value: Any = text
    if row.field == "images":
        try:
            value = json.loads(text)
        except ValueError:
            _failed(InvalidInput({"value": 'a JSON list of image URLs, e.g. ["https://..."]'}))
            return
    _resolve(actor, row.id, Strategy.MANUAL, value, row.product_version)


def _resolve_chosen(actor: Actor, versions: dict[int, int]) -> None:
    chosen = [int(i) for i in st.session_state.get("bulk_ids", [])]
    strategy = Strategy(st.session_state.get("bulk_strategy", Strategy.USE_MASTER))
    try:
        with ui.session() as session:
            done = conflicts.resolve_many(actor, session, chosen, strategy, expected_versions=versions)
    except Exception as error:
        _failed(error)
        return
    st.session_state["bulk_ids"] = []
    _done(f"{len(done)} conflicts resolved ({strategy.value.replace('_', ' ')}).")


def resolve_one(actor: Actor, row: ConflictRow) -> None:
    """The three ways to settle the selected conflict."""
    buttons = st.container(horizontal=True)
    buttons.button(
        "Use master", key=f"use_master_{row.id}", icon=":material/inventory_2:", help="Push the master value",
        on_click=_resolve, args=(actor, row.id, Strategy.USE_MASTER, None, row.product_version),
    )  # fmt: skip
    buttons.button(
        "Use marketplace", key=f"use_platform_{row.id}", icon=":material/storefront:",
        help="Keep the marketplace value as this platform's override",
        on_click=_resolve, args=(actor, row.id, Strategy.USE_PLATFORM, None, row.product_version),
    )  # fmt: skip
    with st.form(f"manual_{row.id}"):
        default = shown(row.master_value) if row.field != "images" else json.dumps(row.master_value or [])
        st.text_area(
            "Or a value of your own (written to the master and pushed everywhere)",
            value="" if row.master_value is None else default, key=f"manual_value_{row.id}",
            help="Images: a JSON list of URLs. Price: a number such as 19.90.",
        )  # fmt: skip
        st.form_submit_button(
            "Use this value", icon=":material/edit:", on_click=_resolve_manually, args=(actor, row)
        )  # fmt: skip


def resolve_many(actor: Actor, rows: list[ConflictRow]) -> None:
    """Bulk resolve the chosen conflicts with one strategy."""
    st.subheader("Resolve several")
    labels = {row.id: row.label for row in rows}
    chosen = st.multiselect("Conflicts", options=list(labels), format_func=labels.__getitem__, key="bulk_ids")
    st.radio(
        "Keep", options=list(STRATEGY_LABELS), format_func=STRATEGY_LABELS.__getitem__, horizontal=True,
        key="bulk_strategy",
    )  # fmt: skip
    st.button(
        "Resolve selected", key="bulk_resolve", disabled=not chosen, type="primary",
        on_click=_resolve_chosen,
        args=(actor, {row.id: row.product_version for row in rows if row.product_version is not None}),
    )  # fmt: skip


def main() -> None:
    actor = ui.current_actor()
    st.title("Conflicts")
    st.caption(
        "A title, description, image or price changed on the marketplace since the last sync (and perhaps in "
        "SyncStore too). Nothing is pushed for it until someone decides which value wins."
    )
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(ui.plain(flash), icon=":material/check_circle:")
    error = st.session_state.pop(ERROR_KEY, None)
    if isinstance(error, Exception):
        ui.show_error(error)
    may_resolve = ui.can(Permission.CONFLICTS_RESOLVE)
    try:
        shops = _shops()
        shop_filter = st.selectbox(
            "Shop", options=[None, *shops], format_func=lambda i: "All shops" if i is None else shops[i], key="shop"
        )
        with ui.session() as session:
            total = conflicts.pending_count(session, connection_id=shop_filter)
            page_count = max(1, -(-total // PAGE_SIZE))
        page = 1
        if page_count > 1:
            page = st.pagination(page_count, key=f"conflicts_page_{shop_filter}")
        with ui.session() as session:
            found = list(
                conflicts.list_conflicts(
                    session, connection_id=shop_filter, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
                )
            )
        rows = _rows(found, shops)
    except Exception as error:
        ui.show_error(error)
        return
    st.metric("Pending conflicts", f"{total:,}")
    if not rows:
        st.success("No pending conflicts.", icon=":material/check_circle:")
        return
    _table(rows)
    st.subheader("Compare and resolve")
    labels = {row.id: row for row in rows}
    selected = st.selectbox("Conflict", options=list(labels), format_func=lambda i: labels[i].label, key="selected")
    row = labels[selected]
    _side_by_side(row)
    if not may_resolve:
        ui.read_only_note(Permission.CONFLICTS_RESOLVE)
        return
    resolve_one(actor, row)
    resolve_many(actor, rows)


main()
