# Exception classes the service layer raises; faces (CLI, app, receiver) turn them into messages.
"""SyncStoreError's explicit errors. None of them ever carries a secret.

Every message is a literal English template with `{named}` placeholders and its parameters:

    raise NotFoundError("product {product_id} not found", product_id=product_id)
    raise InvalidInput({"price": msg("must be at most {limit}", limit=limit)})

`str(error)` is the English text with the parameters filled in (the CLI, the API and the logs show it);
the app shows `error.template` translated into the user's language, filled from `error.params`
(`streamlit_app.i18n.translate`). Templates must be literal strings, so the catalogue check can find them.
Parameters named in VOCABULARY_PARAMS hold a word of a vocabulary ("product", "failed") that the app
translates too; every other parameter is shown as it is (ids, names, numbers, a user's text).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

# Parameters whose values are vocabulary words (entity names, statuses, roles), translated where shown.
VOCABULARY_PARAMS = frozenset({"entity", "status", "role"})


def fill(template: str, params: Mapping[str, Any]) -> str:
    """`template` with its `{placeholders}` filled from `params` (the template itself when it has none)."""
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):  # a placeholder with no parameter: show it as it is
        return template.format_map(_Keep(params))


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Message:
    """A message as a literal English template and its parameters; `str()` is the filled English text."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return fill(self.template, self.params)


def msg(template: str, /, **params: Any) -> Message:
    """A field message for InvalidInput: `msg("must be at most {limit}", limit=10)` (a literal template)."""
    return Message(template, params)


def joined(messages: Iterable[Message | str], separator: str = "; ") -> Message:
    """Several messages as one ("a; b"), each kept translatable: a template of numbered parts."""
    parts = [item if isinstance(item, Message) else Message(str(item)) for item in messages]
    if len(parts) == 1:
        return parts[0]
    template = separator.join(f"{{_part{i}}}" for i in range(len(parts)))
    return Message(template, {f"_part{i}": part for i, part in enumerate(parts)})


def as_message(value: Message | str) -> Message:
    return value if isinstance(value, Message) else Message(str(value))


class SyncStoreError(Exception):
    """Base of every error SyncStore raises on purpose: a literal template and its parameters."""

    def __init__(self, message: str = "", /, **params: Any) -> None:
        self.template = message
        self.params: dict[str, Any] = dict(params)
        super().__init__(fill(message, params))

    @property
    def message(self) -> Message:
        """The error's message as template and parameters."""
        return Message(self.template, self.params)


class PermissionDenied(SyncStoreError):
    """The actor's role does not allow this action."""


class NotFoundError(SyncStoreError):
    """The thing asked for does not exist."""


class VersionConflict(SyncStoreError):
    """Someone else saved this record since it was read; nothing was written."""

    def __init__(self, entity: str, entity_id: int, expected: int, current: int | None) -> None:
        self.entity, self.entity_id, self.expected, self.current = entity, entity_id, expected, current
        super().__init__(
            "{entity} {entity_id} was changed by someone else (you edited version {expected}, "
            "it is now at version {current}); reload it and apply your change again",
            entity=entity,
            entity_id=entity_id,
            expected=expected,
            current=current,
        )


class InvalidInput(SyncStoreError):
    """Input failed validation; `errors` maps each invalid field to what is wrong with it (English text),
    `messages` the same fields to their template and parameters (for showing in the user's language)."""

    def __init__(self, errors: Mapping[str, Message | str]) -> None:
        self.messages: dict[str, Message] = {name: as_message(value) for name, value in errors.items()}
        self.errors: dict[str, str] = {name: str(value) for name, value in self.messages.items()}
        detail = "; ".join(f"{name}: {text}" for name, text in self.errors.items())
        count = len(self.errors)
        Exception.__init__(self, f"invalid input ({count} field{'s' if count != 1 else ''}): {detail}")
        self.template, self.params = "", {}  # the app shows the fields' messages (and tn() for the count)

    @classmethod
    def from_exception(cls, error: Exception) -> InvalidInput:
        if isinstance(error, ValidationError):
            return cls(field_messages(error))
        return cls({"input": message_of(error)})


def message_of(error: BaseException) -> Message:
    """An exception's message as template and parameters (a plain exception: its text, as it is)."""
    template = getattr(error, "template", None)
    if isinstance(template, str):
        return Message(template, dict(getattr(error, "params", None) or {}))
    return Message(str(error))


