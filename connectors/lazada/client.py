# One Lazada seller's signed calls: the transport, the retry policy, the token refresh (the connector's base).
"""`LazadaClient` holds one seller's credentials and sends every call through `connectors.retry` (see
`connectors.lazada` for the decisions); the connector's roles build on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Self

import httpx

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    ConnectorError,
    Platform,
    RefreshCallback,
    RequestGate,
    ShopCredentials,
    ShopLocation,
)
from connectors.lazada.codes import PLATFORM
from connectors.lazada.transport import (
    PATH_ITEM,
    Transport,
    check_id,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

ONE_ATTEMPT = RetryPolicy(max_attempts=1)  # a create is looked up, not blindly sent again


class LazadaClient:
    """One Lazada seller in one country: its signed, retried, token-refreshing calls."""

    platform: Platform = "lazada"

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        api_host: str,
        credentials: ShopCredentials,
        region: str = "",
        gate: RequestGate | None = None,
        refresh: RefreshCallback | None = None,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        currency: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shop_id = credentials.shop_id
        self.region = region.upper()
        self._access_token = credentials.access_token
        self._api_host = api_host.rstrip("/")
        self._gate, self._refresh, self._policy, self._currency = gate, refresh, policy, currency
        self._locations: list[ShopLocation] | None = None
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._transport = Transport(
            app_key=app_key, app_secret=app_secret, client=self._client, timeout_s=timeout_s, clock=clock
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shop_id={self.shop_id!r}, region={self.region!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ------------------------------------------------------------------------------

    def _use_token(self, token: str) -> None:
        self._access_token = token

    def _call(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """One call under the retry policy (`retry=False`: one attempt, the token still refreshed once)."""
        refreshed: list[str] = []

        def operation() -> dict[str, Any]:
            return self._transport.call(self._api_host, path, params, access_token=self._access_token, files=files)

        def refresh_once() -> str:
            assert self._refresh is not None  # only handed over when there is one
            token = self._refresh()
            refreshed.append(token)
            return token

        try:
            return call_with_retries(
                operation,
                gate=self._gate,
                refresh=refresh_once if self._refresh is not None else None,
                on_new_token=self._use_token,
                policy=self._policy if retry else ONE_ATTEMPT,
            )
        except AuthExpired as error:
            if not refreshed:
                raise
            raise AuthRevoked(
                f"the access token was refused again after a refresh: {error}",
                platform=PLATFORM,
                code=error.code,
                request_id=error.request_id,
            ) from None

    def _data(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self._call(path, params).get("data")

    def _detail(self, item_id: str) -> dict[str, Any]:
        data = self._data(PATH_ITEM, {"item_id": check_id(item_id)})
        return data if isinstance(data, dict) else {}


def words(error: ConnectorError) -> str:
    prefix = f"{PLATFORM} [{error.code}]: " if error.code else f"{PLATFORM}: "
    return str(error).removeprefix(prefix)
