# Lazada publishing: content edits, image upload and migration, create (looked up, never twice), variants, catalog.
"""`PublishingMixin`: what SyncStore sends to list and describe products on Lazada (see `connectors.lazada`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from connectors.base import (
    ConnectorError,
    CreatedListing,
    InvalidRequest,
    ListingDraft,
    ListingFields,
    LogisticsChannel,
    RemoteAttribute,
    RemoteBrand,
    RemoteCategory,
    SkuDraft,
    Transient,
    UploadedImage,
)
from connectors.lazada.client import LazadaClient
from connectors.lazada.codes import PENDING_QC, PLATFORM
from connectors.lazada.limits import (
    BRAND_PAGE,
    PRODUCT_PAGE,
)
from connectors.lazada.mapping import (
    attribute_from_wire,
    brands_from_wire,
    categories_from_tree,
    iso,
    json_list,
    listing_from_wire,
)
from connectors.lazada.payloads import decimal_str, package_fields, request, to_xml
from connectors.lazada.rules import check_prices, check_quantities
from connectors.lazada.transport import (
    PATH_BRANDS,
    PATH_CATEGORY_ATTRIBUTES,
    PATH_CATEGORY_TREE,
    PATH_IMAGE_MIGRATE,
    PATH_IMAGE_UPLOAD,
    PATH_PRODUCT_CREATE,
    PATH_PRODUCT_UPDATE,
    PATH_PRODUCTS,
    check_id,
)
from connectors.retry import call_with_retries

log = logging.getLogger(__name__)

LANGUAGE = "en_US"
# Lazada's image CDN: uploaded and migrated images come back on it.
LAZADA_IMAGE_DOMAIN = "slatic.net"


class PublishingMixin(LazadaClient):
    """Content, images, creation and the category tree, for one seller."""

    # --- content and publishing ----------------------------------------------------------------

    def update_fields(self, item_id: str, fields: ListingFields) -> None:
        """POST /product/update with only the given fields (package sizes go on every SKU)."""
        check_id(item_id)
        product: dict[str, Any] = {"ItemId": item_id}
        attributes = {"name": fields.title, "description": fields.description}
        if any(value is not None for value in attributes.values()):
            product["Attributes"] = attributes
        if fields.images is not None:
            product["Images"] = {"Image": self._hosted(fields.images)}
        package = package_fields(fields.weight_kg, fields.dimensions)
        if package:
            listing = listing_from_wire(self.shop_id, self._detail(item_id))
            product["Skus"] = {"Sku": [{"SkuId": sku.sku_id, **package} for sku in listing.skus]}
        if len(product) > 1:
            self._call(PATH_PRODUCT_UPDATE, {"payload": request(product)})

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        """POST /image/upload (multipart; the file is not signed): the Lazada-hosted URL is the image id."""
        if not content:
            raise InvalidRequest("the image is empty", fields={"image": "empty"}, platform=PLATFORM)
        data = self._call(PATH_IMAGE_UPLOAD, None, files={"image": (filename, content, content_type)}).get("data")
        image = (data or {}).get("image") or {}
        url = str(image.get("url") or "")
        if not url:
            raise ConnectorError("the image upload answered no url", platform=PLATFORM)
        return UploadedImage(image_id=url, url=url)

    def _hosted(self, images: Sequence[str]) -> list[str]:
        """Lazada takes only its own image URLs: any other URL is migrated first (`/image/migrate`)."""
        hosted: list[str] = []
        for image in images:
            if lazada_hosted(image):
                hosted.append(image)
                continue
            payload = to_xml({"Request": {"Image": {"Url": image}}})
            data = self._call(PATH_IMAGE_MIGRATE, {"payload": payload}).get("data") or {}
            url = str((data.get("image") or {}).get("url") or "")
            if not url:
                raise ConnectorError("the image migration answered no url", platform=PLATFORM)
            hosted.append(url)
        return hosted

    def _sku_payload(self, sku: SkuDraft, draft_package: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "SellerSku": sku.seller_sku,
            "quantity": sku.stock,
            "price": decimal_str(sku.price),
            **draft_package,
            **({"saleProp": dict(sku.attributes)} if sku.attributes else {}),
        }

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        """POST /product/create: a leaf category, Lazada-hosted images, attributes; "Pending QC" is in review."""
        check_quantities({sku.seller_sku: sku.stock for sku in draft.skus})
        check_prices({sku.seller_sku: sku.price for sku in draft.skus})
        attributes: dict[str, Any] = {"name": draft.title, "description": draft.description}
        attributes["brand_id" if draft.brand_id else "brand"] = draft.brand_id or "No Brand"
        for choice in draft.attributes:
            attributes[choice.attribute_id] = choice.text if choice.text is not None else ",".join(choice.value_ids)
        package = package_fields(draft.weight_kg, draft.dimensions)
        product = {
            "PrimaryCategory": check_id(draft.category_id, "category_id"),
            "Images": {"Image": self._hosted(draft.images)},
            "Attributes": attributes,
            "Skus": {"Sku": [self._sku_payload(sku, package) for sku in draft.skus]},
        }
        return self._create(product, [sku.seller_sku for sku in draft.skus])

    def _create(self, product: Mapping[str, Any], seller_skus: Sequence[str]) -> CreatedListing:
        """POST /product/create. Lazada takes no idempotency key: after a create whose outcome is unknown
        (a timeout, a 5xx) the products with these SellerSkus created since are looked up first, and one
        found is the answer, so a retry never lists twice."""
        payload = request(product)
        started = datetime.now(UTC) - timedelta(minutes=5)
        uncertain: list[bool] = []

        def operation() -> CreatedListing:
            if uncertain:
                found = self._created_since(started, seller_skus)
                if found is not None:
                    return found
            try:
                return _created(self._call(PATH_PRODUCT_CREATE, {"payload": payload}, retry=False).get("data"))
            except Transient:
                uncertain.append(True)
                raise

        return call_with_retries(operation, policy=self._policy)

    def _created_since(self, since: datetime, seller_skus: Sequence[str]) -> CreatedListing | None:
        """The product created since `since` holding every one of these SellerSkus, if there is one."""
        params = {
            "filter": "all",
            "create_after": iso(since),
            "sku_seller_list": json_list(list(seller_skus)),
            "limit": str(PRODUCT_PAGE),
            "offset": "0",
        }
        data = self._data(PATH_PRODUCTS, params) or {}
        wanted = set(seller_skus)
        for product in data.get("products") or []:
            skus = {str(sku.get("SellerSku")): str(sku.get("SkuId")) for sku in product.get("skus") or []}
            if wanted <= set(skus):
                log.info(
                    "lazada seller %s: a create that timed out had listed item %s", self.shop_id, product.get("item_id")
                )
                in_review = str(product.get("status") or "").lower() == PENDING_QC.lower()
                sku_ids = {seller_sku: skus[seller_sku] for seller_sku in wanted}
                return CreatedListing(item_id=str(product.get("item_id")), sku_ids=sku_ids, in_review=in_review)
        return None

    def add_variants(self, item_id: str, skus: Sequence[SkuDraft], location_id: str | None = None) -> CreatedListing:
        """POST /product/create with `AssociatedSku` (one of the item's SKUs): the new SKUs join that item."""
        check_id(item_id)
        check_quantities({sku.seller_sku: sku.stock for sku in skus})
        check_prices({sku.seller_sku: sku.price for sku in skus})
        listing = listing_from_wire(self.shop_id, self._detail(item_id))
        anchor = next((sku.seller_sku for sku in listing.skus if sku.seller_sku), None)
        if anchor is None:
            raise InvalidRequest("the item has no SKU to associate the new ones with", platform=PLATFORM)
        package = package_fields(listing.weight_kg, listing.dimensions)
        product = {
            "PrimaryCategory": listing.category_id,
            "AssociatedSku": anchor,
            "Skus": {"Sku": [self._sku_payload(sku, package) for sku in skus]},
        }
        created = _created(self._data(PATH_PRODUCT_CREATE, {"payload": request(product)}))
        return CreatedListing(item_id=item_id, sku_ids=created.sku_ids, in_review=created.in_review)

    def list_categories(self) -> list[RemoteCategory]:
        """GET /category/tree/get, flattened (parents before children)."""
        data = self._data(PATH_CATEGORY_TREE, {"language_code": LANGUAGE}) or []
        return list(categories_from_tree([node for node in data if isinstance(node, dict)]))

    def get_category_attributes(self, category_id: str) -> list[RemoteAttribute]:
        params = {"primary_category_id": check_id(category_id, "category_id"), "language_code": LANGUAGE}
        data = self._data(PATH_CATEGORY_ATTRIBUTES, params) or []
        return [attribute_from_wire(row) for row in data if isinstance(row, dict)]

    def list_brands(self, category_id: str) -> list[RemoteBrand]:
        """GET /category/brands/query by pages of 200 (Lazada's brands are per country, not per category)."""
        brands: list[RemoteBrand] = []
        start = 0
        while True:
            page, total = brands_from_wire(
                self._data(PATH_BRANDS, {"startRow": str(start), "pageSize": str(BRAND_PAGE)})
            )
            brands.extend(page)
            start += BRAND_PAGE
            if not page or start >= total:
                return brands

    def list_logistics_channels(self) -> list[LogisticsChannel]:
        """Lazada listings take no logistics channel."""
        return []


def lazada_hosted(url: str) -> bool:
    """An image Lazada serves itself (its CDN, `*.slatic.net`), usable as is in a product."""
    host = urlsplit(url).hostname or ""
    return host == LAZADA_IMAGE_DOMAIN or host.endswith("." + LAZADA_IMAGE_DOMAIN)


def _created(data: Any) -> CreatedListing:
    if not isinstance(data, dict) or data.get("item_id") is None:
        raise ConnectorError("the product create answered no item_id", platform=PLATFORM)
    sku_ids = {
        str(row["seller_sku"]): str(row["sku_id"])
        for row in data.get("sku_list") or []
        if isinstance(row, dict) and row.get("seller_sku") and row.get("sku_id") is not None
    }
    in_review = str(data.get("item_status") or "").strip().lower() == PENDING_QC.lower()
    return CreatedListing(item_id=str(data["item_id"]), sku_ids=sku_ids, in_review=in_review)
