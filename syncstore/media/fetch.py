# Fetching one image URL with httpx: http(s) only, a byte limit, a timeout and an image content type.
"""Fetching images.

`fetch_image` streams the body and stops as soon as it passes the byte limit (a `Content-Length`
over it is refused before reading), so a huge or endless response costs at most the limit. A
declared content type other than an image (or `application/octet-stream`) is refused; the bytes
themselves are then checked by `syncstore.media.images.inspect`. Every failure is an explicit
error naming the URL without its query string.
"""

from __future__ import annotations

import threading
import time
from typing import Final

import httpx

from syncstore.media.errors import ImageFetchFailed, ImageRejected
from syncstore.media.refs import is_url, shown

# The HTTP client image fetches may share (None: the process's shared client).
HttpClient = httpx.Client

_ACCEPTED_TYPES: Final = ("image/", "application/octet-stream", "binary/octet-stream")
_HEADERS: Final = {"Accept": "image/jpeg, image/png, image/webp", "User-Agent": "SyncStore media fetcher"}


def fetch_image(url: str, *, max_bytes: int, timeout_s: float, client: httpx.Client | None = None) -> bytes:
    """The bytes at `url`; ImageFetchFailed (network, timeout, HTTP status) or ImageRejected (type, size)."""
    if not is_url(url):
        raise ImageRejected("{url} is not an http(s) URL", url=shown(url))
    try:
        return _read(client or _shared_client(), url, max_bytes=max_bytes, timeout_s=timeout_s)
    except httpx.TimeoutException as error:
        raise ImageFetchFailed(
            "{url}: no answer within {timeout_s:g} s", url=shown(url), timeout_s=timeout_s
        ) from error
    except httpx.HTTPError as error:
        raise ImageFetchFailed("{url}: {kind}", url=shown(url), kind=type(error).__name__) from error


_lock = threading.Lock()
_client: httpx.Client | None = None


def _shared_client() -> httpx.Client:
    """One client per process (thread safe): building one loads the CA bundle, ~30 ms each time."""
    global _client
    with _lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=True, max_redirects=5)
        return _client


def _read(http: httpx.Client, url: str, *, max_bytes: int, timeout_s: float) -> bytes:
    with http.stream("GET", url, headers=_HEADERS, timeout=timeout_s) as response:
        if response.status_code != 200:
            raise ImageFetchFailed("{url}: HTTP {status_code}", url=shown(url), status_code=response.status_code)
        declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if declared and not declared.startswith(_ACCEPTED_TYPES):
            raise ImageRejected("{url} is not an image ({declared})", url=shown(url), declared=declared)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise ImageRejected(
                "{url} is {length} bytes; at most {max_bytes} are accepted",
                url=shown(url),
                length=int(length),
                max_bytes=max_bytes,
            )
        body = bytearray()
        deadline = time.monotonic() + timeout_s
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if time.monotonic() > deadline:
                raise ImageFetchFailed(
                    "{url}: not received within {timeout_s:g} s", url=shown(url), timeout_s=timeout_s
                )
            if len(body) > max_bytes:
                raise ImageRejected(
                    "{url} is more than {max_bytes} bytes; at most {max_bytes} are accepted",
                    url=shown(url),
                    max_bytes=max_bytes,
                )
        return bytes(body)
