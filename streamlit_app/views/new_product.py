# The New product page: master fields, variants from options, images from URLs or files, then create.
"""New product (Editors and Admins).

Variants are generated from up to two options (e.g. Colour: Red, Blue x Size: S, M) with SKUs
from a prefix, then edited in a table (SKU, price, stock). Images come from URLs or uploaded
files (stored once by content hash in `syncstore.media`), with previews. "Create" calls
`syncstore.catalog.commands.create_product`: every problem comes back at once, per field and per
variant row, and nothing is written until all are fixed. The new product is listed on no shop
until it is published ("Publish to shops").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from streamlit_app import ui
from streamlit_app.i18n import t, tn
from streamlit_app.product_form import Option, product_input, variant_labels, variant_rows
from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.errors import InvalidInput
from syncstore.security.auth import Permission
from syncstore.settings import get_settings

ERRORS_KEY = "new_product_errors"
CREATED_KEY = "new_product_created"
NEW_CATEGORY = "New category…"  # the choice that asks for a name (shown translated)
IMAGE_TYPES = ("jpg", "jpeg", "png", "webp")
FIELD_PREFIX = "new_"  # every widget of the form; the page's own state keys start with "new_product_"


@ui.cached_read()
def _categories(url: str) -> list[str]:
    with ui.session() as session:
        return catalog_reads.categories(session)


def _category_label(choice: str) -> str:
    return t("New category…") if choice == NEW_CATEGORY else choice


def _error(errors: Mapping[str, str], *fields: str) -> None:
    for field in fields:
        if field in errors:
            st.error(ui.plain(errors[field]), icon=":material/error:")


def master_fields(errors: Mapping[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    fields["title"] = st.text_input(t("Title"), key="new_title")
    _error(errors, "title")
    fields["description"] = st.text_area(t("Description"), height=120, key="new_description")
    _error(errors, "description")
    category_col, brand_col, handle_col = st.columns(3)
    with category_col:
        known = _categories(ui.database_url())
        choice = st.selectbox(t("Category"), [NEW_CATEGORY, *known], index=None, key="new_category_choice",
                              format_func=_category_label, placeholder=t("Choose or create a category"))  # fmt: skip
        if choice == NEW_CATEGORY:
            fields["category"] = st.text_input(t("New category name"), key="new_category_name")
        else:
            fields["category"] = choice or ""
        _error(errors, "category")
    with brand_col:
        fields["brand"] = st.text_input(t("Brand"), key="new_brand")
        _error(errors, "brand")
    with handle_col:
        fields["handle"] = st.text_input(t("Handle (empty: the first SKU)"), key="new_handle")
        _error(errors, "handle")
    price_col, currency_col, weight_col, length_col, width_col, height_col = st.columns(6)
    with price_col:
        fields["base_price"] = st.text_input(t("Base price"), key="new_base_price", placeholder="19.90")
        _error(errors, "base_price")
    with currency_col:
        fields["currency"] = st.text_input(t("Currency"), get_settings().currency, key="new_currency")
        _error(errors, "currency")
    measures = (
        (weight_col, "weight_kg", t("Weight (kg)")),
        (length_col, "length_cm", t("Length (cm)")),
        (width_col, "width_cm", t("Width (cm)")),
        (height_col, "height_cm", t("Height (cm)")),
    )
    for column, field, label in measures:
        with column:
            fields[field] = st.text_input(label, key=f"new_{field}")
            _error(errors, field)
    _error(errors, "dimensions")
    return fields


def variants_section(errors: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Options -> generated rows -> the table as edited; returns the rows and the option names."""
    st.subheader(t("Variants"))
    st.caption(t("Up to two options; each combination of their values is a variant. Leave them empty for one variant."))
    options: list[Option] = []
    for number in (1, 2):
        name_col, values_col = st.columns([1, 3])
        name = name_col.text_input(t("Option {number} name", number=number), key=f"new_option{number}_name",
                                   placeholder=t("Colour") if number == 1 else t("Size"))  # fmt: skip
        values = values_col.text_input(t("Option {number} values (comma separated)", number=number),
                                       key=f"new_option{number}_values",
                                       placeholder=t("Red, Blue") if number == 1 else "S, M, L")  # fmt: skip
        option = Option.parse(name, values)
        if option is not None:
            options.append(option)
    prefix_col, stock_col, _ = st.columns([2, 1, 3])
    prefix = prefix_col.text_input(t("SKU prefix"), key="new_sku_prefix", placeholder="TEE")
    stock = stock_col.number_input(t("Stock of each"), min_value=0, value=0, step=1, key="new_default_stock")
    generated = variant_rows(options, sku_prefix=prefix, stock=int(stock))
    option_names = [o.name for o in options]
    columns: dict[str, Any] = {
        **{f"option:{name}": st.column_config.TextColumn(name, disabled=True) for name in option_names},
        "sku": st.column_config.TextColumn(t("SKU"), required=True),
        "price": st.column_config.TextColumn(t("Price (empty: base price)")),
        "stock": st.column_config.NumberColumn(t("Stock"), min_value=0, step=1, format="%d"),
    }
    # A new set of options is a new table (the edits of the old one no longer apply).
    signature = abs(hash((tuple(options), prefix, int(stock)))) % 10**8
    edited = st.data_editor(generated, column_config=columns, hide_index=True, num_rows="fixed",
                            key=f"new_variants_{signature}", width="stretch")  # fmt: skip
    rows = list(edited)
    labels = variant_labels(rows)
    for key, message in errors.items():
        if key.startswith("variants"):
            parts = key.split(".")
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            where = labels[index] if index is not None and index < len(labels) else t("variants")
            field = ".".join(parts[2:]) or t("variants")
            st.error(t("Variant {row}, **{field}**: {message}", row=ui.plain(where), field=ui.plain(field),
                       message=ui.plain(message)), icon=":material/error:")  # fmt: skip
    return rows, option_names


