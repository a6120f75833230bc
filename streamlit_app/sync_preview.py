# The Product editor's sync preview: what each shop would get from the form as it is now, as readable tables.
"""Sync preview of the Product editor.

`compute(product_id, changes)` plans the unsaved edits (`syncstore.plan.edit_preview.preview_edit`, nothing
is saved); `render(preview, ...)` shows the edits (saved -> entered), then per shop each field as the shop
has it now and as it would become, the listing actions, the changes the platform would refuse and the
API calls. `PREVIEW_KEY` holds the product whose preview is on: it then follows every edit and save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from streamlit_app import ui
from streamlit_app.i18n import N_, t, tn, tv
from syncstore.plan import edit_preview
from syncstore.plan.edit_preview import EditPreview, FieldChange

PREVIEW_KEY = "editor_preview"
# The fields a preview line names and the listing actions it shows, translated when shown.
FIELD_WORDS = (N_("price"), N_("stock"), N_("title"), N_("description"), N_("images"), N_("base price"),
               N_("on hand"), N_("SKU"), N_("active"), N_("category"), N_("status"), N_("yes"), N_("no"))  # fmt: skip
ACTION_WORDS = {"create": N_("new listing"), "activate": N_("list again"), "deactivate": N_("unlist"),
                "bind": N_("link SKU")}  # fmt: skip


# --- the sync preview ------------------------------------------------------------------------


def is_on(product_id: int) -> bool:
    """Whether the sync preview is on for this product (it then follows every edit and save)."""
    return st.session_state.get(PREVIEW_KEY) == product_id


def compute(product_id: int, changes: Mapping[str, Any]) -> EditPreview | None:
    """What each shop would get if `changes` were saved (None, with the reason shown, when it cannot be planned)."""
    try:
        return edit_preview.preview_edit(ui.engine(), product_id, changes)
    except Exception as error:  # shown, never raised: the editor stays usable
        ui.show_error(error)
        return None


def _line_rows(lines: Sequence[FieldChange], whole: str) -> dict[str, list[str]]:
    return {
        "sku": [line.sku or whole for line in lines],
        "field": [tv(line.field) for line in lines],
        "before": [_shown(line.before) for line in lines],
        "after": [_shown(line.after) for line in lines],
    }


def _shown(value: str) -> str:
    """A value for a table cell: empty as a dash, long text cut to a readable length."""
    if not value:
        return "—"
    return value if len(value) <= 80 else value[:77] + "..."


def _line_columns(before: str, after: str) -> dict[str, Any]:
    return {
        "sku": st.column_config.TextColumn(t("SKU"), width="medium"),
        "field": st.column_config.TextColumn(t("Field"), width="small"),
        "before": st.column_config.TextColumn(before, width="large"),
        "after": st.column_config.TextColumn(after, width="large"),
    }


def render(preview: EditPreview, unsaved: bool, where: str) -> None:
    """The preview as a person reads it: your edits, then per shop each field as it is there and as it would be."""
    if unsaved and preview.master:
        st.markdown("**" + t("Your unsaved edits") + "**")
        columns = _line_columns(t("Saved"), t("Entered"))
        st.dataframe(_line_rows(preview.master, t("whole product")), column_config=columns, hide_index=True,
                     key=f"preview_master_{where}")  # fmt: skip
    elif unsaved:
        st.caption(t("No edits yet: this is what the saved product would send."))
    for note in preview.ignored:
        st.warning(t("Not in this preview: {note}", note=ui.plain(note)), icon=":material/info:")
    if not preview.shops:
        st.info(t("No shop is connected: nothing would be sent. Connect a shop on the Connections page."))
        return
    for shop in preview.shops:
        changes = len(shop.lines) + len(shop.actions)
        label = t("{platform} · {shop}: {changes}, {calls}", platform=ui.platform_label(shop.platform),
                  shop=ui.plain(shop.shop_name), changes=tn("{n} change", "{n} changes", changes),
                  calls=tn("{n} API call", "{n} API calls", shop.api_calls))  # fmt: skip
        with st.expander(label, expanded=True):
            if shop.in_sync:
                st.success(t("In sync: nothing to send to this shop."))
            for action, target in shop.actions:
                st.markdown(ui.badge(tv(ACTION_WORDS.get(action, action)), "blue") + " " + ui.plain(target or ""))
            if shop.lines:
                columns = _line_columns(t("On the shop now"), t("Would become"))
                st.dataframe(_line_rows(shop.lines, t("whole listing")), column_config=columns, hide_index=True,
                             key=f"preview_{shop.connection_id}_{where}")  # fmt: skip
            for target, field, message in shop.issues:
                st.error(t("Would be refused: {target}, **{field}**: {message}", target=ui.plain(target),
                           field=ui.plain(tv(field)), message=ui.plain(message)), icon=":material/block:")  # fmt: skip
            if shop.conflicts:
                st.warning(tn("{n} conflict: changed on the marketplace too; see the Conflicts page.",
                              "{n} conflicts: changed on the marketplace too; see the Conflicts page.",
                              shop.conflicts))  # fmt: skip
