# Data files shipped inside the syncstore package (the sample catalog CSV) and how to find them.
"""Packaged data.

`sample_catalog.csv` is a realistic Malaysian-marketplace catalog (Fashion, Electronics, Beauty,
Home & Living) in the import format of `syncstore.catalog.importer`, written by
`python -m syncstore.data.generate_sample`.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_CATALOG_NAME = "sample_catalog.csv"


def sample_catalog_path() -> Path:
    """Where the packaged sample catalog CSV is, in a checkout or an installed package."""
    return Path(__file__).resolve().parent / SAMPLE_CATALOG_NAME
