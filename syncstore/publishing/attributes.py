# Category attribute values: checked against the cached attributes, and a product's own values per platform.
"""Attribute values.

A value is `AttributeValue(value_ids, text)`: ids of the platform's allowed values, or free text
(numbers and dates are text). `check_values` holds values to a category's cached attributes and
raises `InvalidInput` with one field error per problem (`attributes.<id>`): an unknown attribute, a
value not allowed, a wrong type, an empty value. `set_product_attribute_values` stores a product's
own values for one platform; they win over the category mapping's defaults (`merged`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from syncstore.db.models import MasterProduct, ProductAttributeValue
from syncstore.errors import InvalidInput, Message, NotFoundError, msg
from syncstore.publishing.cache import AttributeView
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires


@dataclass(frozen=True)
class AttributeValue:
    """The value given to one attribute: allowed value ids, or text (numbers and dates as text)."""

    value_ids: tuple[str, ...] = ()
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"value_ids": list(self.value_ids), "text": self.text}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttributeValue:
        ids = data.get("value_ids") or []
        text = data.get("text")
        return cls(tuple(str(i) for i in ids), str(text) if text is not None else None)

    def describe(self, attribute: AttributeView | None = None) -> str:
        names = [attribute.value_name(v) if attribute else v for v in self.value_ids]
        return ", ".join([*names, *([self.text] if self.text else [])])


AttributeValues = dict[str, AttributeValue]


def values_from_json(data: Mapping[str, Any] | None) -> AttributeValues:
    return {str(key): AttributeValue.from_json(value) for key, value in (data or {}).items() if isinstance(value, dict)}


def values_to_json(values: Mapping[str, AttributeValue]) -> dict[str, Any]:
    return {key: value.to_json() for key, value in sorted(values.items())}


def _problem(attribute: AttributeView, value: AttributeValue) -> Message | None:
    text = (value.text or "").strip()
    if not value.value_ids and not text:
        return msg("give a value for {name!r}", name=attribute.name)
    allowed = {value_id for value_id, _ in attribute.values}
    unknown = [v for v in value.value_ids if v not in allowed]
    if unknown:
        return msg("{unknown!r} is not an allowed value of {name!r}", unknown=unknown[0], name=attribute.name)
    if attribute.input_type == "single_select" and len(value.value_ids) + (1 if text else 0) > 1:
        return msg("{name!r} takes one value", name=attribute.name)
    if text and attribute.values and not attribute.custom_allowed:
        choices = ", ".join(name for _, name in attribute.values[:10])
        return msg("{name!r} takes one of its values ({choices}), not free text", name=attribute.name, choices=choices)
    if text and attribute.input_type == "number":
        try:
            Decimal(text)
        except InvalidOperation:
            return msg("{name!r} is a number, not {text!r}", name=attribute.name, text=text)
    if text and attribute.input_type == "date" and not text.isdigit():
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return msg("{name!r} is a date (YYYY-MM-DD), not {text!r}", name=attribute.name, text=text)
    return None


def check_values(attributes: Sequence[AttributeView], values: Mapping[str, AttributeValue], category: str) -> None:
    """Raise InvalidInput (one `attributes.<id>` error per problem) unless every value fits its attribute."""
    known = {attribute.attribute_id: attribute for attribute in attributes}
    errors: dict[str, Message] = {}
    for attribute_id, value in values.items():
        attribute = known.get(attribute_id)
        if attribute is None:
            errors[f"attributes.{attribute_id}"] = msg(
                "category {category} has no attribute {attribute_id!r}", category=category, attribute_id=attribute_id
            )
        elif (problem := _problem(attribute, value)) is not None:
            errors[f"attributes.{attribute_id}"] = problem
    if errors:
        raise InvalidInput(errors)


def merged(defaults: Mapping[str, AttributeValue], overrides: Mapping[str, AttributeValue]) -> AttributeValues:
    """The category's default values with the product's own values winning, attribute by attribute."""
    return {**defaults, **overrides}


def product_values(session: Session, product_ids: Sequence[int], platform: str) -> dict[int, AttributeValues]:
    """Each product's own attribute values on a platform."""
    found: dict[int, AttributeValues] = {}
    if not product_ids:
        return found
    rows = session.scalars(
        sa.select(ProductAttributeValue).where(
            ProductAttributeValue.product_id.in_(list(product_ids)), ProductAttributeValue.platform == platform
        )
    )
    for row in rows:
        found.setdefault(row.product_id, {})[row.attribute_id] = AttributeValue(tuple(row.value_ids or ()), row.text)
    return found


@requires(Permission.CATALOG_WRITE)
def set_product_attribute_values(
    actor: Actor | None,
    session: Session,
    product_id: int,
    platform: str,
    values: Mapping[str, AttributeValue | None],
    attributes: Sequence[AttributeView] | None = None,
) -> AttributeValues:
    """Set (or with None, remove) a product's own values of a platform's attributes; answers all its values.

    `attributes` are the product's platform category's attributes (`syncstore.publishing.mappings.
    attributes_for_product` reads them); the values are checked against them when given.
    """
    if not registry.is_platform(platform):
        raise InvalidInput({"platform": msg("one of {choices}", choices=", ".join(registry.names()))})
    product = session.get(MasterProduct, product_id)
    if product is None:
        raise NotFoundError("product {product_id} not found", product_id=product_id)
    given = {key: value for key, value in values.items() if value is not None}
    if attributes is not None:
        check_values(attributes, given, f"{platform} category of {product.category!r}")
    before = values_to_json(product_values(session, [product_id], platform).get(product_id, {}))
    existing = {
        row.attribute_id: row
        for row in session.scalars(
            sa.select(ProductAttributeValue).where(
                ProductAttributeValue.product_id == product_id, ProductAttributeValue.platform == platform
            )
        )
    }
    for attribute_id, value in values.items():
        row = existing.get(attribute_id)
        if value is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = ProductAttributeValue(product_id=product_id, platform=platform, attribute_id=attribute_id)
            session.add(row)
        row.value_ids, row.text = list(value.value_ids), (value.text or None)
    session.flush()
    after = product_values(session, [product_id], platform).get(product_id, {})
    audit.record(session, actor, "product.attributes.set", "product", product_id,
                 before={"platform": platform, "values": before},
                 after={"platform": platform, "values": values_to_json(after)})  # fmt: skip
    return after
