# The Import and export page: the catalog CSV (the CLI's format and row-level errors) from the browser.
"""Import and export.

Export: the whole catalog as the CSV of `syncstore catalog export` (everyone may download it).
Import (Editors and Admins): upload a CSV, "Check the file" lists every problem by line and
column (the same `RowError`s as `syncstore catalog import`) and what would be created; then
"Import". Strict mode imports nothing when any row is bad; otherwise the products with a bad row
are skipped and the rest imported. "Update existing products" (`syncstore.catalog.csv_update`)
turns rows whose handle is already in the catalog into updates, shown as old -> new before
anything is written, and applied only if those products are still at the version shown.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TextIO, cast

import streamlit as st

from streamlit_app import ui
from streamlit_app.i18n import t, tn, translate
from streamlit_app.import_words import import_summary, update_summary
from syncstore.catalog import csv_update
from syncstore.catalog.csv_format import CSV_COLUMNS, export_csv
from syncstore.catalog.importer import ImportReport, RowError, import_csv
from syncstore.errors import SyncStoreError
from syncstore.security.auth import Permission

CHECK_KEY = "csv_check"
RESULT_KEY = "csv_result"


def export_section() -> None:
    st.subheader(t("Export"))
    st.caption(
        t("Every product, one row per variant, in the import format (text cells safe to open in a spreadsheet).")
    )
    if st.button(t("Prepare the export"), icon=":material/download:", key="csv_export_prepare"):
        buffer = io.StringIO()
        try:
            with ui.session() as session:
                count = export_csv(session, buffer)
        except Exception as error:
            ui.show_error(error)
            return
        st.session_state["csv_export"] = (buffer.getvalue(), count)
    prepared = st.session_state.get("csv_export")
    if prepared:
        text, count = prepared
        st.download_button(tn("Download catalog.csv ({n} row)", "Download catalog.csv ({n} rows)", count),
                           text.encode("utf-8"), file_name="catalog.csv",
                           mime="text/csv", key="csv_export_download", icon=":material/file_download:")  # fmt: skip


def errors_table(errors: Sequence[RowError]) -> None:
    st.error(tn("{n} problem in the file:", "{n} problems in the file:", len(errors)), icon=":material/error:")
    st.dataframe(
        {"line": [e.line or None for e in errors], "column": [e.field for e in errors],
         "problem": [translate(e.problem) for e in errors]},
        hide_index=True, width="stretch", key="csv_errors",
        column_config={"line": st.column_config.NumberColumn(t("Line"), format="%d"),
                       "column": st.column_config.TextColumn(t("Column")),
                       "problem": st.column_config.TextColumn(t("Problem"))},
    )  # fmt: skip
    for error in errors[:20]:  # also as text, so they can be read and copied without the table
        st.markdown(f"- {ui.plain(problem_text(error))}")


def problem_text(error: RowError) -> str:
    """One problem as a line of text in the user's language; the column stays the CSV column's name."""
    problem = translate(error.problem)
    if not error.line:
        return t("{column}: {problem}", column=error.field, problem=problem)
    return t("line {line}, {column}: {problem}", line=error.line, column=error.field, problem=problem)


class _NamedBytes(io.BytesIO):
    """An uploaded file's bytes with its name (the report names the file as the CLI does)."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def _import(data: bytes, name: str, *, strict: bool, dry_run: bool) -> ImportReport:
    # import_csv reads bytes as well as text (it decodes them, spotting .xlsx and UTF-16 files as the CLI does).
    source = cast(TextIO, _NamedBytes(data, name))
    return import_csv(ui.current_actor(), ui.engine(), source, strict=strict, dry_run=dry_run)


def check(data: bytes, name: str, *, strict: bool, update: bool) -> None:
    """Read the file against the catalog, write nothing; the result is kept for the next run."""
    try:
        if update:
            with ui.session() as session:
                preview = csv_update.preview_csv_import(session, data, name)
            st.session_state[CHECK_KEY] = {"update": True, "preview": preview, "name": name, "strict": strict}
        else:
            report = _import(data, name, strict=strict, dry_run=True)
            st.session_state[CHECK_KEY] = {"update": False, "report": report, "name": name, "strict": strict}
    except Exception as error:
        ui.show_error(error)


