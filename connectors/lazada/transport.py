# Lazada's signed transport: the country host map, API paths, and one request signed, sent and unwrapped.
"""`Transport.call` adds the system parameters (app_key, millisecond timestamp, sign_method, access_token),
signs every attempt afresh and sends reads as GET (all in the query) and writes as POST (all in an
x-www-form-urlencoded body, or multipart when a file goes with it: the file is not signed).
Retries are the caller's (`connectors.retry`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar

import httpx

from connectors.base import InvalidRequest, Transient
from connectors.lazada.codes import PLATFORM
from connectors.lazada.errors import parse_response
from connectors.lazada.signing import sign

T = TypeVar("T")

# --- hosts (section 1) ----------------------------------------------------------------------

COUNTRY_HOSTS: Final = {
    "VN": "https://api.lazada.vn/rest",
    "SG": "https://api.lazada.sg/rest",
    "PH": "https://api.lazada.com.ph/rest",
    "MY": "https://api.lazada.com.my/rest",
    "TH": "https://api.lazada.co.th/rest",
    "ID": "https://api.lazada.co.id/rest",
}
AUTH_HOST: Final = "https://auth.lazada.com/rest"
AUTHORIZE_HOST: Final = "https://auth.lazada.com"
SIGN_METHOD: Final = "sha256"

# --- API paths (signed without the /rest prefix) --------------------------------------------

PATH_AUTHORIZE: Final = "/oauth/authorize"
PATH_TOKEN_CREATE: Final = "/auth/token/create"  # noqa: S105 - a path
PATH_TOKEN_REFRESH: Final = "/auth/token/refresh"  # noqa: S105 - a path
PATH_SELLER: Final = "/seller/get"
PATH_WAREHOUSES: Final = "/seller/warehouse/get"
PATH_PRODUCTS: Final = "/products/get"
PATH_ITEM: Final = "/product/item/get"
PATH_SELLABLE_UPDATE: Final = "/product/stock/sellable/update"
PATH_PRICE_QUANTITY: Final = "/product/price_quantity/update"
PATH_PRODUCT_UPDATE: Final = "/product/update"
PATH_PRODUCT_CREATE: Final = "/product/create"
PATH_DEACTIVATE: Final = "/product/deactivate"
PATH_REMOVE: Final = "/product/remove"
PATH_IMAGE_UPLOAD: Final = "/image/upload"
PATH_IMAGE_MIGRATE: Final = "/image/migrate"
PATH_CATEGORY_TREE: Final = "/category/tree/get"
PATH_CATEGORY_ATTRIBUTES: Final = "/category/attributes/get"
PATH_BRANDS: Final = "/category/brands/query"
PATH_ORDERS: Final = "/orders/get"
PATH_ORDER: Final = "/order/get"
PATH_ORDERS_ITEMS: Final = "/orders/items/get"

# Reads go as GET; everything else as POST (the documented method per API).
GET_PATHS: Final = frozenset(
    {
        PATH_SELLER,
        PATH_WAREHOUSES,
        PATH_PRODUCTS,
        PATH_ITEM,
        PATH_CATEGORY_TREE,
        PATH_CATEGORY_ATTRIBUTES,
        PATH_BRANDS,
        PATH_ORDERS,
        PATH_ORDER,
        PATH_ORDERS_ITEMS,
    }
)


def api_host_for(configured: str, country: str) -> str:
    """The API base URL: the configured host, or (configured empty) the seller's country host."""
    if configured.strip():
        return configured.strip().rstrip("/")
    host = COUNTRY_HOSTS.get(country.strip().upper())
    if host is None:
        raise InvalidRequest(
            f"no Lazada API host for country {country!r}", fields={"region": "not a Lazada country"}, platform=PLATFORM
        )
    return host


def rest_base(host: str) -> str:
    """`host` with its `/rest` suffix (a simulator URL is given without it)."""
    host = host.rstrip("/")
    return host if host.endswith("/rest") else host + "/rest"


class Transport:
    """Signs and sends one request; the answer is the envelope or a typed error."""

    def __init__(
        self, *, app_key: str, app_secret: str, client: httpx.Client, timeout_s: float, clock: Callable[[], float]
    ) -> None:
        self._app_key, self._app_secret = app_key, app_secret
        self._client, self._timeout_s, self._clock = client, timeout_s, clock

    def call(
        self,
        host: str,
        api_path: str,
        params: Mapping[str, str] | None = None,
        *,
        access_token: str | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        secrets: Sequence[str] = (),
    ) -> dict[str, Any]:
        signed: dict[str, str] = {
            "app_key": self._app_key,
            "timestamp": str(int(self._clock() * 1000)),
            "sign_method": SIGN_METHOD,
            **(params or {}),
        }
        if access_token is not None:
            signed["access_token"] = access_token
        signed["sign"] = sign(self._app_secret, api_path, signed)
        url = rest_base(host) + api_path
        hidden = [self._app_secret, *secrets] + ([access_token] if access_token else [])
        try:
            if api_path in GET_PATHS and files is None:
                response = self._client.get(url, params=signed, timeout=self._timeout_s)
            elif files is not None:
                response = self._client.post(url, data=signed, files=dict(files), timeout=self._timeout_s)
            else:
                response = self._client.post(url, data=signed, timeout=self._timeout_s)
        except httpx.TimeoutException:
            raise Transient("request timed out", platform=PLATFORM, code="timeout") from None
        except httpx.TransportError as error:
            raise Transient(f"network error ({type(error).__name__})", platform=PLATFORM, code="network") from None
        return parse_response(response.status_code, response.content, secrets=hidden)


def check_id(value: str, name: str = "item_id") -> str:
    """Lazada ids are numbers: anything else is refused before it is sent."""
    if not isinstance(value, str) or not value.isdigit() or len(value) > 30:
        raise InvalidRequest(f"invalid {name}", fields={name: "not a Lazada id"}, platform=PLATFORM)
    return value


def batches_of(values: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
