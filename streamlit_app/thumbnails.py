# Thumbnails of product images for tables and previews: URLs as they are, stored images as small data URIs.
"""`src(ref)`: what an <img> shows for a product image reference.

A URL is shown as it is (the browser fetches it). A `media:<sha256>` reference (an uploaded file,
stored by `syncstore.media`) has no URL the browser could fetch, so it becomes a small JPEG data URI
(at most 160 px, a few kB), made once per image and cached by its hash.
"""

from __future__ import annotations

import base64
import logging

import streamlit as st

from streamlit_app import ui
from syncstore.media import images, refs
from syncstore.media import store as media

THUMBNAIL = images.Limits(max_bytes=24_000, max_side_px=160)
log = logging.getLogger(__name__)


@st.cache_data(show_spinner=False, max_entries=2000)
def _data_uri(digest: str) -> str | None:
    try:
        with ui.session() as session:
            content, content_type = media.read_image(session, digest)
        small = images.fit(content, THUMBNAIL)
    except Exception:  # a missing or unreadable image shows no thumbnail; the page goes on
        log.warning("no thumbnail for stored image %s", digest, exc_info=True)
        return None
    data, kind = (small[0], small[1].content_type) if small is not None else (content, content_type)
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def src(ref: str | None) -> str | None:
    """A URL or data URI for `ref` (None when there is nothing to show)."""
    if not ref:
        return None
    digest = refs.hash_of_ref(ref)
    return ref if digest is None else _data_uri(digest)
