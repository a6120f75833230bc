# The Product editor page: master fields, variants and stock, bundles, platform overrides, and the sync preview.
"""Product editor.

The product travels in `?product=<id>` (and `st.session_state["product_id"]`). The form saves
only the fields that changed, naming the version it was opened at: someone else's save in
between is a VersionConflict, shown with a way to reload, and nothing is written. "Preview these
edits" (next to Save; the Preview sync tab too) previews the UNSAVED form without saving it
(`syncstore.plan.edit_preview.preview_edit`): per shop, each field as the shop has it now and as it
would become, the listing actions, the changes the platform would refuse and the API calls; after a
save the preview shows the saved product (`streamlit_app.sync_preview`). Previous/Next walk the
catalog by product number, and "Open another product" searches title, handle and SKU in SQL
(`streamlit_app.product_picker`).

The Bundle tab makes a variant a bundle of other SKUs with quantities (`syncstore.inventory.bundles`):
its available quantity is then computed from its components, so its own On hand is not edited here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import streamlit as st

from connectors import registry
from streamlit_app import product_attributes, product_picker, sync_preview, thumbnails, ui
from streamlit_app.i18n import t, tn, tv
from streamlit_app.shop_names import name_of, title_of
from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import ListingStatus, OverrideView
from syncstore.db.models import MasterProduct
from syncstore.errors import InvalidInput, SyncStoreError, VersionConflict
from syncstore.inventory import availability, bundles
from syncstore.inventory.bundles import Component
from syncstore.security.auth import Permission

ERRORS_KEY = "editor_errors"
CONFLICT_KEY = "editor_conflict"
DEFAULT_ATTRIBUTES = ("size", "colour")
BUNDLE_ERRORS_KEY = "bundle_errors"


# --- loading ---------------------------------------------------------------------------------


def _load(product_id: int) -> tuple[MasterProduct, list[ListingStatus], list[OverrideView]]:
    with ui.session() as session:
        product = catalog_reads.get_product(session, product_id)
        listings = catalog_reads.listing_statuses(session, [product_id]).get(product_id, [])
        overrides = catalog_reads.list_overrides(session, product_id)
    return product, listings, overrides


def _base_version_key(product_id: int) -> str:
    return f"editor_version_{product_id}"


def _base_version(product: MasterProduct) -> int:
    """The version this browser session opened the product at (kept across reruns until saved or reloaded)."""
    key = _base_version_key(product.id)
    if key not in st.session_state:
        st.session_state[key] = product.version
    return int(st.session_state[key])


def _reload(product_id: int) -> None:
    st.session_state.pop(_base_version_key(product_id), None)
    st.session_state.pop(ERRORS_KEY, None)
    st.session_state.pop(CONFLICT_KEY, None)


# --- the form --------------------------------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _field_error(errors: Mapping[str, str], *fields: str) -> None:
    for field in fields:
        if field in errors:
            st.error(ui.plain(errors[field]), icon=":material/error:")


def _decimal_or_none(text: str) -> Decimal | str | None:
    """Empty means none; anything else goes to syncstore as given, which says what is wrong with it."""
    text = text.strip()
    return text or None


def master_fields(product: MasterProduct, suffix: str, disabled: bool, errors: Mapping[str, str]) -> dict[str, Any]:
    """The master-field widgets; returns the values as entered."""
    values: dict[str, Any] = {}
    values["title"] = st.text_input(t("Title"), product.title, key=f"title{suffix}", disabled=disabled)
    _field_error(errors, "title")
    values["description"] = st.text_area(
        t("Description"), product.description, height=140, key=f"description{suffix}", disabled=disabled
    )
    _field_error(errors, "description")
    left, middle, right = st.columns(3)
    with left:
        values["category"] = st.text_input(t("Category"), product.category, key=f"category{suffix}", disabled=disabled)
        _field_error(errors, "category")
    with middle:
        values["brand"] = st.text_input(t("Brand"), product.brand, key=f"brand{suffix}", disabled=disabled)
        _field_error(errors, "brand")
    with right:
        status_options = ["active", "inactive"]
        index = status_options.index(product.status) if product.status in status_options else 0
        values["status"] = st.selectbox(
            t("Status"), status_options, format_func=tv, index=index, key=f"status{suffix}", disabled=disabled
        )
    price_col, weight_col, length_col, width_col, height_col = st.columns(5)
    with price_col:
        values["base_price"] = st.text_input(
            t("Base price ({currency})", currency=product.currency),
            _text(product.base_price),
            key=f"base_price{suffix}",
            disabled=disabled,
        )
        _field_error(errors, "base_price")
    for column, field, label in (
        (weight_col, "weight_kg", t("Weight (kg)")),
        (length_col, "length_cm", t("Length (cm)")),
        (width_col, "width_cm", t("Width (cm)")),
        (height_col, "height_cm", t("Height (cm)")),
    ):
        with column:
            values[field] = st.text_input(
                label, _text(getattr(product, field)), key=f"{field}{suffix}", disabled=disabled
            )
            _field_error(errors, field)
    _field_error(errors, "dimensions")
    images = st.text_area(
        t("Images (one URL per line; the first is the cover)"), "\n".join(product.images), height=100,
        key=f"images{suffix}", disabled=disabled,
    )  # fmt: skip
    values["images"] = [line.strip() for line in images.splitlines() if line.strip()]
    image_previews(list(product.images))
    _field_error(errors, *sorted(k for k in errors if k == "images" or k.startswith("images.")))
    return values


def image_previews(refs: Sequence[str]) -> None:
    """Small previews of the saved images (URLs as they are, uploaded files from the media store)."""
    shown = [(ref, src) for ref in refs[:8] if (src := thumbnails.src(ref))]
    if not shown:
        return
    for column, (ref, src) in zip(st.columns(8), shown, strict=False):
        with column:
            st.image(src, width=72, caption=t("cover") if ref == refs[0] else None)


def _attribute_names(product: MasterProduct) -> list[str]:
    names: list[str] = []
    for variant in product.variants:
        names.extend(name for name in variant.attributes if name not in names)
    return names or list(DEFAULT_ATTRIBUTES)


def _variant_rows(
    product: MasterProduct, attributes: Sequence[str], bundle_ids: frozenset[int] = frozenset()
) -> list[dict[str, Any]]:
    """One row per variant; a bundle's On hand is empty (it is computed from its components, not edited)."""
    return [
        {
            "id": variant.id,
            "sku": variant.sku,
            "name": variant.name,
            **{f"attr:{name}": variant.attributes.get(name, "") for name in attributes},
            "price": _text(variant.price),
            "stock": None if variant.id in bundle_ids else variant.stock,
            "reserved": variant.reserved,
            "low stock at": variant.low_stock_threshold,
            "barcode": variant.barcode or "",
            "active": variant.is_active,
        }
        for variant in product.variants
    ]


