# Exception classes the service layer raises; faces (CLI, app, receiver) turn them into messages.
"""SyncStore's explicit errors. None of them ever carries a secret."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class SyncStoreError(Exception):
    """Base of every error SyncStore raises on purpose."""


class PermissionDenied(SyncStoreError):
    """The actor's role does not allow this action."""


class NotFoundError(SyncStoreError):
    """The thing asked for does not exist."""


class VersionConflict(SyncStoreError):
    """Someone else saved this record since it was read; nothing was written."""

    def __init__(self, entity: str, entity_id: int, expected: int, current: int | None) -> None:
        self.entity, self.entity_id, self.expected, self.current = entity, entity_id, expected, current
        super().__init__(
            f"{entity} {entity_id} was changed by someone else (you edited version {expected}, "
            f"it is now at version {current}); reload it and apply your change again"
        )


class InvalidInput(SyncStoreError):
    """Input failed validation; `errors` maps each invalid field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        detail = "; ".join(f"{field}: {message}" for field, message in errors.items())
        super().__init__(f"invalid input ({len(errors)} field{'s' if len(errors) != 1 else ''}): {detail}")

    @classmethod
    def from_exception(cls, error: Exception) -> InvalidInput:
        if isinstance(error, ValidationError):
            return cls(field_errors(error))
        return cls({"input": str(error)})


def field_errors(error: ValidationError, prefix: str = "") -> dict[str, str]:
    """Pydantic errors as {"variants.1.price": "must be greater than 0", ...}."""
    result: dict[str, str] = {}
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "input"
        message: Any = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        key = f"{prefix}{location}"
        result[key] = f"{result[key]}; {message}" if key in result else str(message)
    return result
