# TikTok Shop's signed transport: hosts, API paths, and one request signed, sent and unwrapped.
"""`Transport` signs every attempt afresh and adds the shop cipher where the path needs it;
retries are the caller's (`connectors.retry`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

import httpx

from connectors.base import (
    InvalidRequest,
    Transient,
)
from connectors.tiktokshop.codes import ID_PATTERN, PLATFORM
from connectors.tiktokshop.errors import parse_response
from connectors.tiktokshop.signing import sign

# --- hosts, paths, limits -------------------------------------------------------------------

API_HOST: Final = "https://open-api.tiktokglobalshop.com"
AUTH_HOST: Final = "https://auth.tiktok-shops.com"
AUTHORIZE_HOST: Final = "https://services.tiktokshop.com"

PATH_AUTHORIZE: Final = "/open/authorize"
PATH_TOKEN_GET: Final = "/api/v2/token/get"  # noqa: S105 - a path
PATH_TOKEN_REFRESH: Final = "/api/v2/token/refresh"  # noqa: S105 - a path
PATH_AUTHORIZED_SHOPS: Final = "/authorization/202309/shops"
PATH_WEBHOOKS: Final = "/event/202309/webhooks"
PATH_PRODUCTS: Final = "/product/202309/products"
PATH_SEARCH: Final = "/product/202309/products/search"
PATH_ACTIVATE: Final = "/product/202309/products/activate"
PATH_DEACTIVATE: Final = "/product/202309/products/deactivate"
PATH_ORDERS: Final = "/order/202309/orders"
PATH_ORDER_SEARCH: Final = "/order/202309/orders/search"
PATH_WAREHOUSES: Final = "/logistics/202309/warehouses"
PATH_IMAGE_UPLOAD: Final = "/product/202309/images/upload"
PATH_CATEGORIES: Final = "/product/202309/categories"
PATH_BRANDS: Final = "/product/202309/brands"
# Calls that must NOT carry shop_cipher.
NO_CIPHER_PREFIXES: Final = ("/authorization/", "/seller/", "/product/202309/images/upload", "/product/202309/files/")


def product_path(product_id: str) -> str:
    return f"{PATH_PRODUCTS}/{product_id}"


def attributes_path(category_id: str) -> str:
    return f"{PATH_CATEGORIES}/{category_id}/attributes"


def inventory_path(product_id: str) -> str:
    return f"{PATH_PRODUCTS}/{product_id}/inventory/update"


def prices_path(product_id: str) -> str:
    return f"{PATH_PRODUCTS}/{product_id}/prices/update"


def partial_edit_path(product_id: str) -> str:
    return f"{PATH_PRODUCTS}/{product_id}/partial_edit"


class Transport:
    """Signs and sends one request, turns the answer into `data` or a typed error."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        client: httpx.Client,
        timeout_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._app_key, self._app_secret = app_key, app_secret
        self._client, self._timeout_s, self._clock = client, timeout_s, clock

    def signed(
        self,
        method: str,
        host: str,
        path: str,
        *,
        access_token: str,
        shop_cipher: str | None,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> dict[str, Any]:
        params = {"app_key": self._app_key, "timestamp": str(int(self._clock())), **(query or {})}
        if shop_cipher is not None:
            params["shop_cipher"] = shop_cipher
        params["sign"] = sign(self._app_secret, path, params, body)
        headers = {"x-tts-access-token": access_token, "content-type": "application/json"}
        return self.send(method, host + path, params, body, headers, secrets=(access_token,))

    def signed_upload(
        self,
        host: str,
        path: str,
        *,
        access_token: str,
        files: Mapping[str, tuple[str, bytes, str]],
        form: Mapping[str, str],
    ) -> dict[str, Any]:
        """A multipart POST: signed over the query only (an upload's body is not signed), no shop_cipher."""
        params = {"app_key": self._app_key, "timestamp": str(int(self._clock()))}
        params["sign"] = sign(self._app_secret, path, params, None)
        try:
            response = self._client.request(
                "POST",
                host + path,
                params=params,
                files=dict(files),
                data=dict(form),
                headers={"x-tts-access-token": access_token},
                timeout=self._timeout_s,
            )
        except httpx.TimeoutException:
            raise Transient("request timed out", platform=PLATFORM, code="timeout") from None
        except httpx.TransportError as error:
            raise Transient(f"network error ({type(error).__name__})", platform=PLATFORM, code="network") from None
        return parse_response(
            response.status_code, response.headers, response.content, secrets=(self._app_secret, access_token)
        )

    def send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
        *,
        secrets: Sequence[str] = (),
    ) -> dict[str, Any]:
        try:
            response = self._client.request(
                method, url, params=dict(params), content=body, headers=dict(headers), timeout=self._timeout_s
            )
        except httpx.TimeoutException:
            raise Transient("request timed out", platform=PLATFORM, code="timeout") from None
        except httpx.TransportError as error:
            raise Transient(f"network error ({type(error).__name__})", platform=PLATFORM, code="network") from None
        return parse_response(
            response.status_code, response.headers, response.content, secrets=(self._app_secret, *secrets)
        )


def check_id(value: str, name: str = "product_id") -> str:
    """Ids go into URL paths: refuse anything but the platform's id alphabet before sending."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise InvalidRequest(f"invalid {name}", fields={name: "not a TikTok Shop id"}, platform=PLATFORM)
    return value


def batches_of(values: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
