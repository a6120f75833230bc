# Shopee's signed transport: the API paths, and one request signed, sent and unwrapped.
"""`Wire` signs every request afresh (fresh timestamp on every attempt) and raises the typed error;
retries are the caller's (`connectors.retry`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import httpx

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    ItemRefused,
    Transient,
)
from connectors.shopee.codes import PLATFORM
from connectors.shopee.errors import error_for
from connectors.shopee.signing import base_string, sign
from connectors.shopee.values import Json, retry_after_s, scrub

log = logging.getLogger(__name__)

# --- paths ----------------------------------------------------------------------------------

PATH_AUTH_PARTNER: Final = "/api/v2/shop/auth_partner"
PATH_TOKEN_GET: Final = "/api/v2/auth/token/get"  # noqa: S105 (a path, not a secret)
PATH_TOKEN_REFRESH: Final = "/api/v2/auth/access_token/get"  # noqa: S105 (a path)
# Not in the reference: the path as Shopee's v2 push API names it (public sign, body {callback_url, ...}).
PATH_PUSH_CONFIG: Final = "/api/v2/push/set_app_push_config"
PATH_LOST_PUSH: Final = "/api/v2/push/get_lost_push_message"
PATH_CONFIRM_LOST_PUSH: Final = "/api/v2/push/confirm_consumed_lost_push_message"
PATH_ITEM_LIST: Final = "/api/v2/product/get_item_list"
PATH_ITEM_BASE_INFO: Final = "/api/v2/product/get_item_base_info"
PATH_MODEL_LIST: Final = "/api/v2/product/get_model_list"
# Not in the reference: used by create_listing to find an item an earlier attempt already created.
PATH_SEARCH_ITEM: Final = "/api/v2/product/search_item"
PATH_UPDATE_PRICE: Final = "/api/v2/product/update_price"
PATH_UPDATE_STOCK: Final = "/api/v2/product/update_stock"
PATH_UPDATE_ITEM: Final = "/api/v2/product/update_item"
PATH_ADD_ITEM: Final = "/api/v2/product/add_item"
PATH_INIT_TIER_VARIATION: Final = "/api/v2/product/init_tier_variation"
PATH_UNLIST_ITEM: Final = "/api/v2/product/unlist_item"
PATH_DELETE_ITEM: Final = "/api/v2/product/delete_item"
PATH_ORDER_LIST: Final = "/api/v2/order/get_order_list"
PATH_ORDER_DETAIL: Final = "/api/v2/order/get_order_detail"
PATH_SHOP_INFO: Final = "/api/v2/shop/get_shop_info"
PATH_WAREHOUSE_DETAIL: Final = "/api/v2/shop/get_warehouse_detail"
PATH_ADD_MODEL: Final = "/api/v2/product/add_model"
PATH_UPDATE_TIER_VARIATION: Final = "/api/v2/product/update_tier_variation"
PATH_CATEGORY: Final = "/api/v2/product/get_category"
PATH_ATTRIBUTE_TREE: Final = "/api/v2/product/get_attribute_tree"
PATH_BRAND_LIST: Final = "/api/v2/product/get_brand_list"
PATH_CHANNEL_LIST: Final = "/api/v2/logistics/get_channel_list"
PATH_UPLOAD_IMAGE: Final = "/api/v2/media_space/upload_image"


# --- the signed transport both ShopeeApp and ShopeeConnector use ------------------------------


class Wire:
    """Signs, sends and unwraps one request; raises the typed error. No retries here."""

    def __init__(
        self,
        partner_id: int,
        partner_key: str,
        host: str,
        client: httpx.Client | None,
        timeout_s: float,
        clock: Callable[[], float],
    ) -> None:
        self.partner_id, self._partner_key = int(partner_id), partner_key
        self.host = host.rstrip("/")
        self._client = client if client is not None else httpx.Client()
        self._owns_client = client is None
        self._timeout_s, self._clock = timeout_s, clock

    def signed_query(self, path: str, access_token: str | None = None, shop_id: int | None = None) -> Json:
        timestamp = int(self._clock())
        query: Json = {
            "partner_id": self.partner_id,
            "timestamp": timestamp,
            "sign": sign(self._partner_key, base_string(self.partner_id, path, timestamp, access_token, shop_id)),
        }
        if access_token is not None and shop_id is not None:
            query.update(access_token=access_token, shop_id=shop_id)
        return query

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        access_token: str | None = None,
        shop_id: int | None = None,
        token_call: bool = False,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> Json:
        """One signed request; returns the whole JSON payload (envelope or token fields). With `files` the
        body is multipart/form-data (file fields, plus `body` as plain form fields)."""
        query = {**self.signed_query(path, access_token, shop_id), **(params or {})}
        secrets = (self._partner_key, access_token or "")
        try:
            if files is not None:
                form = {key: str(value) for key, value in (body or {}).items()}
                response = self._client.request(
                    method, self.host + path, params=query, files=dict(files), data=form, timeout=self._timeout_s
                )
            else:
                content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
                headers = {"Content-Type": "application/json"} if content is not None else {}
                response = self._client.request(
                    method, self.host + path, params=query, content=content, headers=headers, timeout=self._timeout_s
                )
        except httpx.TimeoutException as error:
            message = f"{method} {path}: no answer within {self._timeout_s} s ({type(error).__name__})"
            raise Transient(message, platform=PLATFORM, code="timeout") from None
        except httpx.TransportError as error:
            message = f"{method} {path}: {type(error).__name__}: {scrub(str(error), secrets)}"
            raise Transient(message, platform=PLATFORM, code="network") from None
        sent_fields = [*(params or {}), *(body or {})]
        try:
            return _unwrap(response, path, sent_fields, secrets)
        except (AuthExpired, ItemRefused) as error:
            if not token_call:
                raise
            # On the token endpoints an auth error means the code or refresh token is dead.
            raise AuthRevoked(str(error), platform=PLATFORM, code=error.code, request_id=error.request_id) from None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _unwrap(response: httpx.Response, path: str, sent_fields: Sequence[str], secrets: Sequence[str]) -> Json:
    try:
        payload = json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        status = response.status_code
        raise error_for(
            "",
            f"HTTP {status} without a JSON body",
            path=path,
            http_status=status if status >= 400 else 502,  # a 2xx that is not JSON: a broken proxy, try again
            retry_after=retry_after_s(response.headers),
        )
    code = str(payload.get("error") or "")
    if code or response.status_code >= 400:
        request_id = payload.get("request_id")
        raise error_for(
            code,
            scrub(str(payload.get("message") or ""), secrets),
            path=path,
            http_status=response.status_code,
            request_id=str(request_id) if request_id else None,
            retry_after=retry_after_s(response.headers),
            sent_fields=sent_fields,
        )
    if payload.get("warning"):
        log.info("shopee %s warning: %s", path, scrub(str(payload["warning"]), secrets))
    return payload
