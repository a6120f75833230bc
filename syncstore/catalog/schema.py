# Validation of master-catalog input, shared by the app, the CLI and the importer.
"""What a valid product and variant look like.

Every rule a merchant can break is here, so the editor, `syncstore catalog import` and the API
report the same messages. Marketplace-specific limits (title length per platform, image count)
are checked later, in the sync dry run, because they differ per channel.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    UrlConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from syncstore.errors import InvalidValue

MAX_PRICE = Decimal("9999999999.99")
MAX_STOCK = 9_999_999


def _two_decimals(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidValue("must have at most 2 decimal places")
    return value


def _three_decimals(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -3:  # type: ignore[operator]
        raise InvalidValue("must have at most 3 decimal places")
    return value


Price = Annotated[Decimal, Field(gt=0, le=MAX_PRICE, allow_inf_nan=False), AfterValidator(_two_decimals)]
WeightKg = Annotated[Decimal, Field(gt=0, le=1000, allow_inf_nan=False), AfterValidator(_three_decimals)]
Centimetres = Annotated[Decimal, Field(gt=0, le=1000, allow_inf_nan=False), AfterValidator(_three_decimals)]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^\S+$")]
Handle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
# The image column holds 1,000 characters; longer links are refused here, not by the database.
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(Annotated[HttpUrl, UrlConstraints(max_length=1000)])
_MEDIA_REF = re.compile(r"^media:[0-9a-f]{64}$")


def _image_ref(value: object) -> str:
    """An http(s) URL (normalized as pydantic does), or `media:<sha256>`: an image stored by syncstore.media."""
    if isinstance(value, str) and value.strip().lower().startswith("media:"):
        ref = value.strip().lower()
        if not _MEDIA_REF.match(ref):
            raise InvalidValue("a media reference is media: followed by the image's 64-digit SHA-256")
        return ref
    try:
        return str(_HTTP_URL.validate_python(value))
    except ValidationError as error:
        raise ValueError(error.errors()[0]["msg"]) from None


ImageUrl = Annotated[str, PlainValidator(_image_ref), WithJsonSchema({"type": "string", "maxLength": 1000})]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Dimensions(_Strict):
    """Parcel dimensions: marketplaces need the full box, so all three or none."""

    length_cm: Centimetres | None = None
    width_cm: Centimetres | None = None
    height_cm: Centimetres | None = None


class VariantInput(_Strict):
    """A new variant (SKU) of a product."""

    sku: Sku
    name: Name
    price: Price | None = Field(default=None, description="Empty means the product's base price.")
    stock: Stock = 0
    attributes: dict[str, str] = Field(default_factory=dict, max_length=5)
    barcode: str | None = Field(default=None, max_length=64)
    image_url: ImageUrl | None = None
    weight_kg: WeightKg | None = None
    low_stock_threshold: Stock | None = None
    is_active: bool = True


class VariantPatch(_Strict):
    """A change to an existing variant (`id` set), or a new one (no `id`: sku and name required)."""

    id: int | None = None
    sku: Sku | None = None
    name: Name | None = None
    price: Price | None = None
    stock: Stock | None = None
    attributes: dict[str, str] | None = Field(default=None, max_length=5)
    barcode: str | None = Field(default=None, max_length=64)
    image_url: ImageUrl | None = None
    weight_kg: WeightKg | None = None
    low_stock_threshold: Stock | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _new_needs_identity(self) -> VariantPatch:
        if self.id is None and (self.sku is None or self.name is None):
            raise InvalidValue("a new variant needs a sku and a name")
        return self


class ProductInput(_Dimensions):
    """A new product with at least one variant."""

    handle: Handle | None = Field(default=None, description="Stable key; defaults to the first SKU.")
    title: Title
    description: str = Field(default="", max_length=20_000)
    category: Category
    brand: str = Field(default="", max_length=100)
    base_price: Price
    currency: Currency | None = None
    weight_kg: WeightKg | None = None
    images: list[ImageUrl] = Field(default_factory=list, max_length=20)
    tags: list[Tag] = Field(default_factory=list, max_length=30)
    status: Literal["active", "inactive"] = "active"
    variants: list[VariantInput] = Field(min_length=1, max_length=200)
    height_cm: Centimetres | None = Field(default=None, validate_default=True)

    # A field validator, not a model validator, so this error is reported with the others.
    @field_validator("height_cm", mode="after")
    @classmethod
    def _all_or_none(cls, height: Decimal | None, info: ValidationInfo) -> Decimal | None:
        given = [info.data.get("length_cm"), info.data.get("width_cm"), height]
        if any(v is not None for v in given) and any(v is None for v in given):
            raise InvalidValue("length_cm, width_cm and height_cm must be given together")
        return height

    @model_validator(mode="after")
    def _unique_skus(self) -> ProductInput:
        seen: set[str] = set()
        for variant in self.variants:
            if variant.sku.lower() in seen:
                raise InvalidValue("SKU {sku} appears twice in this product", sku=variant.sku)
            seen.add(variant.sku.lower())
        return self


class ProductPatch(_Dimensions):
    """A change to a product: only the fields given are changed."""

    handle: Handle | None = None
    title: Title | None = None
    description: str | None = Field(default=None, max_length=20_000)
    category: Category | None = None
    brand: str | None = Field(default=None, max_length=100)
    base_price: Price | None = None
    currency: Currency | None = None
    weight_kg: WeightKg | None = None
    images: list[ImageUrl] | None = Field(default=None, max_length=20)
    tags: list[Tag] | None = Field(default=None, max_length=30)
    status: Literal["active", "inactive"] | None = None
    variants: list[VariantPatch] | None = Field(default=None, max_length=200)

    def changed_fields(self) -> dict[str, Any]:
        """The product-level fields the caller set (variants excluded)."""
        return {k: v for k, v in self.model_dump(exclude_unset=True, exclude={"variants"}).items()}
