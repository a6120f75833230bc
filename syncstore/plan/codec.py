# A planned change as stored JSON and back: every field, tagged with its variant, Decimal money as text.
"""The stored form of planned changes (a persisted plan, a plan handed between processes).

`encode` gives `{"kind": <variant>, "change": {...every field...}}`; `decode` gives back an equal
change (same key, same Decimal values). Unlike `request()`, which is what the platform receives,
this keeps everything the handlers need (where the change lands, its issues, its key).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Final

from pydantic import TypeAdapter

from syncstore.plan.changes import (
    Activate,
    AddVariant,
    Adopt,
    Bind,
    CreateListing,
    Deactivate,
    JsonObject,
    PlannedChange,
    UpdateContent,
    UpdatePrice,
    UpdateStock,
)

VARIANTS: Final = (
    CreateListing, AddVariant, Bind, UpdatePrice, UpdateStock, UpdateContent, Activate, Deactivate, Adopt,
)  # fmt: skip
_ADAPTERS: Final = {variant.__name__: TypeAdapter(variant) for variant in VARIANTS}


def encode(change: PlannedChange) -> JsonObject:
    kind = type(change).__name__
    fields: JsonObject = _ADAPTERS[kind].dump_python(change, mode="json")
    return {"kind": kind, "change": fields}


def decode(data: JsonObject) -> PlannedChange:
    kind, fields = data.get("kind"), data.get("change")
    if not isinstance(kind, str) or kind not in _ADAPTERS or not isinstance(fields, dict):
        raise ValueError(f"not a stored planned change: kind {kind!r}")
    change = _ADAPTERS[kind].validate_python(fields)
    if not isinstance(change, VARIANTS):
        raise ValueError(f"not a stored planned change: {type(change).__name__}")
    if isinstance(change, Adopt) and change.field == "price" and isinstance(change.value, str):
        return replace(change, value=Decimal(change.value))  # stored as text, money again
    return change
