# The Connections page: each connected shop's status, tokens, quota use and last sync; connect, refresh, disconnect.
"""Connections.

One card per shop (`syncstore.shops.connections.list_connections`). Admins get the real authorization
link of each platform (`syncstore.shops.oauth.start_authorization`: a sealed, 10-minute state; in the
demo the link opens the simulators' authorization pages), a token refresh and a disconnect behind
a confirmation dialog. The OAuth callback sends the browser back here with `?connected=...`
(and `&warning=webhooks`) or `?error=<reason>`, which this page turns into a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import streamlit as st

from connectors.base import ConnectorError
from streamlit_app import shop_logistics, ui
from syncstore.errors import SyncStoreError
from syncstore.security.auth import Actor, Permission
from syncstore.shops import connections, marketplaces, oauth
from syncstore.sync import engine as sync

if TYPE_CHECKING:
    from syncstore.db.models import PlatformConnection

DISCONNECT_KEY: Final = "connections_disconnecting"
# What each `?error=` reason of the OAuth callback (syncstore.shops.oauth.failure_reason) means to a merchant.
CALLBACK_ERRORS: Final = {
    "invalid_state": "The authorization link was altered or made by another installation. Start again.",
    "expired_state": "The authorization took longer than 10 minutes. Start again.",
    "state_reused": "That authorization was already used. Start again to connect another shop.",
    "state_not_this_browser": "That authorization was started in another browser (or its cookie was lost). "
    "Start again from this page, in this browser.",
    "permission_denied": "Only an Admin can connect shops (the user who started it may no longer be one).",
    "missing_code": "The marketplace sent no authorization code: the seller may have declined.",
    "code_rejected": "The marketplace refused the authorization code. Start again.",
    "platform_error": "The marketplace did not complete the authorization. Try again in a few minutes.",
    "not_configured": "This marketplace's app credentials are not configured on the server.",
    "no_shops": "The authorization covered no shop.",
    "main_account_unsupported": "Authorize a shop, not a main (merchant) account.",
    # The marketplace's own reason is in the receiver's log (its spec's `cross_border_refusal`).
    "cross_border_unsupported": "This is a cross-border shop, whose stock its marketplace manages through global "
    "products: SyncStore does not support those yet. Connect a local shop.",
    "invalid_request": "The marketplace's answer was malformed. Start again.",
    "storage_error": "The shop was authorized but could not be stored. Try again; see the server log.",
    "unknown_platform": "The callback named an unknown marketplace.",
}


@dataclass(frozen=True)
class ShopCard:
    """What one card shows about a connection (never a token)."""

    id: int
    platform: str
    shop_id: str
    shop_name: str
    region: str
    status: str
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    api_quota_used: int
    api_quota_limit: int
    paused_until: datetime | None
    last_synced_at: datetime | None
    last_error: str | None
    failure_rate: float | None = None  # of the changes sent in the last 24 h
    # [{topic, ok, message}]: each push code / webhook event type and whether the platform took it.
    webhook_subscriptions: tuple[dict[str, Any], ...] = ()
    cross_border: bool = False
    order_cursor: datetime | None = None

    @classmethod
    def of(cls, row: PlatformConnection, failure_rate: float | None = None) -> ShopCard:
        return cls(
            id=row.id, platform=row.platform, shop_id=row.shop_id, shop_name=row.shop_name, region=row.region,
            status=row.status, access_token_expires_at=row.access_token_expires_at,
            refresh_token_expires_at=row.refresh_token_expires_at, api_quota_used=row.api_quota_used,
            api_quota_limit=row.api_quota_limit, paused_until=row.paused_until, last_synced_at=row.last_synced_at,
            last_error=row.last_error, failure_rate=failure_rate,
            webhook_subscriptions=tuple(row.webhook_subscriptions or ()), cross_border=row.cross_border,
            order_cursor=row.order_cursor,
        )  # fmt: skip

    @property
    def title(self) -> str:
        name = self.shop_name or f"shop {self.shop_id}"
        return f"{ui.platform_label(self.platform)} · {name}"


def platform_name(platform: str) -> str:
    return ui.platform_label(platform)


def _query_value(name: str) -> str | None:
    value = st.query_params.get(name)
    return str(value) if value else None


def callback_messages() -> None:
    """Say how the authorization the browser just came back from went (the callback's query parameters)."""
    connected, warning, error = _query_value("connected"), _query_value("warning"), _query_value("error")
    if connected:
        platform, _, shop_ids = connected.partition(":")
        shops = ", ".join(shop for shop in shop_ids.split(",") if shop) or "?"
        noun = "shops" if "," in shop_ids else "shop"
        # Query parameters are anyone's text: shown literally (S3).
        st.success(
            f"Connected {ui.plain(platform_name(platform))} {noun} {ui.plain(shops)}.", icon=":material/check_circle:"
        )
        if warning == "webhooks":
            st.warning(
                "The shop is stored, but its webhooks could not be registered, so orders and edits made on the "
                "marketplace arrive only with the periodic reconcile. The card below shows the reason; connect "
                "the shop again to retry.",
                icon=":material/warning:",
            )
    if error:
        text = CALLBACK_ERRORS.get(error, "The authorization failed.")
        st.error(f"Connecting the shop failed ({ui.plain(error)}): {text}", icon=":material/error:")


def _quota_bar(card: ShopCard) -> None:
    limit = max(card.api_quota_limit, 1)
    share = min(card.api_quota_used / limit, 1.0)
    st.progress(share, text=f"API calls today: {card.api_quota_used:,} of {card.api_quota_limit:,} ({share:.0%})")
    if share >= 0.8:
        st.caption(":orange[Close to the daily quota: syncs of this shop may wait until it resets.]")


def _span(seconds: float) -> str:
    seconds = abs(int(seconds))
    if seconds < 90:
        return f"{seconds}s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    if seconds < 172_800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86_400} days"


def _expiry(label: str, moment: datetime | None) -> str:
    """When a token expires: "in 4 h", or in red how long ago it did."""
    if moment is None:
        return f"{label}: —"
    left = (moment - datetime.now(UTC)).total_seconds()
    at = f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if left <= 0:
        return f"{label}: :red[expired {at} ({_span(left)} ago)]"
    return f"{label}: {at} (in {_span(left)})"


def _rate(rate: float) -> str:
    text = f"{rate:.1%}"
    return f":red[{text}]" if rate >= 0.1 else text


def _details(card: ShopCard) -> None:
    st.markdown(
        f"{ui.badge(card.status)} shop id {ui.code_span(card.shop_id)}"
        + (f" · region {ui.plain(card.region)}" if card.region else "")
        + (" · cross-border" if card.cross_border else "")
    )
    st.markdown(
        "  \n".join(
            [
                _expiry("Access token expires", card.access_token_expires_at),
                _expiry("Refresh token expires", card.refresh_token_expires_at),
                f"Last sync: {ui.when(card.last_synced_at)}",
                "Failed changes, last 24 h: "
                + ("none sent" if card.failure_rate is None else _rate(card.failure_rate)),
                f"Orders polled up to: {ui.when(card.order_cursor)}",
            ]
        )
    )
    _subscriptions(card)
    _quota_bar(card)
    if card.paused_until is not None and card.paused_until > datetime.now(UTC):
        until = f"{card.paused_until.astimezone(UTC):%H:%M:%S} UTC"
        st.warning(f"Throttled by the platform: requests to this shop wait until {until}.")
    if card.last_error:
        st.error(f"Last error: {ui.plain(card.last_error)}")


def _subscriptions(card: ShopCard) -> None:
    """Which webhook topics the platform accepted; a refused one is named with the platform's words."""
    if not card.webhook_subscriptions:
        return
    taken = [str(item.get("topic", "?")) for item in card.webhook_subscriptions if item.get("ok")]
    refused = [item for item in card.webhook_subscriptions if not item.get("ok")]
    st.text(f"Webhooks subscribed: {', '.join(taken) or 'none'}")
    for item in refused:
        # Platform text is shown literally, never as Markdown (S3).
        topic, message = item.get("topic", "?"), item.get("message") or "no reason given"
        st.warning(f"Webhook topic {ui.plain(topic)} refused: {ui.plain(message)}")


def refresh_token(actor: Actor, card: ShopCard) -> None:
    """Refresh the shop's access token now (an Admin action; syncstore's check runs first)."""
    try:
        marketplaces.refresh_connection(actor, ui.engine(), card.id)
    except SyncStoreError as error:
        ui.show_error(error)
        return
    except ConnectorError as error:  # connector messages never carry tokens or app secrets
        st.error(f"{platform_name(card.platform)} refused the token refresh: {ui.plain(error)}")
        return
    ui.after_write(f"Token of {card.title} refreshed")
    st.success(f"Token of {ui.plain(card.title)} refreshed.")


def _forget_disconnect() -> None:
    st.session_state.pop(DISCONNECT_KEY, None)


@st.dialog("Disconnect shop?", on_dismiss=_forget_disconnect)
def confirm_disconnect(actor: Actor, card: ShopCard) -> None:
    st.write(
        f"**{ui.plain(card.title)}** will stop syncing: its tokens are deleted, and its listings and history stay. "
        "Connect it again to resume."
    )
    yes, no = st.columns(2)
    if yes.button("Disconnect", type="primary", key="confirm_disconnect", icon=":material/link_off:"):
        try:
            with ui.session() as session:
                connections.disconnect(actor, session, card.id)
        except SyncStoreError as error:
            ui.show_error(error)
            return
        _forget_disconnect()
        ui.after_write(f"{card.title} disconnected")
        st.rerun()
    if no.button("Cancel", key="cancel_disconnect"):
        _forget_disconnect()
        st.rerun()


def _actions(actor: Actor, card: ShopCard) -> None:
    connected = card.status != "disconnected"
    buttons = st.container(horizontal=True)
    if buttons.button("Refresh token", key=f"refresh_{card.id}", icon=":material/autorenew:", disabled=not connected):
        refresh_token(actor, card)
    if buttons.button("Disconnect", key=f"disconnect_{card.id}", icon=":material/link_off:", disabled=not connected):
        st.session_state[DISCONNECT_KEY] = card.id
    if st.session_state.get(DISCONNECT_KEY) == card.id:
        confirm_disconnect(actor, card)


def connect_links(actor: Actor) -> None:
    """A "Connect" link per platform: through the receiver's start route, which binds the authorization to
    this browser (a cookie the callback checks, S7), to the platform's real authorization page (a
    simulator in the demo)."""
    st.subheader("Connect a shop")
    platforms = ui.platform_names()
    columns = st.columns(len(platforms))
    for column, platform in zip(columns, platforms, strict=True):
        name = ui.platform_label(platform)
        with column:
            try:
                link = oauth.start_authorization(actor, platform)
            except marketplaces.MarketplaceNotConfigured as error:
                st.info(f"{name}: {error}", icon=":material/settings:")
                continue
            except SyncStoreError as error:
                ui.show_error(error)
                continue
            st.link_button(f"Connect a {name} shop", link, icon=":material/add_link:", type="primary")
    st.caption("The link is valid for 10 minutes; the marketplace sends you back here when the seller approves.")


def main() -> None:
    actor = ui.current_actor()
    st.title("Connections")
    callback_messages()
    manage = ui.can(Permission.CONNECTIONS_MANAGE)
    try:
        with ui.session() as session:
            cards = [
                ShopCard.of(row, sync.failure_rate(session, connection_id=row.id))
                for row in connections.list_connections(session)
            ]
    except SyncStoreError as error:
        ui.show_error(error)
        return
    if not cards:
        st.info("No shop is connected yet." + (" Connect one below." if manage else " Ask an Admin to connect one."))
    # Two cards a row: a merchant with a few shops sees them all at once.
    for start in range(0, len(cards), 2):
        for column, card in zip(st.columns(2), cards[start : start + 2], strict=False):
            with column, st.container(border=True):
                st.subheader(ui.plain(card.title))
                _details(card)
                shop_logistics.section(card.id, manage)
                if manage:
                    _actions(actor, card)
    if manage:
        connect_links(actor)
    else:
        ui.read_only_note(Permission.CONNECTIONS_MANAGE)


main()