def variants_table(
    product: MasterProduct, suffix: str, disabled: bool, bundle_ids: frozenset[int] = frozenset()
) -> tuple[list[dict[str, Any]], list[str]]:
    attributes = _attribute_names(product)
    all_bundles = bool(product.variants) and all(variant.id in bundle_ids for variant in product.variants)
    columns: dict[str, Any] = {
        "id": st.column_config.NumberColumn(t("ID"), disabled=True, format="%d"),
        "sku": st.column_config.TextColumn(t("SKU"), required=True),
        "name": st.column_config.TextColumn(t("Name"), required=True),
        "price": st.column_config.TextColumn(t("Price (empty: base price)")),
        "stock": st.column_config.NumberColumn(
            t("On hand"),
            min_value=0,
            step=1,
            format="%d",
            disabled=all_bundles,
            help=t("Empty for a bundle: its available quantity is computed from its components (Bundle tab)"),
        ),
        "reserved": st.column_config.NumberColumn(t("Reserved"), disabled=True, format="%d"),
        "low stock at": st.column_config.NumberColumn(t("Low stock at"), min_value=0, step=1, format="%d"),
        "barcode": st.column_config.TextColumn(t("Barcode")),
        "active": st.column_config.CheckboxColumn(t("Active"), help=t("Untick to deactivate (it leaves every shop)")),
        **{f"attr:{name}": st.column_config.TextColumn(name.title()) for name in attributes},
    }
    if bundle_ids:
        skus = ", ".join(variant.sku for variant in product.variants if variant.id in bundle_ids)
        st.caption(tn("Bundle {skus}: no stock of its own (On hand is ignored and not saved); its available "
                      "quantity is computed from its components, see the Bundle tab.",
                      "Bundles {skus}: no stock of their own (On hand is ignored and not saved); their available "
                      "quantity is computed from their components, see the Bundle tab.",
                      len(bundle_ids), skus=ui.plain(skus)))  # fmt: skip
    edited = st.data_editor(
        _variant_rows(product, attributes, bundle_ids),
        column_config=columns,
        num_rows="fixed" if disabled else "add",
        disabled=disabled,
        hide_index=True,
        key=f"variants{suffix}",
        width="stretch",
    )
    return list(edited), attributes


