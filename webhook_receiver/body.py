# Reading a request body incrementally with a hard size cap (413), so a huge body is never buffered.
"""The raw request body, exactly as received, or a clear refusal.

A declared `Content-Length` over the cap is refused before anything is read; a chunked or lying
body is refused as soon as the bytes read pass the cap; a body that takes longer than its deadline
is refused with 408. The bytes are returned untouched: they are
what the signature covers.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive


class BodyRefused(Exception):
    """The body cannot be used; `reason` is the metric label, `status` the HTTP answer."""

    reason = "bad_body"
    status = 400


class BodyTooLarge(BodyRefused):
    reason = "too_large"
    status = 413


class BadContentLength(BodyRefused):
    reason = "bad_content_length"
    status = 400


class ClientGone(BodyRefused):
    reason = "client_disconnected"
    status = 400


class BodyTimeout(BodyRefused):
    reason = "body_timeout"
    status = 408


async def read_body(
    receive: Receive, max_bytes: int, declared: str | None = None, *, timeout_s: float | None = None
) -> bytes:
    """The whole body from ASGI `receive`, at most `max_bytes` of it (`declared`: the Content-Length).

    With `timeout_s`, the whole body must arrive within that many seconds, else `BodyTimeout` (a
    client trickling a body byte by byte cannot hold a request open for ever, S5).
    """
    if timeout_s is None:
        return await _read(receive, max_bytes, declared)
    try:
        async with asyncio.timeout(timeout_s):
            return await _read(receive, max_bytes, declared)
    except TimeoutError:
        raise BodyTimeout(f"the body did not arrive within {timeout_s:g} s") from None


async def _read(receive: Receive, max_bytes: int, declared: str | None) -> bytes:
    if declared is not None:
        text = declared.strip()
        if not (text.isascii() and text.isdigit()):
            raise BadContentLength("Content-Length is not a number")
        if int(text) > max_bytes:
            raise BodyTooLarge(f"Content-Length {text[:20]} is over the {max_bytes} byte limit")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("the client went away before sending the whole body")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge(f"body is over the {max_bytes} byte limit")
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
