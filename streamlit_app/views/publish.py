# The Publish to shops page: choose products and shops, see per shop what will be sent and what is missing, publish.
"""Publish to shops (Editors and Admins).

Products come from the Products selection, the Product editor or the New product page
(`st.session_state["publish_product_ids"]`), or are searched here. "Check what will be sent"
runs `syncstore.sync.publish.publish_preview`: per shop and product, every change with the
exact fields it sends, and every thing still missing, each saying what to do (map the category,
set a mandatory attribute, choose a logistics channel or warehouse). "Publish" runs
`publish.publish` shop by shop with a progress bar, then shows per shop what was created, what
waits for the platform's review, and what failed with the platform's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from streamlit_app import shop_calls, ui
from streamlit_app.i18n import N_, t, tn, tv
from streamlit_app.shop_names import shop_title, title_of
from syncstore.catalog import reads as catalog_reads
from syncstore.publishing import logistics
from syncstore.security.auth import Permission
from syncstore.shops import connections, marketplaces
from syncstore.sync import publish as publishing

PRODUCTS_KEY = "publish_product_ids"
PREVIEW_KEY = "publish_preview"
RESULTS_KEY = "publish_results"
# A shop connection's status, in words, when it is not connected.
CONNECTION_WORDS = (N_("connected"), N_("disconnected"), N_("expired"), N_("error"))


def _titles(product_ids: Sequence[int]) -> dict[int, str]:
    with ui.session() as session:
        return {p.id: p.title for p in (catalog_reads.get_product(session, pid) for pid in product_ids)}


def choose_products() -> list[int]:
    chosen: list[int] = [int(p) for p in st.session_state.get(PRODUCTS_KEY) or []]
    search = st.text_input(t("Add products"), placeholder=t("title, handle or SKU"), key="publish_search")
    if search.strip():
        with ui.session() as session:
            found = catalog_reads.product_rows(session, catalog_reads.ProductFilter(search=search), page_size=20).rows
        options = {row.id: f"{row.title} ({row.handle})" for row in found if row.id not in chosen}
        if options:
            pick = st.selectbox(t("Found"), list(options), format_func=options.__getitem__, key="publish_found")
            if st.button(t("Add"), key="publish_add") and pick is not None:
                chosen.append(int(pick))
                st.session_state[PRODUCTS_KEY] = chosen
                st.session_state.pop(PREVIEW_KEY, None)
                st.rerun()
        else:
            st.caption(t("No other product matches."))
    if not chosen:
        st.info(t("Choose products: select them on the Products page and press Publish to shops, or add them here."))
        return []
    try:
        titles = _titles(chosen)
    except Exception as error:
        ui.show_error(error)
        return []
    heading = tn("{n} product", "{n} products", len(chosen))
    st.markdown(f"**{ui.plain(heading)}**: " + ", ".join(f"#{pid} {ui.plain(titles.get(pid, '?'))}" for pid in chosen))
    if st.button(t("Clear the products"), key="publish_clear"):
        st.session_state.pop(PRODUCTS_KEY, None)
        st.session_state.pop(PREVIEW_KEY, None)
        st.rerun()
    return chosen


def choose_shops() -> list[int]:
    with ui.session() as session:
        shops = [(c.id, shop_title(c.platform, c.shop_name, c.shop_id), c.status)
                 for c in connections.list_connections(session)]  # fmt: skip
    if not shops:
        st.info(t("No shop is connected: connect one on the Connections page."))
        return []
    labels = {sid: title + ("" if status == "connected" else f" ({tv(status)})") for sid, title, status in shops}
    default = [sid for sid, _, status in shops if status == "connected"]
    picked = st.multiselect(t("Shops"), list(labels), default=default, format_func=labels.__getitem__,
                            key="publish_shops")  # fmt: skip
    return [int(s) for s in picked]


def _fetch_logistics_once(shop_ids: list[int]) -> None:
    """A shop whose channels and warehouses were never read: read them now (as a publish would), so the
    preview says what the shop really offers; nothing is chosen (Admins choose on Connections)."""
    actor = ui.current_actor()
    for shop_id in shop_ids:
        with ui.session() as session:
            known = logistics.shop_logistics(session, shop_id)
        if known.fetched_at is not None:
            continue
        try:
            with shop_calls.connector(shop_id) as connector:
                logistics.fetch_shop_logistics(ui.engine(), shop_id, connector, actor=actor)
        except Exception as error:  # the preview then says what is missing; named, never the payload
            st.warning(ui.plain(t("{shop}: its logistics channels and warehouses could not be read ({kind}).",
                                  shop=title_of(shop_id, known.shop_name), kind=type(error).__name__)))  # fmt: skip


def _preview(product_ids: list[int], shop_ids: list[int]) -> None:
    _fetch_logistics_once(shop_ids)
    try:
        previews = publishing.publish_preview(ui.engine(), product_ids, shop_ids)
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state[PREVIEW_KEY] = {"key": (tuple(product_ids), tuple(shop_ids)), "previews": previews}


def show_preview(previews: Sequence[publishing.ShopPreview]) -> bool:
    """Per shop: what each product sends and what is missing; returns whether anything can be sent."""
    sendable = False
    for shop in previews:
        counts = t("{ready} ready, {blocked} blocked", ready=shop.ready, blocked=shop.blocked)
        calls = tn("{n} API call", "{n} API calls", shop.api_calls)
        name = title_of(shop.connection_id, f"{ui.platform_label(shop.platform)} · {shop.shop_name}")
        header = f"{ui.plain(name)}: {counts}, {calls}"
        with st.expander(header, expanded=True, icon=":material/storefront:"):
            if not shop.connected:
                st.warning(t("This shop cannot be reached now (see Connections); nothing would be sent to it."))
            for product in shop.products:
                icon = ":green[:material/check_circle:]" if product.ready else ":red[:material/block:]"
                st.markdown(f"{icon} **#{product.product_id} {ui.plain(product.title)}**: {ui.plain(product.summary)}")
                for missing in product.missing:
                    st.error(ui.plain(missing), icon=":material/block:")
                sendable = sendable or bool(product.changes and product.ready)
                for change in product.changes:
                    target = change.sku or t("listing")
                    summary_col, detail_col = st.columns([5, 2])
                    summary_col.caption(ui.plain(request_summary(change.request)))
                    with detail_col.popover(t("{operation} · {target}: what is sent", operation=change.operation,
                                              target=target)):  # fmt: skip
                        st.json(ui.json_safe(change.request), expanded=True)
    return sendable


SUMMARY_SKIP = frozenset({"title", "description", "draft_key", "idempotency_key"})


def request_summary(request: Any) -> str:
    """One line of what a request sends: scalars as "field value", lists and objects as counts."""
    if not isinstance(request, dict):
        return str(request)[:200]
    parts: list[str] = []
    for field, value in request.items():
        if field in SUMMARY_SKIP or value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            parts.append(f"{len(value)} {field}")
        elif isinstance(value, dict):
            parts.append(f"{field} ({len(value)} fields)")
        else:
            parts.append(f"{field} {value}")
    return " · ".join(parts)[:400]


def _publish(product_ids: list[int], shop_ids: list[int]) -> None:
    actor = ui.current_actor()
    bar = st.progress(0.0, text=t("Publishing…"))

    def progress(step: publishing.ShopProgress) -> None:
        done = step.index if step.done else step.index - 1
        verb = t("done") if step.done else t("sending")
        text = tn("{shop}: {verb} ({done} of {n} shop)", "{shop}: {verb} ({done} of {n} shops)", step.total,
                  shop=title_of(step.connection_id, step.shop_name), verb=verb, done=done)  # fmt: skip
        bar.progress(done / max(step.total, 1), text=text)

    factory = marketplaces.connector_factory(ui.engine())
    try:
        with st.status(t("Publishing to the chosen shops…"), expanded=True) as status:
            results = publishing.publish(actor, ui.engine(), product_ids, shop_ids, factory, progress=progress)
            failed = any(not r.ok for r in results)
            status.update(label=t("Published.") if not failed else t("Published, with failures."),
                          state="error" if failed else "complete")  # fmt: skip
    except Exception as error:
        ui.show_error(error)
        return
    finally:
        factory.close()
    st.session_state[RESULTS_KEY] = [_result_row(r) for r in results]
    st.session_state.pop(PREVIEW_KEY, None)
    ui.after_write(t("Publish finished."))
    st.rerun()


def _result_row(result: publishing.PublishResult) -> dict[str, Any]:
    name = title_of(result.connection_id, f"{ui.platform_label(result.platform)} · {result.shop_name}")
    return {"shop": name, "ok": result.ok,
            "created": result.created, "in_review": result.in_review, "error": result.error,
            "failures": list(result.failures)}  # fmt: skip


def show_results(rows: Sequence[dict[str, Any]]) -> None:
    st.subheader(t("Results"))
    for row in rows:
        line = f"**{ui.plain(row['shop'])}**: " + t("{n} created", n=row["created"])
        if row["in_review"]:
            line += ", " + t(
                "{n} in review (the platform audits them; Products shows when they are live)", n=row["in_review"]
            )
        (st.success if row["ok"] else st.warning)(line)
        if row["error"]:
            st.error(ui.plain(row["error"]))
        for failure in row["failures"]:
            st.error(ui.plain(failure), icon=":material/error:")
    if any(not row["ok"] for row in rows):
        st.caption(t("Failed listings: Products page, sync status 'failed'; fix what they say and publish again."))


def main() -> None:
    ui.current_actor()
    st.title(t("Publish to shops"))
    if not ui.can(Permission.SYNC_RUN):
        ui.read_only_note(Permission.SYNC_RUN)
        return
    results = st.session_state.get(RESULTS_KEY)
    if results:
        show_results(results)
        st.divider()
    product_ids = choose_products()
    shop_ids = choose_shops()
    if not product_ids or not shop_ids:
        return
    if st.button(t("Check what will be sent"), icon=":material/fact_check:", key="publish_check"):
        st.session_state.pop(RESULTS_KEY, None)
        _preview(product_ids, shop_ids)
    checked = st.session_state.get(PREVIEW_KEY)
    if not checked or checked["key"] != (tuple(product_ids), tuple(shop_ids)):
        st.caption(t("Check first: nothing is sent until you publish."))
        return
    if not show_preview(checked["previews"]):
        st.warning(t("Nothing can be sent yet: fix what is missing above (or everything is already in sync)."))
        return
    if st.button(t("Publish"), type="primary", icon=":material/publish:", key="publish_go"):
        _publish(product_ids, shop_ids)


main()
