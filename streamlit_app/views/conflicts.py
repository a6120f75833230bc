# The Conflicts page: fields edited on a marketplace AND in the master, side by side, and how to settle them.
"""Conflicts.

Pending conflicts (`syncstore.plan.conflicts.list_conflicts`), oldest first, with the master value, the
marketplace value and the value both had at the last sync side by side. Editors and Admins settle
one with "Use master", "Use marketplace" or "Use this value" (`conflicts.resolve`), or many at
once with one of the first two (`conflicts.resolve_many`); Viewers only read. The last decisions
are listed with who took them and who made the override a "Use marketplace" left.
Each decision has one name (`streamlit_app.conflict_words`): its button's, in every message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import streamlit as st

from streamlit_app import ui
from streamlit_app.conflict_words import field_label, strategy_label
from streamlit_app.i18n import t, tn
from streamlit_app.shop_names import shop_title
from syncstore.catalog import reads as catalog_reads
from syncstore.errors import InvalidInput, NotFoundError
from syncstore.plan import conflicts
from syncstore.plan.conflicts import Strategy
from syncstore.security.auth import Actor, Permission
from syncstore.shops import connections

if TYPE_CHECKING:
    from syncstore.db.models import ProductConflict

PAGE_SIZE: Final = 50
RECENT: Final = 20
FLASH_KEY: Final = "conflicts_flash"
ERROR_KEY: Final = "conflicts_error"
BULK_STRATEGIES: Final = (Strategy.USE_MASTER, Strategy.USE_PLATFORM)


@dataclass(frozen=True)
class ConflictRow:
    """One pending conflict as the page shows it."""

    id: int
    connection_id: int | None
    platform: str
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
        text = f"#{self.id} · {self.shop} · {self.product} · {field_label(self.field)}"
        return text + (f" ({self.sku})" if self.sku else "")


def shown(value: Any) -> str:
    """A conflict value as text: lists one item a line, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return "\n".join(str(item) for item in value) or t("(empty list)")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _shops() -> dict[int, str]:
    with ui.session() as session:
        return {
            row.id: shop_title(row.platform, row.shop_name, row.shop_id)
            for row in connections.list_connections(session)
        }


def _products(found: list[ProductConflict]) -> dict[int, tuple[str, dict[int, str], int | None]]:
    """Title, SKUs by variant id and version of each product the conflicts name (one read per product)."""
    products: dict[int, tuple[str, dict[int, str], int | None]] = {}
    with ui.session() as session:
        for product_id in {c.product_id for c in found if c.product_id is not None}:
            try:
                product = catalog_reads.get_product(session, product_id)
            except NotFoundError:
                products[product_id] = (t("product {id} (deleted)", id=product_id), {}, None)
                continue
            products[product_id] = (product.title, {v.id: v.sku for v in product.variants}, product.version)
    return products


def _rows(found: list[ProductConflict], shops: dict[int, str]) -> list[ConflictRow]:
    """Conflicts with their shop, product title and SKU."""
    products = _products(found)
    rows = []
    for c in found:
        title, skus, version = products.get(c.product_id or -1, ("—", {}, None))
        rows.append(
            ConflictRow(
                id=c.id, connection_id=c.connection_id, platform=c.platform,
                shop=shops.get(c.connection_id or -1, ui.platform_label(c.platform)),
                product_id=c.product_id, product_version=version, product=title,
                sku=skus.get(c.variant_id or -1, ""), field=c.field,
                master_value=c.master_value, platform_value=c.platform_value, base_value=c.base_value,
                detected_at=c.detected_at,
            )
        )  # fmt: skip
    return rows


def _table(rows: list[ConflictRow]) -> None:
    columns = {
        "id": t("Conflict"), "shop": t("Shop"), "product": t("Product"), "sku": t("SKU"), "field": t("Field"),
        "master": t("Master"), "market": t("Marketplace"), "base": t("Last synced"), "when": t("Detected"),
    }  # fmt: skip
    st.dataframe(
        [
            {
                columns["id"]: row.id, columns["shop"]: row.shop, columns["product"]: row.product,
                columns["sku"]: row.sku, columns["field"]: field_label(row.field),
                columns["master"]: shown(row.master_value), columns["market"]: shown(row.platform_value),
                columns["base"]: shown(row.base_value), columns["when"]: ui.local_time(row.detected_at),
            }
            for row in rows
        ],
        hide_index=True,
        width="stretch",
    )  # fmt: skip


