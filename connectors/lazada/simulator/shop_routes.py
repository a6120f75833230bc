# The Lazada simulator's seller and media APIs: images (upload, migrate), category tree, attributes, brands, seller.
"""`ShopRoutesMixin`: what a seller's app reads about the shop and the catalog, and where images are hosted."""

from __future__ import annotations

from starlette.responses import Response

from connectors.lazada.simulator.catalog import BRANDS, CATEGORY_ATTRIBUTES, CATEGORY_TREE
from connectors.lazada.simulator.codes import (
    E_BAD_LIMIT,
    E_FAILED,
    E_NOT_LEAF,
    IMAGE_MAX_BYTES,
)
from connectors.lazada.simulator.core import SimulatorCore
from connectors.lazada.simulator.requests import (
    Ctx,
    SimError,
    integer,
    mapping_of,
    ok,
    parse_payload,
    required,
)

_FILTER_STATUS = {"live": "Active", "inactive": "InActive", "deleted": "Deleted", "pending": "Pending QC"}
_PACKAGE = ("package_weight", "package_length", "package_width", "package_height")


class ShopRoutesMixin(SimulatorCore):
    """Images, categories, brands, the seller and its warehouses."""

    def h_image_upload(self, ctx: Ctx) -> Response:
        content = ctx.files.get("image")
        if not content:
            raise SimError("MissingParameter", "The input parameter image that is mandatory is not supplied")
        if len(content) > IMAGE_MAX_BYTES:
            raise SimError(E_FAILED, "The image is larger than 3 MB")
        if not (content.startswith(b"\xff\xd8") or content.startswith(b"\x89PNG")):
            raise SimError(E_FAILED, "Only JPG and PNG images are accepted")
        code = self.state.new_id()
        url = f"https://sg-test-11.slatic.net/p/{code}.jpg"
        self.state.images.append(url)
        return ok({"image": {"url": url, "hash_code": code}})

    def h_image_migrate(self, ctx: Ctx) -> Response:
        request = parse_payload(required(ctx.params, "payload"))
        image = mapping_of(request.get("Image"))
        source = str(image.get("Url") or "")
        if not source.startswith(("http://", "https://")):
            raise SimError(E_FAILED, "Invalid image URL")
        code = self.state.new_id()
        url = f"https://sg-test-11.slatic.net/p/{code}.jpg"
        self.state.images.append(url)
        return ok({"image": {"url": url, "hash_code": code}})

    def h_category_tree(self, ctx: Ctx) -> Response:
        return ok(CATEGORY_TREE)

    def h_category_attributes(self, ctx: Ctx) -> Response:
        category = required(ctx.params, "primary_category_id")
        if category not in CATEGORY_ATTRIBUTES:
            raise SimError(E_NOT_LEAF, f"primary_category_id {category} is not a leaf category")
        return ok(CATEGORY_ATTRIBUTES[category])

    def h_brands(self, ctx: Ctx) -> Response:
        start = integer(required(ctx.params, "startRow"), "startRow")
        size = integer(required(ctx.params, "pageSize"), "pageSize")
        if not 1 <= size <= 200 or start < 0:
            raise SimError(E_BAD_LIMIT, "pageSize must be between 1 and 200")
        module = BRANDS[start : start + size]
        return ok(
            {"module": module, "total_record": len(BRANDS), "start_row": start, "page_size": size, "success": True}
        )

    def h_seller_get(self, ctx: Ctx) -> Response:
        seller = ctx.shop
        return ok(
            {
                "seller_id": int(seller.seller_id),
                "name": seller.name,
                "short_code": seller.short_code,
                "status": "ACTIVE",
                "cb": seller.cross_border,
                "verified": True,
                "location": seller.country.upper(),
            }
        )

    def h_warehouses(self, ctx: Ctx) -> Response:
        module = [
            {"code": code, "name": code.title(), "isDefault": index == 0, "addressType": "warehouse"}
            for index, code in enumerate(ctx.shop.warehouses)
        ]
        return ok({"module": module, "success": True})
