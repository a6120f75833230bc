# How a shop is named to people: "<Platform> · Kedai Demo", or "<Platform> shop 1001" while its name is unknown.
"""One shop title for every page and picker (never a bare key, never "<Platform> · :" for a nameless shop).

A shop's name comes from its platform (its shop-info call, read at connection and on a token
refresh); until it is known the shop is named by its platform and id.
"""

from __future__ import annotations

from streamlit_app import ui
from streamlit_app.i18n import t


def shop_title(platform: str, shop_name: str | None, shop_id: str | int) -> str:
    """ "<Platform> · Kedai Demo"; "<Platform> shop 1001" when the shop has no name yet."""
    name = (shop_name or "").strip()
    if name:
        return f"{ui.platform_label(platform)} · {name}"
    return t("{platform} shop {shop_id}", platform=ui.platform_label(platform), shop_id=shop_id)