def _side_by_side(row: ConflictRow) -> None:
    master, market, base = st.columns(3)
    for column, title, value in (
        (master, t("Master (SyncStore)"), row.master_value),
        (market, t("Marketplace ({shop})", shop=row.shop), row.platform_value),
        (base, t("Last synced"), row.base_value),
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


def resolved_message(actor: Actor, row: ConflictRow, strategy: Strategy) -> str:
    """What a decision did, named as its button is named."""
    decision = strategy_label(strategy)
    if strategy is Strategy.USE_PLATFORM:
        return t(
            "Conflict {id} resolved with “{decision}”: the {field} from {shop} is kept as the {platform} override, "
            "made by {who}.",
            id=row.id, decision=decision, field=field_label(row.field), shop=row.shop,
            platform=ui.platform_label(row.platform), who=actor.label,
        )  # fmt: skip
    if strategy is Strategy.MANUAL:
        return t(
            "Conflict {id} resolved with “{decision}”: your {field} is written to the master and sent to every shop.",
            id=row.id, decision=decision, field=field_label(row.field),
        )  # fmt: skip
    return t(
        "Conflict {id} resolved with “{decision}”: the master {field} is sent to {shop}.",
        id=row.id, decision=decision, field=field_label(row.field), shop=row.shop,
    )  # fmt: skip


def _resolve(actor: Actor, row: ConflictRow, strategy: Strategy, value: Any = None) -> None:
    try:
        with ui.session() as session:
            conflicts.resolve(actor, session, row.id, strategy, value, expected_version=row.product_version)
    except Exception as error:  # every failure is shown on the page, never raised into it
        _failed(error)
        return
    _done(resolved_message(actor, row, strategy))


def _resolve_manually(actor: Actor, row: ConflictRow) -> None:
    text = str(st.session_state.get(f"manual_value_{row.id}", ""))
    value: Any = text
    if row.field == "images":
        try:
            value = json.loads(text)
        except ValueError:
            _failed(InvalidInput({"value": t('a JSON list of image URLs, e.g. ["https://..."]')}))
            return
    _resolve(actor, row, Strategy.MANUAL, value)


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
    _done(
        tn(
            "{n} conflict resolved with “{decision}”.",
            "{n} conflicts resolved with “{decision}”.",
            len(done),
            decision=strategy_label(strategy),
        )
    )


def resolve_one(actor: Actor, row: ConflictRow) -> None:
    """The three ways to settle the selected conflict, each named as its confirmation names it."""
    buttons = st.container(horizontal=True)
    buttons.button(
        strategy_label(Strategy.USE_MASTER), key=f"use_master_{row.id}", icon=":material/inventory_2:",
        help=t("Send the master value to this shop"),
        on_click=_resolve, args=(actor, row, Strategy.USE_MASTER),
    )  # fmt: skip
    buttons.button(
        strategy_label(Strategy.USE_PLATFORM), key=f"use_platform_{row.id}", icon=":material/storefront:",
        help=t("Keep the marketplace value as this platform's override"),
        on_click=_resolve, args=(actor, row, Strategy.USE_PLATFORM),
    )  # fmt: skip
    with st.form(f"manual_{row.id}"):
        default = shown(row.master_value) if row.field != "images" else json.dumps(row.master_value or [])
        st.text_area(
            t("Or a value of your own (written to the master and sent to every shop)"),
            value="" if row.master_value is None else default, key=f"manual_value_{row.id}",
            help=t("Images: a JSON list of URLs. Price: a number such as 19.90."),
        )  # fmt: skip
        st.form_submit_button(
            strategy_label(Strategy.MANUAL), icon=":material/edit:", on_click=_resolve_manually, args=(actor, row)
        )  # fmt: skip


def resolve_many(actor: Actor, rows: list[ConflictRow]) -> None:
    """Bulk resolve the chosen conflicts with one strategy."""
    st.subheader(t("Resolve several"))
    labels = {row.id: row.label for row in rows}
    chosen = st.multiselect(t("Conflicts"), options=list(labels), format_func=labels.__getitem__, key="bulk_ids")
    st.radio(
        t("Decision"), options=list(BULK_STRATEGIES), format_func=strategy_label, horizontal=True,
        key="bulk_strategy",
    )  # fmt: skip
    st.button(
        t("Resolve selected"), key="bulk_resolve", disabled=not chosen, type="primary",
        on_click=_resolve_chosen,
        args=(actor, {row.id: row.product_version for row in rows if row.product_version is not None}),
    )  # fmt: skip


def recent_decisions(shops: dict[int, str], shop_filter: int | None) -> None:
    """The last decisions: which one, who took it and, for "Use marketplace", who made the override."""
    with ui.session() as session:
        found = conflicts.recently_resolved(session, connection_id=shop_filter, limit=RECENT)
    if not found:
        return
    products = _products([item.conflict for item in found])
    with st.expander(t("Recent decisions"), icon=":material/history:"):
        columns = {
            "id": t("Conflict"), "shop": t("Shop"), "product": t("Product"), "field": t("Field"),
            "decision": t("Decision"), "by": t("Decided by"), "override": t("Override made by"), "when": t("When"),
        }  # fmt: skip
        st.dataframe(
            [
                {
                    columns["id"]: item.conflict.id,
                    columns["shop"]: shops.get(item.conflict.connection_id, ui.platform_label(item.conflict.platform)),
                    columns["product"]: products.get(item.conflict.product_id or -1, ("—", {}, None))[0],
                    columns["field"]: field_label(item.conflict.field),
                    columns["decision"]: strategy_label((item.conflict.resolution or {}).get("strategy", "")),
                    columns["by"]: item.conflict.resolved_by or "—",
                    columns["override"]: item.override_by or "—",
                    columns["when"]: ui.when(item.conflict.resolved_at),
                }
                for item in found
            ],
            hide_index=True,
            width="stretch",
            key="recent_decisions",
        )


def main() -> None:
    actor = ui.current_actor()
    st.title(t("Conflicts"))
    st.caption(
        t(
            "A title, description, image or price changed on the marketplace since the last sync (and perhaps in "
            "SyncStore too). Nothing is sent for it until someone decides which value wins."
        )
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
            t("Shop"),
            options=[None, *shops],
            format_func=lambda i: t("All shops") if i is None else shops[i],
            key="shop",
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
    st.metric(t("Pending conflicts"), f"{total:,}")
    if not rows:
        st.success(t("No pending conflicts."), icon=":material/check_circle:")
        recent_decisions(shops, shop_filter)
        return
    _table(rows)
    st.subheader(t("Compare and resolve"))
    labels = {row.id: row for row in rows}
    selected = st.selectbox(t("Conflict"), options=list(labels), format_func=lambda i: labels[i].label, key="selected")
    row = labels[selected]
    _side_by_side(row)
    if may_resolve:
        resolve_one(actor, row)
        resolve_many(actor, rows)
    else:
        ui.read_only_note(Permission.CONFLICTS_RESOLVE)
    recent_decisions(shops, shop_filter)


main()
