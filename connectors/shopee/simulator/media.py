# The Shopee simulator's media space: upload_image stores the bytes and hands out image ids; items must use them.
"""`MediaMixin` serves POST /api/v2/media_space/upload_image (multipart field `image`, JPG/JPEG/PNG, at most
10 MB each, fewer than 9 per call) and checks that add_item / update_item name uploaded image ids, never URLs.

How upload_image is signed is [unconfirmed]: Shopee's API reference types it "Public" (partner_id + path +
timestamp), some SDKs sign it as a shop call. `state.upload_kind` picks the reading ("public" by default);
a request signed the other way is refused as Shopee would (`error_sign`, or "There is no access_token").
A public-signed upload belongs to the partner (any of its shops may use it); a shop-signed one to its shop.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Final

from connectors.shopee.simulator.codes import Json
from connectors.shopee.simulator.core import SimulatorCore
from connectors.shopee.simulator.requests import ApiError, Ctx, image_url
from connectors.shopee.simulator.state import SimImage

MAX_IMAGE_BYTES: Final = 10 * 1024 * 1024
MAX_IMAGES_PER_CALL: Final = 8
MSG_IMAGE_NOT_EXIST: Final = "Image not exist."
# A file is what its first bytes say it is (the content type a client sends is not trusted).
_SIGNATURES: Final = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def sniff(data: bytes) -> str | None:
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


class MediaMixin(SimulatorCore):
    """Image uploads of `ShopeeSimulator`."""

    def _upload_image(self, ctx: Ctx) -> Json:
        files = ctx.body.get("image")
        if not isinstance(files, list) or not files:
            raise ApiError("error_param", "Wrong parameters, detail: image is required (multipart file field).")
        if len(files) > MAX_IMAGES_PER_CALL:
            raise ApiError("error_param", "Wrong parameters, detail: image number should be less than 9.")
        infos: list[Json] = []
        for index, (_filename, data) in enumerate(files):
            if len(data) > MAX_IMAGE_BYTES:
                raise ApiError("error_param", "Wrong parameters, detail: image size exceeds 10.0 MB.")
            kind = sniff(data)
            if kind is None:
                raise ApiError("error_param", "Wrong parameters, detail: image format accepted: JPG, JPEG, PNG.")
            image_id = f"sim-{self.state.next_image_no:07d}-{hashlib.sha256(data).hexdigest()[:16]}"
            self.state.next_image_no += 1
            self.state.images[image_id] = SimImage(
                image_id=image_id,
                shop_id=ctx.shop.shop_id if ctx.shop is not None else None,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                content_type=kind,
                data_b64=base64.b64encode(data).decode("ascii"),
            )
            region = ctx.shop.region if ctx.shop is not None else "SG"
            info = {
                "image_id": image_id,
                "image_url_list": [{"image_url_region": region, "image_url": image_url(image_id)}],
            }
            infos.append({"id": index, "error": "", "message": "", "image_info": info})
        return {"image_info": infos[0]["image_info"], "image_info_list": infos}

    def _check_images(self, ctx: Ctx, ids: list[str]) -> list[str]:
        """Every id must be an image uploaded by this partner (public) or this shop; a URL is no image id."""
        for image_id in ids:
            image = self.state.images.get(image_id)
            if image is None or (image.shop_id is not None and image.shop_id != ctx.shop_id):
                raise ApiError("error_param", MSG_IMAGE_NOT_EXIST)
        return ids

    def add_image(self, data: bytes, *, shop_id: int | None = None, image_id: str | None = None) -> str:
        """An image as if uploaded (by `shop_id`, or by the partner); returns its image_id (tests, the demo)."""
        with self._lock:
            image_id = image_id or f"sim-{self.state.next_image_no:07d}-{hashlib.sha256(data).hexdigest()[:16]}"
            self.state.next_image_no += 1
            self.state.images[image_id] = SimImage(
                image_id=image_id,
                shop_id=shop_id,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                content_type=sniff(data) or "application/octet-stream",
                data_b64=base64.b64encode(data).decode("ascii"),
            )
            return image_id

    def uploaded_image(self, image_id: str) -> bytes:
        """The bytes of an uploaded image (tests, the demo)."""
        with self._lock:
            return base64.b64decode(self.state.images[image_id].data_b64)

    def upload_count(self) -> int:
        with self._lock:
            return len(self.state.images)

    def set_upload_kind(self, kind: Any) -> None:
        """How upload_image must be signed: "public" (the API reference's type) or "shop"."""
        if kind not in ("public", "shop"):
            raise ValueError('upload_kind is "public" or "shop"')
        with self._lock:
            self.state.upload_kind = kind
