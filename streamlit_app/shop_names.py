# How a shop is named to people: "<Platform> · Kedai Demo", or "<Platform> shop 1001" while its name is unknown.
"""One shop title for every page and picker (never a bare key, never "<Platform> · :" for a nameless shop).

A shop's name comes from its platform (its shop-info call, read at connection and on a token
refresh); until it is known the shop is named by its platform and id.

`shop_title(platform, name, shop_id)` names a shop whose row is at hand; `title_of(connection_id)`
names a shop from the read models that carry only its connection id (a sync plan, a log row, a
publish result), from the shops as stored (one cached read of the few connection rows).
"""

from __future__ import annotations

from streamlit_app import ui
from streamlit_app.i18n import t
from syncstore.shops import connections


def shop_title(platform: str, shop_name: str | None, shop_id: str | int) -> str:
    """ "<Platform> · Kedai Demo"; "<Platform> shop 1001" when the shop has no name yet."""
    name = (shop_name or "").strip()
    if name:
        return f"{ui.platform_label(platform)} · {name}"
    return t("{platform} shop {shop_id}", platform=ui.platform_label(platform), shop_id=shop_id)


@ui.cached_read()
def _shops(url: str) -> dict[int, tuple[str, str, str]]:
    """Every shop by connection id: (platform, stored name, shop id)."""
    with ui.session() as session:
        return {c.id: (c.platform, c.shop_name, c.shop_id) for c in connections.list_connections(session)}


def title_of(connection_id: int | None, fallback: str = "") -> str:
    """The title of the shop with this connection id; `fallback` when there is none (a removed shop)."""
    if connection_id is None:
        return fallback
    shop = _shops(ui.database_url()).get(connection_id)
    if shop is None:
        return fallback
    platform, name, shop_id = shop
    return shop_title(platform, name, shop_id)


def name_of(connection_id: int | None, fallback: str = "") -> str:
    """The shop's own name where the platform is shown beside it (a pill, a badge); its title while it has none."""
    if connection_id is None:
        return fallback
    shop = _shops(ui.database_url()).get(connection_id)
    if shop is None:
        return fallback
    platform, name, shop_id = shop
    return name.strip() or shop_title(platform, name, shop_id)