def _store_uploads(files: Sequence[Any]) -> list[str]:
    """Image references of uploaded files (kept once by content hash in syncstore.media)."""
    from syncstore.media import store as media

    return [media.store_file(ui.engine(), upload.getvalue(), upload.name).ref for upload in files]


def images_section(errors: Mapping[str, str]) -> tuple[list[str], list[Any]]:
    st.subheader(t("Images"))
    urls_text = st.text_area(t("Image URLs (one per line; the first is the cover)"), key="new_image_urls",
                             height=80)  # fmt: skip
    urls = [line.strip() for line in urls_text.splitlines() if line.strip()]
    files = st.file_uploader(t("Or upload images (JPEG, PNG, WebP)"), type=list(IMAGE_TYPES),
                             accept_multiple_files=True, key="new_image_files") or []  # fmt: skip
    previews: list[tuple[Any, str]] = [(url, t("URL {n}", n=n)) for n, url in enumerate(urls, start=1)]
    previews += [(f.getvalue(), ui.plain(f.name)) for f in files]
    if previews:
        columns = st.columns(min(len(previews), 6))
        for index, (image, caption) in enumerate(previews):
            with columns[index % len(columns)]:
                try:
                    st.image(image, caption=caption, width=120)
                except Exception:  # a URL the browser cannot show is still checked on create
                    st.caption(t("{caption}: no preview", caption=caption))
    _error(errors, *sorted(k for k in errors if k == "images" or k.startswith("images.")))
    return urls, list(files)


def create(data: dict[str, Any], files: Sequence[Any]) -> None:
    actor = ui.current_actor()
    try:
        if files:
            data = {**data, "images": [*data["images"], *_store_uploads(files)]}
        with ui.session() as session:
            product = catalog.create_product(actor, session, data)
            created = (product.id, product.title)
    except InvalidInput as error:
        st.session_state[ERRORS_KEY] = ui.field_errors(error)
        st.rerun()
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state.pop(ERRORS_KEY, None)
    clear_form()
    st.session_state[CREATED_KEY] = created
    ui.after_write(t("Created {title}.", title=created[1]))
    st.rerun()


def clear_form() -> None:
    """Every field back to empty for the next product (the created one is named above the form)."""
    fields = [key for key in st.session_state if str(key).startswith(FIELD_PREFIX)]
    for key in [key for key in fields if not str(key).startswith("new_product_") and key != "new_open_editor"]:
        del st.session_state[key]


def created_note() -> None:
    created = st.session_state.get(CREATED_KEY)
    if not created:
        return
    product_id, title = created
    st.success(t("Created **{title}** (#{id}). It is on no shop yet.", title=ui.plain(title), id=product_id),
               icon=":material/check_circle:")  # fmt: skip
    open_col, publish_col, _ = st.columns([2, 2, 6])
    if open_col.button(t("Open in editor"), key="new_open_editor", icon=":material/edit:"):
        st.session_state.pop(CREATED_KEY, None)
        ui.open_editor(int(product_id))
    if publish_col.button(t("Publish to shops"), key="new_publish", icon=":material/publish:"):
        st.session_state.pop(CREATED_KEY, None)
        st.session_state["publish_product_ids"] = [int(product_id)]
        st.switch_page("views/publish.py")


def main() -> None:
    ui.current_actor()
    st.title(t("New product"))
    if not ui.can(Permission.CATALOG_WRITE):
        ui.read_only_note(Permission.CATALOG_WRITE)
        return
    created_note()
    errors: dict[str, str] = st.session_state.get(ERRORS_KEY) or {}
    if errors:
        st.error(
            tn("Not created: {n} problem to fix (marked below).", "Not created: {n} problems to fix (marked below).",
               len(errors))
        )  # fmt: skip
    fields = master_fields(errors)
    rows, option_names = variants_section(errors)
    urls, files = images_section(errors)
    if st.button(t("Create product"), type="primary", icon=":material/add_circle:", key="new_create"):
        create(product_input(fields, rows, urls, option_names), files)


main()
