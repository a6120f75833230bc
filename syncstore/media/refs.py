# How a product names an image: an http(s) URL, or `media:<sha256>` for an image stored in SyncStore.
"""Image references.

A master product's `images` list holds references, in order (the first is the cover):

- an `http://` or `https://` URL: fetched once, the first time it is needed, and stored by the
  SHA-256 of its bytes (`syncstore.media.store`); later uses of the same URL read the stored copy;
- `media:<64 hex digits>`: an image already stored (an uploaded file), by the SHA-256 of its bytes.

Either way the platform receives the id its upload call gave that image for that shop
(`syncstore.media.uploads`), never the reference itself.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

MEDIA_PREFIX: Final = "media:"
_HASH: Final = re.compile(r"^[0-9a-f]{64}$")


def media_ref(content_hash: str) -> str:
    """The reference of a stored image."""
    return f"{MEDIA_PREFIX}{content_hash}"


def hash_of_ref(ref: str) -> str | None:
    """The content hash a `media:` reference names; None for a URL (or anything else)."""
    if not ref.startswith(MEDIA_PREFIX):
        return None
    digest = ref[len(MEDIA_PREFIX) :].lower()
    return digest if _HASH.match(digest) else None


def is_media_ref(ref: str) -> bool:
    return hash_of_ref(ref) is not None


def is_url(ref: str) -> bool:
    return urlsplit(ref).scheme in ("http", "https") and bool(urlsplit(ref).netloc)


def shown(ref: str) -> str:
    """A reference as messages show it: a URL without its query or fragment (they may carry tokens)."""
    if is_media_ref(ref):
        return ref
    parts = urlsplit(ref)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else ref[:80]
