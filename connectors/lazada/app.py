# Lazada's app-level calls: the authorization link and the token create / refresh on the auth host.
"""`LazadaApp` is what SyncStore does as the app rather than as one seller."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from connectors.lazada.transport import (
    AUTH_HOST,
    AUTHORIZE_HOST,
    PATH_AUTHORIZE,
    PATH_TOKEN_CREATE,
    PATH_TOKEN_REFRESH,
    Transport,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

# The countries a seller may pick on the authorize page (`country=`), cross-border included.
COUNTRIES = ("sg", "my", "th", "vn", "ph", "id", "cb")


class LazadaApp:
    """The authorization link, `/auth/token/create` and `/auth/token/refresh` (signed, no access_token)."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        auth_host: str = AUTH_HOST,
        authorize_host: str = AUTHORIZE_HOST,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_key = app_key
        self._auth_host, self._authorize_host = auth_host.rstrip("/"), authorize_host.rstrip("/")
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._policy, self._clock = policy, clock
        self._transport = Transport(
            app_key=app_key, app_secret=app_secret, client=self._client, timeout_s=timeout_s, clock=clock
        )

    def __repr__(self) -> str:
        return f"LazadaApp(app_key={self.app_key!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def authorization_url(self, redirect_uri: str, state: str, country: str | None = None) -> str:
        """`/oauth/authorize?response_type=code&force_auth=true&redirect_uri=&client_id=&state=[&country=]`."""
        query = {
            "response_type": "code",
            "force_auth": "true",
            "redirect_uri": redirect_uri,
            "client_id": self.app_key,
            "state": state,
        }
        if country:
            query["country"] = country.lower()
        return f"{self._authorize_host}{PATH_AUTHORIZE}?{urlencode(query)}"

    def create_token(self, code: str) -> dict[str, Any]:
        """`/auth/token/create`: the top-level answer (tokens, `country_user_info`)."""
        return self._call(PATH_TOKEN_CREATE, {"code": code}, secret=code)

    def refresh_token(self, refresh_token: str) -> dict[str, Any]:
        """`/auth/token/refresh`: a NEW access AND refresh token (the refresh token's end date does not move)."""
        return self._call(PATH_TOKEN_REFRESH, {"refresh_token": refresh_token}, secret=refresh_token)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _call(self, path: str, params: dict[str, str], *, secret: str) -> dict[str, Any]:
        def operation() -> dict[str, Any]:
            return self._transport.call(self._auth_host, path, params, secrets=(secret,))

        return call_with_retries(operation, policy=self._policy)
