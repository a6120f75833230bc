# The TikTok Shop simulator's image upload: stores the bytes, answers the uri that create and edit must use.
"""`MediaMixin` serves POST /product/202309/images/upload (multipart field `data`, `use_case`, no shop_cipher;
the body is not signed) and checks that `main_images` name uploaded uris, never URLs (12052722).

Images: JPG, JPEG, PNG (the first bytes decide), at most 5 MB (the seller guide's limit; the API reference's
own limits are [unconfirmed]). An upload belongs to the seller whose token made it (uploads carry no shop).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any, Final

from connectors.tiktokshop.simulator.codes import E_IMAGE_URI
from connectors.tiktokshop.simulator.core import SimulatorCore
from connectors.tiktokshop.simulator.requests import Ctx, business_error, param

MAX_IMAGE_BYTES: Final = 5 * 1024 * 1024
USE_CASES: Final = frozenset(
    {"MAIN_IMAGE", "ATTRIBUTE_IMAGE", "DESCRIPTION_IMAGE", "CERTIFICATION_IMAGE", "SIZE_CHART_IMAGE"}
)
_SIGNATURES: Final = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
CDN: Final = "https://p16-oec-sg.ibyteimg.sim"


def sniff(data: bytes) -> str | None:
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


class MediaMixin(SimulatorCore):
    """Image uploads of `TikTokShopSimulator`."""

    def _upload_image(self, ctx: Ctx) -> Mapping[str, Any]:
        files = ctx.body.get("data") if isinstance(ctx.body, dict) else None
        if not isinstance(files, list) or len(files) != 1:
            raise param("data", "one image file is required (multipart field `data`)")
        use_case = ctx.body.get("use_case", "MAIN_IMAGE")
        if use_case not in USE_CASES:
            raise param("use_case", f"unknown use case {use_case}")
        _filename, data = files[0]
        if len(data) > MAX_IMAGE_BYTES:
            raise param("data", "the image is larger than 5 MB")
        kind = sniff(data)
        if kind is None:
            raise param("data", "the image format must be JPG, JPEG or PNG")
        uri = self.add_image(data, seller_id=ctx.seller_id)
        return {"uri": uri, "url": f"{CDN}/{uri}~tplv-o3syd03w52-origin-jpeg.jpeg", "width": 0, "height": 0,
                "use_case": use_case}  # fmt: skip

    def add_image(self, data: bytes, *, seller_id: str = "", uri: str | None = None) -> str:
        """An image as if uploaded by `seller_id` ("" = any seller may use it); returns its uri."""
        with self._lock:
            uri = uri or f"tos-maliva-i-o3syd03w52-us/{self.state.new_id()}{hashlib.sha256(data).hexdigest()[:12]}"
            self.state.images[uri] = {
                "seller_id": seller_id,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "content_type": sniff(data) or "application/octet-stream",
                "data_b64": base64.b64encode(data).decode("ascii"),
            }
            return uri

    def uploaded_image(self, uri: str) -> bytes:
        """The bytes of an uploaded image (b"" after a reload: bytes are not saved)."""
        with self._lock:
            return base64.b64decode(self.state.images[uri].get("data_b64", ""))

    def _check_image_uris(self, seller_id: str, uris: list[str]) -> None:
        for uri in uris:
            image = self.state.images.get(uri)
            if image is None or image["seller_id"] not in ("", seller_id):
                raise business_error(E_IMAGE_URI, "The image URI does not exist in TikTok Shop.")
