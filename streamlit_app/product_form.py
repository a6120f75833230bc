# Pure helpers of the New product page: variants from option values, and the create_product input.
"""What the New product page turns its widgets into (no Streamlit here, so tests call it directly).

    rows = variant_rows([Option("Colour", ["Red", "Blue"])], sku_prefix="TEE", stock=5)
    data = product_input(fields, rows, images)   # a dict for syncstore.catalog.commands.create_product

Variants are the combinations of up to two options' values (Shopee's and TikTok Shop's
variation tiers), in the order given; each gets a SKU made from the prefix and its values,
which the merchant may edit before creating.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamlit_app.i18n import t

MAX_OPTIONS = 2
MAX_VARIANTS = 200
_SKU_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class Option:
    """One variation option: its name ("Colour") and values ("Red", "Blue")."""

    name: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, name: str, values: str) -> Option | None:
        """An option from a name and comma-separated values; None when either is blank."""
        parts = tuple(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
        return cls(name.strip(), parts) if name.strip() and parts else None


def _sku_part(value: str) -> str:
    return _SKU_UNSAFE.sub("-", value.strip()).strip("-").upper()[:20] or "X"


def variant_rows(options: Sequence[Option], *, sku_prefix: str, stock: int = 0) -> list[dict[str, Any]]:
    """One row per combination of option values (one "Default" row without options).

    Each row: "option:<name>" per option, "sku", "price" ("" = base price), "stock".
    """
    prefix = _sku_part(sku_prefix) if sku_prefix.strip() else "SKU"
    chosen = list(options)[:MAX_OPTIONS]
    if not chosen:
        return [{"sku": prefix, "price": "", "stock": stock}]
    rows: list[dict[str, Any]] = []
    for combination in itertools.islice(itertools.product(*(o.values for o in chosen)), MAX_VARIANTS):
        row: dict[str, Any] = {f"option:{o.name}": value for o, value in zip(chosen, combination, strict=True)}
        row["sku"] = "-".join([prefix, *(_sku_part(value) for value in combination)])
        row["price"] = ""
        row["stock"] = stock
        rows.append(row)
    return rows


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def _variant(row: Mapping[str, Any], option_names: Sequence[str]) -> dict[str, Any]:
    attributes = {name: str(row[f"option:{name}"]).strip() for name in option_names
                  if not _blank(row.get(f"option:{name}"))}  # fmt: skip
    variant: dict[str, Any] = {
        "sku": "" if _blank(row.get("sku")) else str(row["sku"]).strip(),
        "name": " / ".join(attributes.values()) or "Default",
        "attributes": attributes,
    }
    if not _blank(row.get("price")):
        variant["price"] = str(row["price"]).strip()
    if not _blank(row.get("stock")):
        variant["stock"] = int(float(row["stock"]))
    return variant


def product_input(
    fields: Mapping[str, str], rows: Sequence[Mapping[str, Any]], images: Sequence[str], option_names: Sequence[str]
) -> dict[str, Any]:
    """The input of `create_product`: entered text as given (syncstore validates it), blanks left out."""
    data: dict[str, Any] = {}
    for name in ("handle", "title", "description", "category", "brand", "base_price", "currency",
                 "weight_kg", "length_cm", "width_cm", "height_cm"):  # fmt: skip
        value = fields.get(name, "")
        if value is not None and str(value).strip():
            data[name] = str(value).strip()
    data["images"] = [image for image in images if image.strip()]
    data["variants"] = [_variant(row, option_names) for row in rows]
    return data


def variant_labels(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """A label per variant row, for showing `variants.<n>.<field>` errors ("row 2 (TEE-RED)")."""
    return [t("row {number} ({sku})", number=n, sku="" if _blank(row.get("sku")) else row["sku"])
            for n, row in enumerate(rows, start=1)]  # fmt: skip
