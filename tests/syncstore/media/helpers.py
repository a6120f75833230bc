# Test helpers for media: real JPEG/PNG bytes, a real HTTP image server on loopback, and an uploading marketplace.
"""Media test helpers.

`ImageServer` serves registered bodies over real HTTP on 127.0.0.1 (with a chosen content type, a
delay, or a lying Content-Length) and counts the requests per path. `UploadingShop` is a shop's
connector as far as images go: it records each upload and answers a fresh id, refuses on demand,
and creates a listing only from ids it issued (as the platforms do).
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from connectors.base import CreatedListing, InvalidRequest, ListingDraft, UploadedImage


def picture(
    colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (640, 480), fmt: str = "JPEG"
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def noisy_picture(size: tuple[int, int]) -> bytes:
    """A JPEG that compresses badly (random noise), to exceed a byte limit at a modest size."""
    import random

    rng = random.Random(7)
    image = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


@dataclass
class Route:
    body: bytes
    content_type: str = "image/jpeg"
    delay_s: float = 0.0
    status: int = 200


class ImageServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] += 1
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay_s:
                    time.sleep(route.delay_s)
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add(self, path: str, body: bytes, **kwargs: object) -> str:
        self.routes[path] = Route(body, **kwargs)  # type: ignore[arg-type]
        return f"{self.base}{path}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class UploadingShop:
    """A shop's connector for images: uploads recorded, ids issued, refusals on demand."""

    def __init__(self, platform: str = "shopee", name: str = "s") -> None:
        self.platform, self.name = platform, name
        self.uploads: list[tuple[str, bytes, str]] = []
        self.issued: set[str] = set()
        self.refuse_upload_after: int | None = None
        self.refuse_create = False
        self.created: list[ListingDraft] = []

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        if self.refuse_upload_after is not None and len(self.uploads) >= self.refuse_upload_after:
            raise InvalidRequest("image upload refused", platform=self.platform, code="error_image")
        self.uploads.append((filename, content, content_type))
        image_id = f"{self.name}-img-{len(self.uploads)}"
        self.issued.add(image_id)
        return UploadedImage(image_id=image_id, url=f"https://cdn.example/{image_id}.jpg")

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        unknown = [image for image in draft.images if image not in self.issued]
        if unknown or self.refuse_create:
            raise InvalidRequest(f"unknown images {unknown}" if unknown else "refused", platform=self.platform)
        self.created.append(draft)
        return CreatedListing(item_id=f"item-{len(self.created)}", sku_ids={s.seller_sku: "1" for s in draft.skus})

    def uploaded_bytes(self) -> Sequence[bytes]:
        return [content for _name, content, _type in self.uploads]