class InvalidValue(ValueError):
    """What a pydantic validator of ours raises: a literal template and its parameters (shown translated)."""

    def __init__(self, message: str, /, **params: Any) -> None:
        self.template = message
        self.params = params
        super().__init__(fill(message, params))


# Pydantic's own messages of the common error types, as templates of its context (`ctx`). A message is
# kept translatable only when a template reproduces pydantic's text exactly; otherwise it stays English.
PYDANTIC_TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "missing": ("Field required",),
    "greater_than": ("Input should be greater than {gt}",),
    "greater_than_equal": ("Input should be greater than or equal to {ge}",),
    "less_than": ("Input should be less than {lt}",),
    "less_than_equal": ("Input should be less than or equal to {le}",),
    "string_too_short": (
        "String should have at least {min_length} character",
        "String should have at least {min_length} characters",
    ),
    "string_too_long": (
        "String should have at most {max_length} character",
        "String should have at most {max_length} characters",
    ),
    "too_short": (
        "List should have at least {min_length} item after validation, not {actual_length}",
        "List should have at least {min_length} items after validation, not {actual_length}",
    ),
    "too_long": (
        "List should have at most {max_length} item after validation, not {actual_length}",
        "List should have at most {max_length} items after validation, not {actual_length}",
    ),
    "string_pattern_mismatch": ("String should match pattern '{pattern}'",),
    "string_type": ("Input should be a valid string",),
    "int_type": ("Input should be a valid integer",),
    "int_parsing": ("Input should be a valid integer, unable to parse string as an integer",),
    "int_from_float": ("Input should be a valid integer, got a number with a fractional part",),
    "decimal_type": ("Decimal input should be an integer, float, string or Decimal object",),
    "decimal_parsing": ("Input should be a valid decimal",),
    "decimal_max_places": (
        "Decimal input should have no more than {decimal_places} decimal place",
        "Decimal input should have no more than {decimal_places} decimal places",
    ),
    "decimal_max_digits": (
        "Decimal input should have no more than {max_digits} digit in total",
        "Decimal input should have no more than {max_digits} digits in total",
    ),
    "decimal_whole_digits": (
        "Decimal input should have no more than {whole_digits} digit before the decimal point",
        "Decimal input should have no more than {whole_digits} digits before the decimal point",
    ),
    "finite_number": ("Input should be a finite number",),
    "bool_type": ("Input should be a valid boolean",),
    "bool_parsing": ("Input should be a valid boolean, unable to interpret input",),
    "float_type": ("Input should be a valid number",),
    "float_parsing": ("Input should be a valid number, unable to parse string as a number",),
    "dict_type": ("Input should be a valid dictionary",),
    "list_type": ("Input should be a valid list",),
    "extra_forbidden": ("Extra inputs are not permitted",),
    "literal_error": ("Input should be {expected}",),
    "enum": ("Input should be {expected}",),
    "url_parsing": ("Input should be a valid URL, {error}",),
    "url_scheme": ("URL scheme should be {expected_schemes}",),
    "datetime_parsing": ("Input should be a valid datetime, {error}",),
    "date_parsing": ("Input should be a valid date in the format YYYY-MM-DD, {error}",),
}


def _placeholder_names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def pydantic_message(item: Mapping[str, Any]) -> Message:
    """One pydantic error as a Message: our validators' templates, pydantic's common types, else its text."""
    text = str(item.get("msg", ""))
    context: Mapping[str, Any] = item.get("ctx") or {}
    if item.get("type") == "value_error":  # a validator's ValueError: its own message (an InvalidValue's template)
        cause = context.get("error")
        if isinstance(cause, BaseException):
            return message_of(cause)
        return Message(text.removeprefix("Value error, "))
    for template in PYDANTIC_TEMPLATES.get(str(item.get("type")), ()):
        params = {name: context[name] for name in _placeholder_names(template) if name in context}
        if fill(template, params) == text:
            return Message(template, params)
    return Message(text)


def field_messages(error: ValidationError, prefix: str = "") -> dict[str, Message]:
    """Pydantic errors as {"variants.1.price": Message("Input should be greater than {gt}", gt=0), ...}."""
    result: dict[str, Message] = {}
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "input"
        message = pydantic_message(item)
        key = f"{prefix}{location}"
        result[key] = joined([result[key], message]) if key in result else message
    return result


def field_errors(error: ValidationError, prefix: str = "") -> dict[str, str]:
    """Pydantic errors as {"variants.1.price": "must be greater than 0", ...} (English text)."""
    return {key: str(value) for key, value in field_messages(error, prefix).items()}
