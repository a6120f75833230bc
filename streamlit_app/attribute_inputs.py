# Widgets for a platform category's attributes: allowed values as a choice, free values as text.
"""Attribute inputs, shared by the Categories page (category defaults) and the Product editor (own values).

    values = attribute_inputs(attributes, current, key="cat-shopee-Mugs")
    # -> {attribute_id: AttributeValue | None}; None = no value (removes a product's own value)

A single-select attribute is a select box of its allowed values (plus "other" text where the
platform allows custom values); a multi-select one a multiselect; text, number and date ones a
text input (syncstore checks the type). Mandatory attributes come first and are marked with *.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from streamlit_app import ui
from streamlit_app.i18n import t
from syncstore.publishing.attributes import AttributeValue
from syncstore.publishing.cache import AttributeView

NONE = ""


def label(attribute: AttributeView) -> str:
    """The widget label: the platform's attribute name as text (labels render Markdown), * when mandatory."""
    mark = " \\*" if attribute.mandatory else ""
    return ui.plain(attribute.name) + mark


def _one(attribute: AttributeView, current: AttributeValue | None, key: str, hint: str) -> AttributeValue | None:
    names = dict(attribute.values)
    chosen_ids = list(current.value_ids) if current else []
    text = (current.text or "") if current else ""
    if attribute.values and attribute.input_type == "multi_select":
        picked = st.multiselect(label(attribute), list(names), default=[v for v in chosen_ids if v in names],
                                format_func=names.__getitem__, key=f"{key}-multi", help=hint)  # fmt: skip
        return AttributeValue(tuple(picked)) if picked else None
    if attribute.values:
        options = [NONE, *names]
        index = options.index(chosen_ids[0]) if chosen_ids and chosen_ids[0] in names else 0
        picked_one = st.selectbox(label(attribute), options, index=index, key=f"{key}-one", help=hint,
                                  format_func=lambda v: names.get(v, t("— none —")))  # fmt: skip
        if attribute.custom_allowed:
            other = st.text_input(
                t("{name}: or another value", name=ui.plain(attribute.name)), text, key=f"{key}-custom"
            )
            if other.strip():
                return AttributeValue((), other.strip())
        return AttributeValue((picked_one,)) if picked_one else None
    typed = st.text_input(label(attribute), text, key=f"{key}-text", help=hint,
                          placeholder=attribute.input_type)  # fmt: skip
    return AttributeValue((), typed.strip()) if typed.strip() else None


def attribute_inputs(
    attributes: Sequence[AttributeView],
    current: Mapping[str, AttributeValue],
    *,
    key: str,
    hints: Mapping[str, str] | None = None,
) -> dict[str, AttributeValue | None]:
    """One widget per attribute (two columns); returns each attribute's value as entered (None: none)."""
    values: dict[str, AttributeValue | None] = {}
    columns = st.columns(2)
    for index, attribute in enumerate(attributes):
        with columns[index % 2]:
            hint = (hints or {}).get(attribute.attribute_id, "")
            values[attribute.attribute_id] = _one(attribute, current.get(attribute.attribute_id), f"{key}-"
                                                  f"{attribute.attribute_id}", hint)  # fmt: skip
    return values


def show_field_errors(errors: Mapping[str, str], attributes: Sequence[AttributeView]) -> None:
    """`attributes.<id>` errors of InvalidInput, named by the attribute's name."""
    names = {a.attribute_id: a.name for a in attributes}
    for field, message in errors.items():
        attribute_id = field.removeprefix("attributes.")
        st.error(t("**{name}**: {message}", name=ui.plain(names.get(attribute_id, field)), message=ui.plain(message)),
                 icon=":material/error:")  # fmt: skip
