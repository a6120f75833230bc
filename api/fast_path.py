# The product list's fast path: a plain ASGI answer to the common GET /v1/products, before FastAPI's routing.
"""Fast path for `GET /v1/products` (the API's busiest request).

Under load, FastAPI's routing (a match against every route), its dependency solving and its
middleware cost as much CPU as the page itself. `ProductListFastPath` answers the common request
directly, with the same code the route runs (`products.postgres_page`, `deps.admit` for the rate
limit and the read audit, `problems.answer` for errors), and hands everything else to the app
unchanged, so that every unusual request gets FastAPI's own answer:

- only on PostgreSQL (the async pool), only `GET` of exactly `/v1/products`;
- only with `Authorization: Bearer <key>` whose key is in the key cache (a key checked against the
  database within SYNCSTORE_API_KEY_CACHE_SECONDS; the first request of a key goes through FastAPI,
  which checks it and fills the cache);
- only with query parameters that `ProductQuery` accepts as they are, each given once and non-empty,
  and a valid cursor (anything else, including every 401 and 422, is FastAPI's to answer).

Nothing is spent (rate allowance, audit) before the request is known to be the fast path's; from
then on its errors (429, a database failure) are answered as the route's would be.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api import pagination, problems
from api.deps import Caller, KeyCache, admit
from api.pg_async import AsyncReads
from api.routes.products import ProductQuery, postgres_page, product_filter
from syncstore.security import api_keys

PATH = "/v1/products"


def _cached_caller(scope: Scope, cache: KeyCache) -> Caller | None:
    authorization = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if authorization is not None:  # twice: FastAPI decides
                return None
            authorization = value.decode("latin-1")
    scheme, credentials = get_authorization_scheme_param(authorization)
    if not (authorization and credentials and scheme.lower() == "bearer"):
        return None
    return cache.get(api_keys.digest(credentials))


def _query(query_string: bytes) -> ProductQuery | None:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    values = dict(pairs)
    if len(values) != len(pairs) or not all(values.values()):
        return None
    try:
        return ProductQuery.model_validate({k: v for k, v in values.items() if k in ProductQuery.model_fields})
    except ValidationError:
        return None


class ProductListFastPath:
    """ASGI middleware: answers the common product list request itself, passes every other request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == PATH:
            response = await self._answer(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> Response | None:
        state = scope["app"].state
        async_reads: AsyncReads | None = state.async_reads
        if async_reads is None:
            return None
        who = _cached_caller(scope, state.key_cache)
        query = None if who is None else _query(scope["query_string"])
        if who is None or query is None:
            return None
        try:
            after = pagination.decode(query.cursor)
        except problems.ApiProblem:
            return None
        request = Request(scope)
        try:
            await admit(request, who)
            return await postgres_page(async_reads, product_filter(query), after, query.limit)
        except Exception as error:  # answered as the route's errors are
            return await problems.answer(request, error)
