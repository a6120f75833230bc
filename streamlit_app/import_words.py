# The one-line outcome of a CSV import or update, in the user's language (the core's summary() is the CLI's English).
"""Import summaries for the Import and export page, with plurals through the catalogue."""

from __future__ import annotations

from streamlit_app.i18n import t, tn
from syncstore.catalog.csv_update import CsvImportPreview
from syncstore.catalog.importer import ImportReport


def _errors(count: int) -> str:
    return tn("{n} error", "{n} errors", count)


def import_summary(report: ImportReport) -> str:
    """ "catalog.csv: 12 rows, would import 3 products (5 variants), 1 error"."""
    products = tn("{n} product", "{n} products", report.products_created)
    variants = tn("{n} variant", "{n} variants", report.variants_created)
    if report.dry_run:
        outcome = t("would import {products} ({variants})", products=products, variants=variants)
    elif report.committed:
        outcome = t("imported {products} ({variants})", products=products, variants=variants)
    else:
        outcome = t("nothing imported")
    parts = [tn("{n} row", "{n} rows", report.rows), outcome]
    if report.skipped_products:
        parts.append(tn("{n} product with errors", "{n} products with errors", len(report.skipped_products)))
    if report.errors:
        parts.append(_errors(len(report.errors)))
    return f"{report.source}: " + ", ".join(parts)


def update_summary(preview: CsvImportPreview, *, applied: bool) -> str:
    """ "catalog.csv: 12 rows: 3 products to create (5 variants), 2 to update, 1 skipped"."""
    variants = tn("{n} variant", "{n} variants", preview.new_variants)
    creates, updates = len(preview.creates), len(preview.updates)
    if applied:
        parts = [
            tn("{n} product created ({variants})", "{n} products created ({variants})", creates, variants=variants),
            tn("{n} updated", "{n} updated", updates),
        ]
    else:
        parts = [
            tn("{n} product to create ({variants})", "{n} products to create ({variants})", creates, variants=variants),
            tn("{n} to update", "{n} to update", updates),
        ]
    if preview.unchanged:
        parts.append(tn("{n} unchanged", "{n} unchanged", len(preview.unchanged)))
    if preview.skipped:
        parts.append(tn("{n} skipped", "{n} skipped", len(preview.skipped)))
    if preview.errors:
        parts.append(_errors(len(preview.errors)))
    return f"{preview.source}: " + tn("{n} row", "{n} rows", preview.rows) + ": " + ", ".join(parts)