def show_check(checked: dict[str, object], strict: bool) -> bool:
    """Show what the import would do; returns whether "Import" may be offered."""
    if checked.get("update"):
        preview = checked["preview"]
        assert isinstance(preview, csv_update.CsvImportPreview)
        st.info(ui.plain(update_summary(preview, applied=False)), icon=":material/fact_check:")
        if preview.errors:
            errors_table(preview.errors)
        if preview.updates:
            changes = tn(
                "Changes to {n} existing product (old -> new)",
                "Changes to {n} existing products (old -> new)",
                len(preview.updates),
            )
            st.markdown(f"**{ui.plain(changes)}**")
            st.dataframe(csv_update.change_rows(preview.updates), hide_index=True, width="stretch", key="csv_changes")
        return not (strict and preview.errors) and bool(preview.creates or preview.updates)
    report = checked["report"]
    assert isinstance(report, ImportReport)
    st.info(ui.plain(import_summary(report)), icon=":material/fact_check:")
    if report.errors:
        errors_table(report.errors)
    return not (strict and report.errors) and report.products_created > 0


def apply(data: bytes, name: str, checked: dict[str, object], strict: bool) -> None:
    try:
        if checked.get("update"):
            preview = checked["preview"]
            assert isinstance(preview, csv_update.CsvImportPreview)
            done = csv_update.apply_csv_import(ui.current_actor(), ui.engine(), data, source=name, strict=strict,
                                               expected_versions=preview.versions)  # fmt: skip
            message = update_summary(done, applied=True)
        else:
            with st.status(t("Importing…"), expanded=False) as status:
                report = _import(data, name, strict=strict, dry_run=False)
                status.update(label=import_summary(report), state="complete" if report.committed else "error")
            if not report.committed:
                st.session_state[RESULT_KEY] = ("error", import_summary(report), list(report.errors))
                return
            message = import_summary(report)
    except SyncStoreError as error:
        st.session_state[RESULT_KEY] = ("error", ui.error_text(error), [])
        return
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state.pop(CHECK_KEY, None)
    st.session_state[RESULT_KEY] = ("success", message, [])
    ui.after_write(message)


def import_section() -> None:
    st.subheader(t("Import"))
    if not ui.can(Permission.CATALOG_WRITE):
        ui.read_only_note(Permission.CATALOG_WRITE)
        return
    st.caption(t("Columns: {columns}. Rows sharing a handle are one product.", columns=", ".join(CSV_COLUMNS)))
    upload = st.file_uploader(t("Catalog CSV"), type=["csv"], key="csv_upload")
    strict_col, update_col = st.columns(2)
    strict = strict_col.toggle(t("Strict: import nothing if any row is bad"), value=True, key="csv_strict")
    update = update_col.toggle(t("Update existing products (same handle)"), value=False, key="csv_update")
    result = st.session_state.get(RESULT_KEY)
    if result:
        kind, message, errors = result
        (st.success if kind == "success" else st.error)(ui.plain(message))
        if errors:
            errors_table(errors)
    if upload is None:
        st.session_state.pop(CHECK_KEY, None)
        return
    data, name = upload.getvalue(), upload.name
    if st.button(t("Check the file"), icon=":material/fact_check:", key="csv_check_button"):
        st.session_state.pop(RESULT_KEY, None)
        check(data, name, strict=strict, update=update)
    checked = st.session_state.get(CHECK_KEY)
    if not checked or checked.get("name") != name or checked.get("update") != update:
        st.caption(t("Check the file first: nothing is written until you import."))
        return
    if not show_check(checked, strict):
        st.warning(
            t("Nothing to import: strict mode imports nothing until every row is fixed.")
            if strict else t("Nothing to import: no product in the file can be imported."),
            icon=":material/block:",
        )  # fmt: skip
        return
    if st.button(t("Import"), type="primary", icon=":material/upload:", key="csv_apply"):
        apply(data, name, checked, strict)
        st.rerun()


def main() -> None:
    ui.current_actor()
    st.title(t("Import and export"))
    import_section()
    st.divider()
    export_section()


main()
