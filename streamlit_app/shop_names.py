# How a shop is named to people everywhere: "Shopee · Kedai Demo", or "Shopee shop 1001" while its name is unknown.
"""One shop title for every page and picker (never a bare key, never "Shopee · :" for a nameless shop).

A shop's name comes from its platform (Shopee's get_shop_info, read at connection and on a token
refresh); until it is known the shop is named by its platform and id.
"""

from __future__ import annotations

from streamlit_app import ui
from streamlit_app.i18n import t


def shop_title(platform: str, shop_name: str | None, shop_id: str | int) -> str:
    """ "Shopee · Kedai Demo"; "Shopee shop 1001" when the shop has no name yet."""
    name = (shop_name or "").strip()
    if name:
        return f"{ui.platform_label(platform)} · {name}"
    return t("{platform} shop {shop_id}", platform=ui.platform_label(platform), shop_id=shop_id)
