# TikTok Shop publishing calls of one shop: image upload, categories, attributes, brands, SKUs added by partial edit.
"""`TikTokPublishing` is the part of `TikTokShopConnector` that prepares and extends products; the connector
supplies `_call` (signed, retried) and the shop's warehouses.

- Images: POST /product/202309/images/upload, multipart field `data` and `use_case` MAIN_IMAGE, without
  shop_cipher; the answer's `uri` is what create and edit take (`main_images[{uri}]`).
- Categories, attributes (`is_requried`, sic), brands: GET /product/202309/categories,
  /categories/{id}/attributes, /brands (paged by page_token).
- Listings take no logistics channel on TikTok Shop: `list_logistics_channels` is [].
- New SKUs go through POST /products/{id}/partial_edit. Each property sent replaces that property, so
  `skus` carries every existing SKU (id, seller_sku, sales_attributes, price, inventory) plus the new ones,
  each with `inventory[{warehouse_id, quantity}]`. The edit is audited: the answer is in review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import (
    CreatedListing,
    InvalidRequest,
    LogisticsChannel,
    RemoteAttribute,
    RemoteBrand,
    RemoteCategory,
    ShopLocation,
    SkuDraft,
    UploadedImage,
)
from connectors.tiktokshop.catalog import attributes_from_wire, brands_from_wire, categories_from_wire
from connectors.tiktokshop.codes import PLATFORM
from connectors.tiktokshop.limits import PAGE_SIZE
from connectors.tiktokshop.mapping import decimal_str
from connectors.tiktokshop.rules import check_prices, check_quantities
from connectors.tiktokshop.transport import (
    PATH_BRANDS,
    PATH_CATEGORIES,
    PATH_IMAGE_UPLOAD,
    attributes_path,
    check_id,
    partial_edit_path,
    product_path,
)

MAIN_IMAGE = "MAIN_IMAGE"


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def _existing_sku(sku: Mapping[str, Any]) -> dict[str, Any]:
    """An existing SKU as partial_edit must resend it to keep it (with its id)."""
    price = sku.get("price") if isinstance(sku.get("price"), Mapping) else {}
    assert isinstance(price, Mapping)
    amount = price.get("tax_exclusive_price") or price.get("sale_price")
    attributes = [
        {key: str(a[key]) for key in ("id", "name", "value_id", "value_name") if a.get(key) not in (None, "", "0")}
        for a in _rows(sku.get("sales_attributes"))
    ]
    return {
        "id": str(sku.get("id")),
        "seller_sku": str(sku.get("seller_sku") or ""),
        "sales_attributes": attributes,
        "price": {"amount": str(amount), "currency": str(price.get("currency") or "")},
        "inventory": [
            {"warehouse_id": str(row.get("warehouse_id")), "quantity": int(row.get("quantity") or 0)}
            for row in _rows(sku.get("inventory"))
            if row.get("warehouse_id")
        ],
    }


class TikTokPublishing:
    """Publishing calls of one TikTok Shop shop (mixed into `TikTokShopConnector`)."""

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def list_locations(self) -> list[ShopLocation]:
        raise NotImplementedError

    def _target_warehouse(self, sku_warehouses: Sequence[str], sales: Sequence[str]) -> str | None:
        raise NotImplementedError

    # -- media --

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        """POST /product/202309/images/upload (multipart `data`, use_case MAIN_IMAGE): the image's uri."""
        files = {"data": (filename or "image", content, content_type or "application/octet-stream")}
        data = self._call("POST", PATH_IMAGE_UPLOAD, body={"use_case": MAIN_IMAGE}, files=files)
        uri = str(data.get("uri") or "")
        if not uri:
            raise InvalidRequest("the image upload answered no uri", platform=PLATFORM)
        return UploadedImage(image_id=uri, url=str(data.get("url") or ""))

    # -- categories, brands, logistics --

    def list_categories(self) -> list[RemoteCategory]:
        """GET /product/202309/categories: every category with its leaf flag, parents first."""
        return categories_from_wire(self._call("GET", PATH_CATEGORIES))

    def get_category_attributes(self, category_id: str) -> list[RemoteAttribute]:
        """GET /product/202309/categories/{id}/attributes: the product attributes, mandatory or not."""
        return attributes_from_wire(self._call("GET", attributes_path(check_id(category_id, "category_id"))))

    def list_brands(self, category_id: str) -> list[RemoteBrand]:
        """GET /product/202309/brands for the category, 100 per page, every page."""
        brands: list[RemoteBrand] = []
        token: str | None = None
        while True:
            query = {"category_id": check_id(category_id, "category_id"), "page_size": str(PAGE_SIZE)}
            if token:
                query["page_token"] = token
            data = self._call("GET", PATH_BRANDS, query=query)
            brands.extend(brands_from_wire(data))
            next_token = str(data.get("next_page_token") or "")
            if not next_token or next_token == token:
                return brands
            token = next_token

    def list_logistics_channels(self) -> list[LogisticsChannel]:
        """TikTok Shop products take no logistics channel (the warehouses are `list_locations`)."""
        return []

    # -- SKUs of a listed product --

    def add_variants(self, item_id: str, skus: Sequence[SkuDraft], location_id: str | None = None) -> CreatedListing:
        """partial_edit with every existing SKU plus the new ones (seller SKUs the product already has are
        not added again); the product goes into review."""
        check_id(item_id)
        check_quantities({sku.seller_sku: sku.stock for sku in skus})
        check_prices({sku.seller_sku: sku.price for sku in skus})
        detail = self._call("GET", product_path(item_id))
        existing = _rows(detail.get("skus"))
        have = {str(sku.get("seller_sku")): str(sku.get("id")) for sku in existing if sku.get("seller_sku")}
        new = [sku for sku in skus if sku.seller_sku not in have]
        if not new:
            return CreatedListing(item_id=item_id, sku_ids={sku.seller_sku: have[sku.seller_sku] for sku in skus})
        kept = [_existing_sku(sku) for sku in existing]
        currency = next((sku["price"]["currency"] for sku in kept if sku["price"]["currency"]), "")
        sales = [location.location_id for location in self.list_locations()]
        warehouse = location_id or self._target_warehouse([], sales)
        if not warehouse:
            raise InvalidRequest(
                "partial edit needs inventory.warehouse_id: the shop lists no warehouse", platform=PLATFORM
            )
        added = [
            {
                "seller_sku": sku.seller_sku,
                "sales_attributes": [{"name": name, "value_name": value} for name, value in sku.attributes.items()],
                "price": {"amount": decimal_str(sku.price), "currency": currency},
                "inventory": [{"warehouse_id": warehouse, "quantity": sku.stock}],
            }
            for sku in new
        ]
        data = self._call("POST", partial_edit_path(item_id), body={"skus": [*kept, *added]})
        have.update(
            {str(s.get("seller_sku")): str(s.get("id")) for s in _rows(data.get("skus")) if s.get("seller_sku")}
        )
        missing = [sku.seller_sku for sku in skus if sku.seller_sku not in have]
        if missing:
            raise InvalidRequest(f"product {item_id} answered no SKU ids for {missing}", platform=PLATFORM)
        return CreatedListing(
            item_id=item_id, sku_ids={sku.seller_sku: have[sku.seller_sku] for sku in skus}, in_review=True
        )
