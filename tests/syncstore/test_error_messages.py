# Core errors as template + parameters: str() stays the filled English text the CLI, API and logs show.
from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, Field, ValidationError

from syncstore.catalog.schema import ProductInput
from syncstore.errors import (
    InvalidInput,
    InvalidValue,
    NotFoundError,
    PermissionDenied,
    VersionConflict,
    field_errors,
    field_messages,
    joined,
    msg,
)
from syncstore.shops.oauth import OAuthError


def test_str_is_the_english_text_with_the_parameters_filled_in() -> None:
    error = NotFoundError("product {product_id} not found", product_id=42)
    assert str(error) == "product 42 not found"
    assert (error.template, error.params) == ("product {product_id} not found", {"product_id": 42})
    assert str(PermissionDenied("sign in first")) == "sign in first"
    assert PermissionDenied("sign in first").params == {}
    # Conversions and format specs work as in an f-string; braces in a parameter are kept as they are.
    assert str(NotFoundError("no master SKU {text!r}", text="{x}")) == "no master SKU '{x}'"
    assert str(OAuthError("code_rejected", "{platform} refused: {text}", platform="p", text="t")) == "p refused: t"


def test_version_conflict_keeps_its_fields_and_its_english_text() -> None:
    error = VersionConflict("product", 7, 1, 2)
    assert (error.entity, error.entity_id, error.expected, error.current) == ("product", 7, 1, 2)
    assert str(error) == (
        "product 7 was changed by someone else (you edited version 1, it is now at version 2); "
        "reload it and apply your change again"
    )
    assert error.params["entity"] == "product"


def test_invalid_input_keeps_english_errors_and_a_template_per_field() -> None:
    error = InvalidInput({"price": msg("must be at most {limit}", limit=10), "name": "cannot be empty"})
    assert error.errors == {"price": "must be at most 10", "name": "cannot be empty"}
    assert str(error) == "invalid input (2 fields): price: must be at most 10; name: cannot be empty"
    assert error.messages["price"].template == "must be at most {limit}"
    assert dict(error.messages["price"].params) == {"limit": 10}
    assert error.messages["name"].template == "cannot be empty"
    both = joined([msg("a {x}", x=1), msg("b")])
    assert str(both) == "a 1; b"


class _Priced(BaseModel):
    price: Decimal = Field(gt=0)
    name: str = Field(min_length=1, max_length=3)
    count: int


def test_pydantic_messages_become_templates_that_reproduce_pydantics_text() -> None:
    with pytest.raises(ValidationError) as caught:
        _Priced.model_validate({"price": "-1", "name": "four"})
    messages = field_messages(caught.value)
    assert messages["price"].template == "Input should be greater than {gt}"
    assert str(messages["price"]) == "Input should be greater than 0"
    assert messages["name"].template == "String should have at most {max_length} characters"
    assert messages["count"].template == "Field required"
    # The English text is pydantic's own, unchanged.
    assert field_errors(caught.value) == {item["loc"][0]: item["msg"] for item in caught.value.errors()}


def test_our_validators_messages_keep_their_template() -> None:
    variant = {"sku": "TEE-1", "name": "Red", "price": "10.00", "stock": 1}
    with pytest.raises(ValidationError) as caught:
        ProductInput.model_validate(
            {"title": "Tee", "handle": "tee", "category": "Tops", "base_price": "10.00", "variants": [variant, variant]}
        )
    error = InvalidInput.from_exception(caught.value)
    (message,) = error.messages.values()
    assert message.template == "SKU {sku} appears twice in this product"
    assert str(message) == "SKU TEE-1 appears twice in this product"
    assert next(iter(error.errors.values())) == "SKU TEE-1 appears twice in this product"
    assert str(InvalidValue("must be one of {choices}", choices="a, b")) == "must be one of a, b"
