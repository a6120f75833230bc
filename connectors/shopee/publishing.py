# Shopee publishing calls of one shop: image upload, category tree, attributes, brands, logistics, add_model.
"""`ShopeePublishing` is the part of `ShopeeConnector` that prepares and extends listings (see the
methods); the connector supplies the signed transport (`_call`, `_send`, `_attempt`, `_wire`).

upload_image's signing is [unconfirmed] (Shopee's API reference types it Public; some SDKs sign it as a
shop call): the connector signs it as a public call first and, when Shopee answers that it wants the
shop's access token (or the sign is wrong), as a shop call; the reading that worked is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from connectors.base import (
    ConnectorError,
    CreatedListing,
    InvalidRequest,
    LogisticsChannel,
    RemoteAttribute,
    RemoteBrand,
    RemoteCategory,
    SkuDraft,
    UploadedImage,
)
from connectors.shopee.catalog import attributes_from_wire, brands_from_wire, categories_from_wire, channels_from_wire
from connectors.shopee.codes import PLATFORM
from connectors.shopee.errors import bare_code
from connectors.shopee.limits import MODEL_BATCH, PAGE_SIZE
from connectors.shopee.mapping import tier_bodies, tier_options
from connectors.shopee.transport import (
    PATH_ADD_MODEL,
    PATH_ATTRIBUTE_TREE,
    PATH_BRAND_LIST,
    PATH_CATEGORY,
    PATH_CHANNEL_LIST,
    PATH_MODEL_LIST,
    PATH_UPDATE_TIER_VARIATION,
    PATH_UPLOAD_IMAGE,
    Wire,
)
from connectors.shopee.values import Json, as_dict, id_of, objects, wire_int_id

log = logging.getLogger(__name__)
T = TypeVar("T")


class ShopeePublishing:
    """Publishing calls of one Shopee shop (mixed into `ShopeeConnector`)."""

    shop_id: str
    _shop: int
    _access_token: str
    _wire: Wire
    _upload_as_shop: bool | None

    def _attempt(self, operation: Callable[[], T]) -> T:
        raise NotImplementedError

    def _send(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None
    ) -> Json:
        raise NotImplementedError

    def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None
    ) -> Json:
        raise NotImplementedError

    def _seller_stock(self, quantity: int, location_id: str | None = None) -> list[Json]:
        raise NotImplementedError

    def _price_of(self, skus: Sequence[SkuDraft]) -> Callable[[Decimal, str], float | int]:
        raise NotImplementedError

    # -- media --

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        """POST /api/v2/media_space/upload_image, multipart field `image`; answers image_info.image_id."""
        files = {"image": (filename or "image", content, content_type or "application/octet-stream")}

        def upload(as_shop: bool) -> Json:
            payload = self._wire.send(
                "POST",
                PATH_UPLOAD_IMAGE,
                files=files,
                body={"scene": "normal"},
                access_token=self._access_token if as_shop else None,
                shop_id=self._shop if as_shop else None,
            )
            return as_dict(payload.get("response"))

        def operation() -> Json:
            if self._upload_as_shop is not None:
                return upload(self._upload_as_shop)
            try:
                response = upload(False)
                self._upload_as_shop = False
                return response
            except InvalidRequest as error:
                if not _wants_shop_signing(error):
                    raise
            response = upload(True)
            self._upload_as_shop = True
            log.info("shopee upload_image takes a shop signature: signing it as a shop call from now on")
            return response

        response = self._attempt(operation)
        info = as_dict(response.get("image_info"))
        if not info.get("image_id"):
            info = as_dict(next(iter(objects(response.get("image_info_list"))), {}).get("image_info"))
        image_id = str(info.get("image_id") or "")
        if not image_id:
            raise ConnectorError("upload_image answered no image_id", platform=PLATFORM)
        urls = objects(info.get("image_url_list"))
        return UploadedImage(image_id=image_id, url=str(urls[0].get("image_url") or "") if urls else "")

    # -- categories, brands, logistics --

    def list_categories(self) -> list[RemoteCategory]:
        """GET /api/v2/product/get_category: the whole tree, parents before children."""
        return categories_from_wire(self._call("GET", PATH_CATEGORY))

    def get_category_attributes(self, category_id: str) -> list[RemoteAttribute]:
        """GET /api/v2/product/get_attribute_tree for one category: mandatory flags, input types, values."""
        wire_int_id(category_id, "category_id")
        response = self._call("GET", PATH_ATTRIBUTE_TREE, params={"category_id_list": category_id})
        return attributes_from_wire(response, category_id)

    def list_brands(self, category_id: str) -> list[RemoteBrand]:
        """GET /api/v2/product/get_brand_list (normal brands), 100 per page, every page."""
        wire_category = wire_int_id(category_id, "category_id")
        brands: list[RemoteBrand] = []
        offset = 0
        while True:
            params = {"offset": offset, "page_size": PAGE_SIZE, "category_id": wire_category, "status": 1}
            response = self._call("GET", PATH_BRAND_LIST, params=params)
            brands.extend(brands_from_wire(response))
            next_offset = response.get("next_offset")
            if not response.get("has_next_page") or not isinstance(next_offset, int) or next_offset <= offset:
                return brands
            offset = next_offset

    def list_logistics_channels(self) -> list[LogisticsChannel]:
        """GET /api/v2/logistics/get_channel_list: the shop's channels and whether each is enabled."""
        return channels_from_wire(self._call("GET", PATH_CHANNEL_LIST))

    # -- variants of a listed item --

    def add_variants(self, item_id: str, skus: Sequence[SkuDraft], location_id: str | None = None) -> CreatedListing:
        """add_model for SKUs the item does not have yet (matched by model_sku, so a retry adds nothing twice).

        A variation value the item does not offer yet is first appended to its tier's options with
        update_tier_variation (`standardise_tier_variation`); existing models keep their tier_index.
        """
        wire_item = wire_int_id(item_id, "item_id")
        price = self._price_of(skus)
        existing = self._call("GET", PATH_MODEL_LIST, params={"item_id": wire_item})
        if not objects(existing.get("model")):
            raise InvalidRequest(
                f"item {item_id} has no variations: Shopee adds models only to an item with tier variations",
                fields={"item_id": "no variations"},
                platform=PLATFORM,
            )
        have = {str(m.get("model_sku") or ""): str(id_of(m, "model_id")) for m in objects(existing.get("model"))}
        new = [sku for sku in skus if sku.seller_sku not in have]
        if len(have) + len(new) > MODEL_BATCH:
            raise InvalidRequest(f"at most {MODEL_BATCH} models per Shopee item", platform=PLATFORM)
        if new:
            tiers, indexes, grown = tier_options(existing, new)
            if grown:
                body = {"item_id": wire_item, **tier_bodies(tiers)}
                self._call("POST", PATH_UPDATE_TIER_VARIATION, body=body)
            models = [
                {
                    "tier_index": index,
                    "model_sku": sku.seller_sku,
                    "original_price": price(sku.price, f"price of {sku.seller_sku}"),
                    "seller_stock": self._seller_stock(sku.stock, location_id),
                }
                for sku, index in zip(new, indexes, strict=True)
            ]
            added = self._call("POST", PATH_ADD_MODEL, body={"item_id": wire_item, "model_list": models})
            have.update({str(m.get("model_sku") or ""): str(id_of(m, "model_id")) for m in objects(added.get("model"))})
        missing = [sku.seller_sku for sku in skus if sku.seller_sku not in have]
        if missing:
            raise ConnectorError(f"item {item_id} has no models for {missing}", platform=PLATFORM)
        return CreatedListing(item_id=item_id, sku_ids={sku.seller_sku: have[sku.seller_sku] for sku in skus})


def _wants_shop_signing(error: InvalidRequest) -> bool:
    """Shopee refused a public-signed upload in a way that means "sign me as a shop call"."""
    return bare_code(error.code or "") == "error_sign" or "access_token" in str(error).lower()
