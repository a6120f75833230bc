# Reading and resizing image bytes with Pillow: what an image is, and a copy that fits a platform's limits.
"""Image bytes.

`inspect` reads the type and size of an image from its bytes (never from a file name or a header)
and refuses anything but JPEG, PNG and WebP. `fit` returns a copy that fits a platform's upload
limits (`connectors.rules.PlatformRules.image_max_bytes`, `image_max_side_px`, `image_min_side_px`),
or None when the original already fits: first scaled so its longest side is within the limit, then,
while still too heavy, re-encoded as JPEG at lower quality and finally scaled down further. An image
whose shortest side is below the platform's minimum is refused, never enlarged (a blown-up image is
what the minimum exists to keep out); `syncstore.plan.validation` says so in the dry run.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError

from syncstore.media.errors import ImageRejected

CONTENT_TYPES: Final[dict[str, str]] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS: Final[dict[str, str]] = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_QUALITIES: Final = (90, 80, 70, 60, 50)
_SHRINK: Final = 0.8
_MAX_PIXELS: Final = 60_000_000


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Limits:
    """What an upload call takes; `key` names the resized variant cached for these limits."""

    max_bytes: int
    max_side_px: int
    min_side_px: int = 0

    @property
    def key(self) -> str:
        return f"{self.max_bytes}:{self.max_side_px}:{self.min_side_px}"


def _open(content: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            if image.width * image.height > _MAX_PIXELS:
                raise ImageRejected(
                    "the image is {width}x{height} pixels, more than SyncStore reads",
                    width=image.width,
                    height=image.height,
                )
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("the content is not a readable image") from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageRejected("the image cannot be read ({kind})", kind=type(error).__name__) from error
    return image


def inspect(content: bytes) -> ImageInfo:
    """The type and size of an image; ImageRejected unless it is a readable JPEG, PNG or WebP."""
    if not content:
        raise ImageRejected("the image is empty")
    image = _open(content)
    content_type = CONTENT_TYPES.get(image.format or "")
    if content_type is None:
        allowed = ", ".join(CONTENT_TYPES)
        raise ImageRejected(
            "{image_format} images are not accepted (only {allowed})",
            image_format=image.format or "unknown",
            allowed=allowed,
        )
    return ImageInfo(content_type, image.width, image.height)


def fits(info: ImageInfo, size: int, limits: Limits) -> bool:
    longest, shortest = max(info.width, info.height), min(info.width, info.height)
    return size <= limits.max_bytes and longest <= limits.max_side_px and shortest >= limits.min_side_px


def _scale_for(width: int, height: int, limits: Limits) -> float:
    longest = max(width, height)
    return limits.max_side_px / longest if longest > limits.max_side_px else 1.0


def too_small(info: ImageInfo, limits: Limits) -> str | None:
    """Why an image is too small for these limits, or None."""
    if limits.min_side_px and min(info.width, info.height) < limits.min_side_px:
        return (f"the image is {info.width}x{info.height} px; at least {limits.min_side_px} px on each side "
                "is needed: use a larger image")  # fmt: skip
    return None


def _resized(image: Image.Image, scale: float) -> Image.Image:
    if scale == 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            flat = Image.new("RGB", image.size, (255, 255, 255))
            rgba = image.convert("RGBA")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        image.save(out, "JPEG", quality=quality, optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=quality)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def fit(content: bytes, limits: Limits) -> tuple[bytes, ImageInfo] | None:
    """A copy of the image within `limits`, or None when it fits already; ImageRejected when nothing fits."""
    info = inspect(content)
    if (reason := too_small(info, limits)) is not None:
        raise ImageRejected(reason)
    if fits(info, len(content), limits):
        return None
    image = _open(content)
    fmt = image.format if image.format in CONTENT_TYPES else "JPEG"
    image = _resized(image, _scale_for(image.width, image.height, limits))
    data = _encode(image, fmt or "JPEG", _QUALITIES[0])
    attempts = 0
    while len(data) > limits.max_bytes:
        attempts += 1
        if attempts < len(_QUALITIES):
            data = _encode(image, "JPEG", _QUALITIES[attempts])
            continue
        if min(image.width, image.height) * _SHRINK < max(limits.min_side_px, 16):  # pragma: no cover
            raise ImageRejected("the image cannot be made smaller than {max_bytes} bytes", max_bytes=limits.max_bytes)
        image = _resized(image, _SHRINK)
        data = _encode(image, "JPEG", _QUALITIES[-1])
    return data, inspect(data)
