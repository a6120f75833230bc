# The demo's sample images: small real JPEGs drawn from each image's path, served over HTTP on loopback.
"""Sample images.

The sample catalog names its images under a placeholder host (`PLACEHOLDER_HOST`,
https://images.syncstore.example, a reserved domain that never resolves). The demo and the
benchmarks serve them locally instead: `SampleImageServer` answers `GET /<handle>/<name>.jpg` with
`sample_image(path)`, a 600x600 JPEG in a colour taken from the path's hash with the product handle
and the image's name written on it (deterministic: the same path always gives the same bytes), and
`catalog_with_local_images` writes a copy of the catalog CSV whose image URLs point at the server
(`SYNCSTORE_DEMO_IMAGE_BASE`, http://127.0.0.1:8104 by default). So the app shows thumbnails and an
upload to a marketplace carries real bytes, with no internet.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
import threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from syncstore.data.generate_sample import IMAGE_HOST

PLACEHOLDER_HOST: Final = IMAGE_HOST
SIDE: Final = 600


@lru_cache(maxsize=4096)
def sample_image(path: str) -> bytes:
    """The JPEG for an image path ("kain-studio-heavyweight-boxy-tee/1.jpg"): same path, same bytes."""
    digest = hashlib.sha256(path.encode()).digest()
    background = (64 + digest[0] % 160, 64 + digest[1] % 160, 64 + digest[2] % 160)
    image = Image.new("RGB", (SIDE, SIDE), background)
    draw = ImageDraw.Draw(image)
    inset = 24 + digest[3] % 40
    draw.rectangle((inset, inset, SIDE - inset, SIDE - inset), outline=(255, 255, 255), width=6)
    handle, _, name = path.strip("/").rpartition("/")
    words = "\n".join(textwrap.wrap(handle.replace("-", " "), width=18)[:5])
    draw.multiline_text((60, 90), words, fill=(255, 255, 255), font=ImageFont.load_default(size=40), spacing=10)
    label = name.rsplit(".", 1)[0]
    draw.text((60, SIDE - 130), label, fill=(255, 255, 255), font=ImageFont.load_default(size=56))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def local_url(url: str, base: str) -> str:
    """A placeholder-host URL as served by the local server at `base`; any other URL unchanged."""
    return base.rstrip("/") + url[len(PLACEHOLDER_HOST) :] if url.startswith(PLACEHOLDER_HOST + "/") else url


def catalog_with_local_images(source: Path, target: Path, base: str) -> Path:
    """A copy of a catalog CSV whose placeholder image URLs point at `base` (nothing else changes)."""
    text = source.read_text(encoding="utf-8")
    target.write_text(text.replace(PLACEHOLDER_HOST + "/", base.rstrip("/") + "/"), encoding="utf-8")
    return target


class _Handler(BaseHTTPRequestHandler):
    def _answer(self, with_body: bool) -> None:
        path = self.path.split("?", 1)[0].lstrip("/")
        if not path.endswith(".jpg") or ".." in path or path.count("/") != 1:
            self.send_error(404)
            return
        body = sample_image(path)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=86400")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def log_message(self, format: str, *args: object) -> None:
        return


class SampleImageServer:
    """Serves the sample images on 127.0.0.1 from a thread of this process (`port` 0: any free port)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sample-images", daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        self._thread.start()
        return self.base

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