def _number(value: Any) -> int | None:
    if value is None or value == "" or (isinstance(value, float) and value != value):  # NaN from an empty cell
        return None
    return int(value)


def _variant_patch(
    row: Mapping[str, Any], attributes: Sequence[str], original: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The changed fields of one variant row (all given fields for a new one)."""
    entered: dict[str, Any] = {
        "sku": _text(row.get("sku")).strip() or None,
        "name": _text(row.get("name")).strip() or None,
        "price": _decimal_or_none(_text(row.get("price"))),
        "stock": _number(row.get("stock")),
        "low_stock_threshold": _number(row.get("low stock at")),
        "barcode": _text(row.get("barcode")).strip() or None,
        "is_active": bool(row.get("active")) if row.get("active") is not None else True,
        "attributes": {name: _text(row.get(f"attr:{name}")).strip() for name in attributes
                       if _text(row.get(f"attr:{name}")).strip()},
    }  # fmt: skip
    if original is None:
        return {k: v for k, v in entered.items() if v is not None}
    before = {
        "sku": original["sku"], "name": original["name"], "price": original["price"] or None,
        "stock": original["stock"], "low_stock_threshold": original["low stock at"],
        "barcode": original["barcode"] or None, "is_active": original["active"],
        "attributes": {n: original[f"attr:{n}"] for n in attributes if original[f"attr:{n}"]},
    }  # fmt: skip
    changed = {k: v for k, v in entered.items() if v != before[k]}
    if "stock" in changed and changed["stock"] is None:
        changed["stock"] = 0
    return changed


def build_changes(
    product: MasterProduct,
    values: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    attributes: Sequence[str],
    bundle_ids: frozenset[int] = frozenset(),
) -> tuple[dict[str, Any], list[str]]:
    """The patch for catalog.update_product, and a label per variant patch (for its errors)."""
    current = {
        "title": product.title, "description": product.description, "category": product.category,
        "brand": product.brand, "status": product.status, "base_price": _text(product.base_price),
        "weight_kg": _text(product.weight_kg), "length_cm": _text(product.length_cm),
        "width_cm": _text(product.width_cm), "height_cm": _text(product.height_cm), "images": list(product.images),
    }  # fmt: skip
    changes: dict[str, Any] = {}
    for field, value in values.items():
        if value == current[field]:
            continue
        if field in {"base_price", "weight_kg", "length_cm", "width_cm", "height_cm"}:
            value = _decimal_or_none(str(value))
        changes[field] = value
    originals = {row["id"]: row for row in _variant_rows(product, attributes, bundle_ids)}
    patches: list[dict[str, Any]] = []
    labels: list[str] = []
    for number, row in enumerate(rows, start=1):
        raw_id = _number(row.get("id"))
        original = originals.get(raw_id) if raw_id is not None else None
        patch = _variant_patch(row, attributes, original)
        if raw_id in bundle_ids:
            patch.pop("stock", None)  # a bundle has no stock of its own
        if original is not None and not patch:
            continue
        if raw_id is not None:
            patch["id"] = raw_id
        patches.append(patch)
        labels.append(t("row {number} ({sku})", number=number, sku=row.get("sku") or t("new variant")))
    if patches:
        changes["variants"] = patches
    return changes, labels


def _variant_errors(errors: Mapping[str, str], labels: Sequence[str]) -> None:
    for key, message in errors.items():
        if not key.startswith("variants."):
            continue
        parts = key.split(".")
        index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        label = labels[index] if index is not None and index < len(labels) else t("variants")
        field = ".".join(parts[2:]) or t("variant")
        st.error(t("Variant {row}, **{field}**: {message}", row=ui.plain(label), field=ui.plain(field),
                   message=ui.plain(message)), icon=":material/error:")  # fmt: skip


def save(product: MasterProduct, base_version: int, changes: Mapping[str, Any], labels: Sequence[str]) -> None:
    """Save through syncstore; field errors and a concurrent edit are kept for the next run to show."""
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            saved = catalog.update_product(actor, session, product.id, expected_version=base_version, changes=changes)
            new_version = saved.version
    except InvalidInput as error:
        errors = ui.field_errors(error)
        st.session_state[ERRORS_KEY] = {"product_id": product.id, "errors": errors, "labels": list(labels)}
        st.rerun()
    except VersionConflict as error:
        who = ui.changed_by("product", product.id)
        message = t(
            "this product was changed by {who} since you opened it (you opened version {expected}, it is now at "
            "version {current}); reload it and apply your change again",
            who=who, expected=error.expected, current=error.current,
        )  # fmt: skip
        st.session_state[CONFLICT_KEY] = {"product_id": product.id, "message": message}
        st.rerun()
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state.pop(ERRORS_KEY, None)
    st.session_state[_base_version_key(product.id)] = new_version
    st.session_state[sync_preview.PREVIEW_KEY] = product.id  # the preview refreshes: what the saved product sends
    ui.after_write(t("Saved {title} (version {version}).", title=product.title, version=new_version))
    st.rerun()


def edit_form(
    product: MasterProduct, base_version: int, can_write: bool, bundle_ids: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """The fields and variants; returns the edits as they stand now (not saved), {} when there are none.

    No st.form: the entered values are live, so the sync preview always shows the form as it is now.
    """
    suffix = f"-{product.id}-{base_version}"
    saved_errors = st.session_state.get(ERRORS_KEY) or {}
    if saved_errors.get("product_id") != product.id:
        saved_errors = {}
    errors: dict[str, str] = saved_errors.get("errors", {})
    if errors:
        st.error(tn("Not saved: {n} problem to fix (marked below).", "Not saved: {n} problems to fix (marked below).",
                    len(errors)))  # fmt: skip
    if not can_write:
        ui.read_only_note(Permission.CATALOG_WRITE)
        master_fields(product, suffix, True, {})
        st.subheader(t("Variants and stock"))
        variants_table(product, suffix, True, bundle_ids)
        return {}
    values = master_fields(product, suffix, False, errors)
    st.subheader(t("Variants and stock"))
    st.caption(t("Edit cells, add a row for a new variant, untick Active to deactivate one."))
    rows, attributes = variants_table(product, suffix, False, bundle_ids)
    _variant_errors(errors, saved_errors.get("labels", []))
    changes, labels = build_changes(product, values, rows, attributes, bundle_ids)
    save_col, preview_col, _ = st.columns([1, 2, 5])
    submitted = save_col.button(t("Save"), type="primary", icon=":material/save:", key="editor_save")
    if preview_col.button(t("Preview these edits"), icon=":material/preview:", key="editor_preview_edits",
                          help=t("What each shop would get if you saved now; nothing is saved")):  # fmt: skip
        st.session_state[sync_preview.PREVIEW_KEY] = product.id
    if submitted:
        if not changes:
            st.info(t("Nothing changed."))
        else:
            save(product, base_version, changes, labels)
    return changes


# --- bundles ---------------------------------------------------------------------------------


def bundle_limit(parts: Sequence[Component], available: Mapping[int, int]) -> tuple[int, str | None]:
    """How many bundles the components make (the least of available // quantity) and the SKU that limits it."""
    if not parts:
        return 0, None
    made = {part.sku: max(available.get(part.variant_id, 0), 0) // part.quantity for part in parts}
    limiting = min(made, key=made.__getitem__)
    return made[limiting], limiting


def _bundle_ids(product: MasterProduct) -> frozenset[int]:
    with ui.session() as session:
        return frozenset(bundles.components(session, [variant.id for variant in product.variants]))


def _draft_key(variant_id: int) -> str:
    return f"bundle_draft_{variant_id}"


def _saved_bundle(variant_id: int) -> tuple[list[Component], dict[int, int], list[int]]:
    """The variant's components, the available of each (and of the bundle), and the bundles it is part of."""
    with ui.session() as session:
        parts = bundles.components(session, [variant_id]).get(variant_id, [])
        available = availability.available_totals(session, [variant_id, *(part.variant_id for part in parts)])
        containing = bundles.bundles_containing(session, [variant_id]).get(variant_id, [])
    return parts, available, containing


def bundle_section(product: MasterProduct, can_write: bool) -> None:
    """Make a variant a bundle of other SKUs: add by SKU with a quantity, remove, save (checked by syncstore)."""
    variants = {variant.id: variant.sku for variant in product.variants}
    if not variants:
        st.caption(t("This product has no variant."))
        return
    variant_id = int(st.selectbox(t("Variant"), list(variants), format_func=variants.__getitem__, key="bundle_variant")
                     or next(iter(variants)))  # fmt: skip
    parts, available, containing = _saved_bundle(variant_id)
    if parts:
        made, limiting = bundle_limit(parts, available)
        st.markdown(t("{badge} Available as a bundle: **{made}** (limited by {sku})", badge=ui.badge(t("bundle"),
                      "violet"), made=made, sku=ui.plain(limiting)))  # fmt: skip
        st.caption(t("A bundle has no stock of its own: selling one reserves and ships its components."))
    else:
        st.caption(
            t("{sku} is a plain variant. Add components to make it a bundle.", sku=ui.plain(variants[variant_id]))
        )
    if containing:
        st.info(tn("{sku} is a component of {n} bundle: it cannot itself be a bundle.",
                   "{sku} is a component of {n} bundles: it cannot itself be a bundle.", len(containing),
                   sku=ui.plain(variants[variant_id])))  # fmt: skip
    if not can_write:
        if parts:
            st.dataframe({t("Component"): [p.sku for p in parts], t("Quantity"): [p.quantity for p in parts]},
                         hide_index=True, key="bundle_components")  # fmt: skip
        ui.read_only_note(Permission.CATALOG_WRITE)
        return
    key = _draft_key(variant_id)
    draft: list[list[Any]] = st.session_state.setdefault(key, [[part.sku, part.quantity] for part in parts])
    by_sku = {part.sku.lower(): part.variant_id for part in parts}
    for index, (sku, quantity) in enumerate(draft):
        sku_col, quantity_col, available_col, remove_col = st.columns([3, 1, 2, 1])
        sku_col.markdown(ui.code_span(sku))
        quantity_col.markdown(t("quantity {quantity}", quantity=quantity))
        known = by_sku.get(str(sku).lower())
        available_col.caption("" if known is None else t("{n} available", n=available.get(known, 0)))
        if remove_col.button(t("Remove"), key=f"bundle_remove_{variant_id}_{index}"):
            draft.pop(index)
            st.rerun()
    with st.form(f"bundle_add_{variant_id}", clear_on_submit=True):
        sku_col, quantity_col = st.columns([3, 1])
        new_sku = sku_col.text_input(t("Component SKU"), key=f"bundle_sku_{variant_id}")
        new_quantity = quantity_col.number_input(t("Quantity"), min_value=1, value=1, step=1,
                                                 key=f"bundle_quantity_{variant_id}")  # fmt: skip
        if st.form_submit_button(t("Add component")) and new_sku.strip():
            others = [entry for entry in draft if str(entry[0]).lower() != new_sku.strip().lower()]
            st.session_state[key] = [*others, [new_sku.strip(), int(new_quantity)]]
            st.rerun()
    errors = st.session_state.get(BUNDLE_ERRORS_KEY) or {}
    if errors.get("variant_id") == variant_id:
        for field, message in errors["errors"].items():
            st.error(t("Not saved: **{field}**: {message}", field=ui.plain(field), message=ui.plain(message)),
                     icon=":material/error:")  # fmt: skip
    if st.button(t("Save bundle"), type="primary", key=f"bundle_save_{variant_id}"):
        _save_bundle(variant_id, [(str(sku), int(quantity)) for sku, quantity in draft])


def _save_bundle(variant_id: int, draft: Sequence[tuple[str, int]]) -> None:
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            saved = bundles.set_components(actor, session, variant_id, list(draft))
    except InvalidInput as error:
        st.session_state[BUNDLE_ERRORS_KEY] = {"variant_id": variant_id, "errors": ui.field_errors(error)}
        st.rerun()
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state.pop(BUNDLE_ERRORS_KEY, None)
    st.session_state.pop(_draft_key(variant_id), None)
    ui.after_write(tn("Bundle saved: {n} component.", "Bundle saved: {n} components.", len(saved)) if saved
                   else t("It is a plain variant again."))  # fmt: skip
    st.rerun()


# --- overrides -------------------------------------------------------------------------------


def overrides_section(product: MasterProduct, overrides: Sequence[OverrideView], can_write: bool) -> None:
    st.caption(t("A platform override replaces the master value on every shop of that platform."))
    skus = {variant.id: variant.sku for variant in product.variants}
    if overrides:
        for override in overrides:
            scope = (
                t("variant {sku}", sku=skus.get(override.variant_id, override.variant_id))
                if override.variant_id
                else t("product")
            )
            text_col, button_col = st.columns([6, 1])
            text_col.markdown(
                t("{badge} **{field}** ({scope}) = {value} · by {who}",
                  badge=ui.badge(ui.platform_label(override.platform), "blue"), field=ui.plain(tv(override.field)),
                  scope=ui.plain(scope), value=ui.code_span(override.value),
                  who=ui.plain(override.updated_by or t("unknown")))
            )  # fmt: skip
            if can_write and button_col.button(t("Remove"), key=f"override_delete_{override.id}"):
                _remove_override(override.id)
    else:
        st.caption(t("No overrides: every shop gets the master values."))
    if not can_write:
        return
    value_key = f"override_value_{product.id}"
    with st.form(f"override_form_{product.id}"):
        platform_col, field_col, scope_col = st.columns(3)
        platforms: list[str] = list(registry.names())
        platform = platform_col.selectbox(t("Platform"), platforms, format_func=ui.platform_label)
        field = field_col.selectbox(t("Field"), list(catalog.OVERRIDE_FIELDS), format_func=tv)
        scope_options: list[int | None] = [None, *skus]
        variant_id = scope_col.selectbox(
            t("Applies to"),
            scope_options,
            format_func=lambda v: t("whole product") if v is None else t("variant {sku}", sku=skus[v]),
        )
        value = st.text_area(t("Value (images: one URL per line)"), key=value_key)
        if st.form_submit_button(t("Set override")):
            parsed: Any = [line.strip() for line in value.splitlines() if line.strip()] if field == "images" else value

            def set_override(actor: Any, session: Any) -> None:
                catalog.set_override(actor, session, product.id, platform=str(platform), field=str(field),
                                     value=parsed, variant_id=variant_id)  # fmt: skip
                st.session_state.pop(value_key, None)  # saved: the form is empty for the next one

            ui.write(set_override, t("Override saved."))


def _remove_override(override_id: int) -> None:
    ui.write(lambda actor, session: catalog.delete_override(actor, session, override_id), t("Override removed."))


# --- archive or delete -----------------------------------------------------------------------


def _on_each_shop(listings: Sequence[ListingStatus], what: str) -> None:
    if not listings:
        st.caption(t("This product is listed on no shop: nothing changes on any marketplace."))
        return
    for listing in listings:
        st.markdown(
            "- "
            + t(
                "{badge} **{shop}** (listing {item}, now {status}): {what}",
                badge=ui.badge(ui.platform_label(listing.platform), "blue"),
                shop=ui.plain(name_of(listing.connection_id, listing.shop_name)),
                item=ui.code_span(listing.remote_item_id),
                status=ui.plain(listing.remote_status),
                what=what,
            )
        )


def lifecycle_section(product: MasterProduct, listings: Sequence[ListingStatus], base_version: int) -> None:
    """Archive (inactive) or delete the product, each explained per shop and confirmed first."""
    if product.status == "deleted":
        st.info(t("This product is deleted: it is no longer synced and cannot be restored from the app."))
        return
    archived = product.status == "inactive"
    st.markdown("#### " + (t("Restore") if archived else t("Archive")))
    if archived:
        st.caption(t("The product is archived. Restoring makes it active: each shop lists it again at the next sync."))
        _on_each_shop(listings, t("listed again (activated) at the next sync"))
        if st.button(t("Restore (set active)"), key="editor_restore"):
            _set_status(product, base_version, "active", t("Restored {title}.", title=product.title))
    else:
        st.caption(
            t("Archiving keeps the product in the catalog as inactive. At the next sync each shop's listing is "
              "deactivated (unlisted, kept on the marketplace with its reviews), and listed again when you restore "
              "it.")
        )  # fmt: skip
        _on_each_shop(listings, t("deactivated (unlisted) at the next sync"))
        sure = st.checkbox(t("I understand: buyers can no longer order it on these shops"), key="editor_archive_sure")
        if st.button(t("Archive"), key="editor_archive", disabled=not sure):
            _set_status(product, base_version, "inactive", t("Archived {title}.", title=product.title))
    st.markdown("#### " + t("Delete"))
    st.caption(
        t("Deleting removes the product from the catalog for good: it is no longer shown, synced or exported; its "
          "history, sync logs and audit stay. At the next sync each shop's listing is deactivated (unlisted, not "
          "deleted on the marketplace). Its handle and SKUs stay reserved. This cannot be undone from the app.")
    )  # fmt: skip
    _on_each_shop(listings, t("deactivated (unlisted) at the next sync; SyncStore stops syncing it"))
    typed = st.text_input(t("Type the handle ({handle}) to confirm", handle=ui.plain(product.handle)),
                          key="editor_delete_confirm")  # fmt: skip
    if st.button(t("Delete product"), type="primary", key="editor_delete", disabled=typed.strip() != product.handle):
        actor = ui.current_actor()
        try:
            with ui.session() as session:
                catalog.delete_product(actor, session, product.id, expected_version=base_version)
        except Exception as error:
            ui.show_error(error)
            return
        _reload(product.id)
        ui.after_write(t("Deleted {title}.", title=product.title))
        st.rerun()


def _set_status(product: MasterProduct, base_version: int, status: str, message: str) -> None:
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            saved = catalog.update_product(
                actor, session, product.id, expected_version=base_version, changes={"status": status}
            )
            version = saved.version
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state[_base_version_key(product.id)] = version
    ui.after_write(message)
    st.rerun()


# --- the page --------------------------------------------------------------------------------


def header(product: MasterProduct, listings: Sequence[ListingStatus], base_version: int) -> None:
    st.title(t("Product editor"))
    st.subheader(ui.plain(product.title))
    badges = [ui.badge(product.status)]
    for listing in listings:
        platform = ui.platform_label(listing.platform)
        status = tv(listing.sync_status.replace("_", " "))
        shop = name_of(listing.connection_id, listing.shop_name or platform)
        badges.append(ui.badge(f"{shop} · {status}",
                               ui.STATUS_COLOURS.get(listing.sync_status)))  # fmt: skip
    if not listings:
        badges.append(ui.badge(t("not listed"), ui.STATUS_COLOURS["not listed"]))
    st.markdown(" ".join(badges))
    synced = [x.last_synced_at for x in listings if x.last_synced_at]
    st.caption(
        t("#{id} · {handle} · version {version} · updated {updated} · last synced {synced}", id=product.id,
          handle=ui.plain(product.handle), version=base_version, updated=ui.when(product.updated_at),
          synced=ui.when(max(synced) if synced else None))
    )  # fmt: skip
    for listing in listings:
        if listing.last_error:
            shop = title_of(listing.connection_id, listing.shop_name)
            st.warning(t("{shop}: last sync failed: {error}", shop=ui.plain(shop),
                         error=ui.plain(listing.last_error)))  # fmt: skip


def main() -> None:
    ui.current_actor()
    product_id = ui.selected_product_id()
    if product_id is None:
        st.title(t("Product editor"))
        product_picker.picker()
        return
    try:
        product, listings, overrides = _load(product_id)
    except SyncStoreError as error:  # not found, or the database is down: shown, never raised
        st.title(t("Product editor"))
        ui.show_error(error)
        product_picker.picker()
        return
    base_version = _base_version(product)
    header(product, listings, base_version)
    product_picker.neighbours(product.id)
    with st.expander(t("Open another product"), icon=":material/search:"):
        product_picker.picker(product_id)
    conflict = st.session_state.get(CONFLICT_KEY) or {}
    if conflict.get("product_id") == product.id:
        st.error(t("Not saved: {reason}", reason=ui.plain(conflict["message"])), icon=":material/sync_problem:")
        if st.button(t("Reload the latest version (your unsaved edits are dropped)"), key="editor_reload"):
            _reload(product.id)
            st.rerun()
    can_write = ui.can(Permission.CATALOG_WRITE)
    bundle_ids = _bundle_ids(product)
    edit_tab, bundle_tab, overrides_tab, attributes_tab, preview_tab, lifecycle_tab = st.tabs(
        [t("Details, variants and stock"), t("Bundle"), t("Platform overrides"), t("Platform attributes"),
         t("Preview sync"), t("Archive or delete")]
    )  # fmt: skip
    with edit_tab:
        changes = edit_form(product, base_version, can_write, bundle_ids)
        preview = sync_preview.compute(product.id, changes) if sync_preview.is_on(product.id) else None
        if preview is not None:
            st.subheader(t("Sync preview: what a save would send"))
            sync_preview.render(preview, True, "form")
        if st.button(t("Stock adjustments with a reason: open Inventory"), key="editor_inventory"):
            st.switch_page("views/inventory.py")
        if ui.can(Permission.SYNC_RUN) and st.button(t("Publish to shops"), key="editor_publish"):
            st.session_state["publish_product_ids"] = [product.id]
            st.session_state.pop("publish_preview", None)
            st.switch_page("views/publish.py")
    with bundle_tab:
        bundle_section(product, can_write)
    with overrides_tab:
        overrides_section(product, overrides, can_write)
    with attributes_tab:
        product_attributes.section(product, can_write)
    with preview_tab:
        st.caption(t("What each shop would receive if you saved the form as it is now (your unsaved edits "
                     "included). Nothing is saved or sent from here."))  # fmt: skip
        if preview is None and st.button(t("Preview sync"), key="editor_preview_button"):
            st.session_state[sync_preview.PREVIEW_KEY] = product.id
            preview = sync_preview.compute(product.id, changes)
        if preview is not None:
            sync_preview.render(preview, True, "tab")
    with lifecycle_tab:
        if can_write:
            lifecycle_section(product, listings, base_version)
        else:
            ui.read_only_note(Permission.CATALOG_WRITE)


main()
