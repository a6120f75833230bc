# RFC 9457 problem details: the one error shape of every API response, with field errors.
"""Problem documents (`application/problem+json`).

Every error the API returns, its own or the framework's (404, 405, 413, 422, 429...), is a
`Problem`: `type`, `title`, `status`, `detail`, `instance` and, for invalid input, `errors`
(one entry per field). Nothing here ever echoes a header, a key or a stored secret.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied, SyncStoreError, VersionConflict

logger = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://syncstore.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid field: where it is (dotted path, e.g. `variants.0.price`) and what is wrong."""

    field: str = Field(description="Dotted path of the field in the request (body, query or header).")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong this time.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldError] | None = Field(default=None, description="Field errors, for invalid input.")


class ApiProblem(Exception):
    """An error an API route raises on purpose (turned into a problem document)."""

    def __init__(
        self, status: int, detail: str, *, kind: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}
        self.kind = kind or HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


def problem_response(
    request: Request | None,
    status: int,
    detail: str | None,
    *,
    kind: str | None = None,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    slug = kind or phrase.lower().replace(" ", "-").replace("'", "")
    body = Problem(
        type=PROBLEM_TYPE_BASE + slug,
        title=phrase,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        errors=[FieldError(field=f, message=m) for f, m in errors.items()] if errors else None,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _location(parts: tuple[Any, ...]) -> str:
    # FastAPI prefixes "body", "query", "path" or "header": keep it, it tells the caller where to look.
    return ".".join(str(part) for part in parts) or "request"


async def _on_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors: dict[str, str] = {}
    for item in error.errors():
        key = _location(tuple(item.get("loc", ())))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        errors[key] = f"{errors[key]}; {message}" if key in errors else message
    return problem_response(request, 422, "the request is not valid", kind="invalid-input", errors=errors)


async def _on_http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else None
    return problem_response(request, error.status_code, detail, headers=dict(error.headers or {}))


async def _on_api_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiProblem)
    return problem_response(request, error.status, error.detail, kind=error.kind, headers=error.headers)


async def _on_core(request: Request, error: Exception) -> JSONResponse:
    """The core's explicit errors: their messages are written for people and carry no secret."""
    if isinstance(error, InvalidInput):
        return problem_response(request, 422, "the request is not valid", kind="invalid-input", errors=error.errors)
    if isinstance(error, VersionConflict):
        return problem_response(request, 412, str(error), kind="version-conflict")
    if isinstance(error, NotFoundError):
        return problem_response(request, 404, str(error))
    if isinstance(error, PermissionDenied):
        return problem_response(request, 403, str(error))
    return problem_response(request, 409, str(error), kind="refused")


async def _on_out_of_range(request: Request, error: Exception) -> JSONResponse:
    """A value the database cannot hold (e.g. an id beyond its integer range): the caller's input, not a fault."""
    return problem_response(request, 422, "a value is out of the range this API accepts", kind="invalid-input")


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(request, 500, "an unexpected error; it was logged")


# Which handler answers which error (the most specific class in the error's MRO wins, as in Starlette).
_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[JSONResponse]]] = {
    RequestValidationError: _on_validation,
    StarletteHTTPException: _on_http,
    ApiProblem: _on_api_problem,
    SyncStoreError: _on_core,
    DataError: _on_out_of_range,
    OverflowError: _on_out_of_range,
    Exception: _on_unexpected,
}


def install(app: FastAPI) -> None:
    """Make every error of `app` a problem document."""
    for kind, handler in _HANDLERS.items():
        app.add_exception_handler(kind, handler)


async def answer(request: Request, error: Exception) -> JSONResponse:
    """The problem document `install`'s handlers answer for `error` (for code that runs outside the routes)."""
    for kind in type(error).__mro__:
        handler = _HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, error)
    return await _on_unexpected(request, error)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries documenting that these statuses answer with a Problem."""
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase, "content": {MEDIA_TYPE: {}}}
        for status in statuses
    }
