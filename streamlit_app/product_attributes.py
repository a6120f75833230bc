# The Product editor's attribute section: a product's own values for its platform categories' attributes.
"""Per platform: the attributes of the platform category the product's master category maps to,
with the category's default shown as a hint; a value set here wins over the default for this
product (`syncstore.publishing.attributes.set_product_attribute_values`), an emptied one falls back
to it. An unmapped category says where to map it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from streamlit_app import ui
from streamlit_app.attribute_inputs import attribute_inputs, show_field_errors
from streamlit_app.i18n import t
from syncstore.db.models import MasterProduct
from syncstore.errors import InvalidInput
from syncstore.publishing import mappings
from syncstore.publishing.attributes import AttributeValue, product_values, set_product_attribute_values
from syncstore.publishing.cache import AttributeView

ERRORS_KEY = "editor_attribute_errors"


def _platform(product: MasterProduct, platform: str, can_write: bool) -> None:
    label = ui.platform_label(platform)
    with ui.session() as session:
        mapping = mappings.get_category_mapping(session, platform, product.category or "")
        attributes = mappings.attributes_for_product(session, product.id, platform)
        own = product_values(session, [product.id], platform).get(product.id, {})
    if mapping is None:
        st.info(t("{platform}: the category {category} is not mapped; map it on the Categories page.", platform=label,
                  category=ui.plain(product.category)))  # fmt: skip
        return
    if not attributes:
        st.caption(t("{platform}: category {category} has no attributes to set (or they are not fetched yet: open "
                     "the category on the Categories page).", platform=label,
                     category=ui.code_span(mapping.remote_category_id)))  # fmt: skip
        return
    names = {a.attribute_id: a for a in attributes}
    hints = {aid: t("Category default: {value}", value=value.describe(names.get(aid)))
             for aid, value in mapping.defaults.items()}  # fmt: skip
    key = f"attrs_{product.id}_{platform}"
    if not can_write:
        for attribute in attributes:
            value = own.get(attribute.attribute_id) or mapping.defaults.get(attribute.attribute_id)
            st.markdown(f"**{ui.plain(attribute.name)}**: {ui.plain(value.describe(attribute) if value else '—')}")
        return
    with st.form(key):
        st.caption(t("{platform} · category {category}: empty means the category default.", platform=label,
                     category=ui.code_span(mapping.remote_category_id)))  # fmt: skip
        values = attribute_inputs(attributes, own, key=key, hints=hints)
        errors = st.session_state.get(ERRORS_KEY) or {}
        if errors.get("key") == key:
            show_field_errors(errors["errors"], attributes)
        if st.form_submit_button(t("Save {platform} attributes", platform=label)):
            _save(product.id, platform, values, attributes, key)


def _save(
    product_id: int,
    platform: str,
    values: Mapping[str, AttributeValue | None],
    attributes: Sequence[AttributeView],
    key: str,
) -> None:
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            set_product_attribute_values(actor, session, product_id, platform, values, attributes)
    except InvalidInput as error:
        st.session_state[ERRORS_KEY] = {"key": key, "errors": ui.field_errors(error)}
        st.rerun()
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state.pop(ERRORS_KEY, None)
    ui.after_write(t("Attributes saved."))
    st.rerun()


def section(product: MasterProduct, can_write: bool) -> None:
    for platform in ui.platform_names():
        st.markdown(f"#### {ui.plain(ui.platform_label(platform))}")
        try:
            _platform(product, platform, can_write)
        except Exception as error:
            ui.show_error(error)
