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
from streamlit_app.i18n import N_, t, tn, tv
from streamlit_app.shop_names import shop_title
from syncstore.errors import SyncStoreError
from syncstore.security.auth import Actor, Permission
from syncstore.shops import connections, marketplaces, oauth
from syncstore.sync import engine as sync

if TYPE_CHECKING:
    from syncstore.db.models import PlatformConnection

DISCONNECT_KEY: Final = "connections_disconnecting"
# A write's confirmation, shown at the top of the page after the rerun that shows its effect.
FLASH_KEY: Final = "connections_flash"
# What each `?error=` reason of the OAuth callback (syncstore.shops.oauth.failure_reason) means to a merchant.
CALLBACK_ERRORS: Final = {
    "invalid_state": N_("The authorization link was altered or made by another installation. Start again."),
    "expired_state": N_("The authorization took longer than 10 minutes. Start again."),
    "state_reused": N_("That authorization was already used. Start again to connect another shop."),
    "state_not_this_browser": N_(
        "That authorization was started in another browser (or its cookie was lost). "
        "Start again from this page, in this browser."
    ),
    "permission_denied": N_("Only an Admin can connect shops (the user who started it may no longer be one)."),
    "missing_code": N_("The marketplace sent no authorization code: the seller may have declined."),
    "code_rejected": N_("The marketplace refused the authorization code. Start again."),
    "platform_error": N_("The marketplace did not complete the authorization. Try again in a few minutes."),
    "not_configured": N_("This marketplace's app credentials are not configured on the server."),
    "no_shops": N_("The authorization covered no shop."),
    "main_account_unsupported": N_("Authorize a shop, not a main (merchant) account."),
    # The marketplace's own reason is in the receiver's log (its spec's `cross_border_refusal`).
    "cross_border_unsupported": N_(
        "This is a cross-border shop, whose stock its marketplace manages through global "
        "products: SyncStore does not support those yet. Connect a local shop."
    ),
    "invalid_request": N_("The marketplace's answer was malformed. Start again."),
    "storage_error": N_("The shop was authorized but could not be stored. Try again; see the server log."),
    "unknown_platform": N_("The callback named an unknown marketplace."),
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
        return shop_title(self.platform, self.shop_name, self.shop_id)


def platform_name(platform: str) -> str:
    return ui.platform_label(platform)


def _query_value(name: str) -> str | None:
    value = st.query_params.get(name)
    return str(value) if value else None


def callback_messages(cards: list[ShopCard]) -> None:
    """Say how the authorization the browser just came back from went (the callback's query parameters)."""
    connected, warning, error = _query_value("connected"), _query_value("warning"), _query_value("error")
    if connected:
        platform, _, shop_ids = connected.partition(":")
        ids = [shop for shop in shop_ids.split(",") if shop]
        # Each shop by the name its platform gave it (read at connection), its id when it has none.
        names = {card.shop_id: card.shop_name.strip() for card in cards if card.platform == platform}
        shops = ", ".join(names.get(shop) or shop for shop in ids) or "?"
        # Query parameters are anyone's text: shown literally (S3).
        st.success(
            tn(
                "Connected {platform} shop {shops}.",
                "Connected {platform} shops {shops}.",
                max(len(ids), 1),
                platform=ui.plain(platform_name(platform)),
                shops=ui.plain(shops),
            ),
            icon=":material/check_circle:",
        )
        if warning == "webhooks":
            st.warning(
                t(
                    "The shop is stored, but its webhooks could not be registered, so orders and edits made on the "
                    "marketplace arrive only with the periodic reconcile. The card below shows the reason; connect "
                    "the shop again to retry."
                ),
                icon=":material/warning:",
            )
    if error:
        text = tv(CALLBACK_ERRORS[error]) if error in CALLBACK_ERRORS else t("The authorization failed.")
        st.error(
            t("Connecting the shop failed ({reason}): {text}", reason=ui.plain(error), text=text),
            icon=":material/error:",
        )


def _quota_bar(card: ShopCard) -> None:
    limit = max(card.api_quota_limit, 1)
    share = min(card.api_quota_used / limit, 1.0)
    st.progress(
        share,
        text=t(
            "API calls today: {used} of {limit} ({share})",
            used=f"{card.api_quota_used:,}",
            limit=f"{card.api_quota_limit:,}",
            share=f"{share:.0%}",
        ),
    )
    if share >= 0.8:
        st.warning(t("Close to the daily quota: syncs of this shop may wait until it resets."), icon=":material/speed:")


def _span(seconds: float) -> str:
    """A duration in words, rounded to its largest unit ("4 hours", not "3 h" for 3 h 59 min)."""
    seconds = abs(int(seconds))
    if seconds < 90:
        return tn("{n} second", "{n} seconds", seconds)
    if seconds < 5400:
        return tn("{n} minute", "{n} minutes", round(seconds / 60))
    if seconds < 172_800:
        return tn("{n} hour", "{n} hours", round(seconds / 3600))
    return tn("{n} day", "{n} days", round(seconds / 86_400))


def _expiry(label: str, moment: datetime | None) -> str:
    """When a token expires, in the user's time zone: "in 4 hours", or in red how long ago it did."""
    if moment is None:
        return t("{label}: unknown", label=label)
    left = (moment - datetime.now(UTC)).total_seconds()
    at = ui.local_time(moment)
    if left <= 0:
        return ":red[" + t("{label}: expired {at} ({span} ago)", label=label, at=at, span=_span(left)) + "]"
    return t("{label}: {at} (in {span})", label=label, at=at, span=_span(left))


def _rate(rate: float) -> str:
    text = f"{rate:.1%}"
    return f":red[{text}]" if rate >= 0.1 else text


def _details(card: ShopCard) -> None:
    facts = [t("shop id {shop_id}", shop_id=ui.code_span(card.shop_id))]
    if card.region:
        facts.append(t("region {region}", region=ui.plain(card.region)))
    if card.cross_border:
        facts.append(ui.badge(t("cross-border"), "orange"))
    st.markdown(f"{ui.badge(card.status)} " + " · ".join(facts))
    failures = t("none sent") if card.failure_rate is None else _rate(card.failure_rate)
    st.markdown(
        "  \n".join(
            [
                _expiry(t("Access token expires"), card.access_token_expires_at),
                _expiry(t("Refresh token expires"), card.refresh_token_expires_at),
                t("Last sync: {when}", when=ui.when(card.last_synced_at)),
                t("Failed changes, last 24 h: {rate}", rate=failures),
                t("Orders polled up to: {when}", when=ui.when(card.order_cursor)),
            ]
        )
    )
    _subscriptions(card)
    _quota_bar(card)
    if card.paused_until is not None and card.paused_until > datetime.now(UTC):
        st.warning(
            t(
                "Throttled by the platform: requests to this shop wait until {until}.",
                until=ui.local_time(card.paused_until),
            )
        )
    if card.last_error:
        st.error(t("Last error: {error}", error=ui.plain(card.last_error)))


def _subscriptions(card: ShopCard) -> None:
    """Which webhook topics the platform accepted; a refused one is named with the platform's words."""
    if not card.webhook_subscriptions:
        return
    taken = [str(item.get("topic", "?")) for item in card.webhook_subscriptions if item.get("ok")]
    refused = [item for item in card.webhook_subscriptions if not item.get("ok")]
    st.text(t("Webhooks subscribed: {topics}", topics=", ".join(taken) or t("none")))
    for item in refused:
        # Platform text is shown literally, never as Markdown (S3).
        topic, message = item.get("topic", "?"), item.get("message") or t("no reason given")
        st.warning(t("Webhook topic {topic} refused: {message}", topic=ui.plain(topic), message=ui.plain(message)))


def _flash(message: str) -> None:
    """Confirm a write after the rerun, so the page under the message already shows its effect."""
    ui.after_write()
    st.session_state[FLASH_KEY] = message
    st.rerun()


def refresh_token(actor: Actor, card: ShopCard) -> None:
    """Refresh the shop's access token now (an Admin action; syncstore's check runs first).

    The shop's name is read again with the new token; the page reruns at once, so the card shows the
    new expiry (and name) instead of what was read before the write."""
    try:
        marketplaces.refresh_connection(actor, ui.engine(), card.id)
    except SyncStoreError as error:
        ui.show_error(error)
        return
    except ConnectorError as error:  # connector messages never carry tokens or app secrets
        st.error(
            t(
                "{platform} refused the token refresh: {error}",
                platform=platform_name(card.platform),
                error=ui.plain(error),
            )
        )
        return
    _flash(t("Token of {shop} refreshed.", shop=card.title))


def _forget_disconnect() -> None:
    st.session_state.pop(DISCONNECT_KEY, None)


def confirm_disconnect(actor: Actor, card: ShopCard) -> None:
    """The confirmation dialog (its title in the user's language, so it is made on each run)."""
    st.dialog(t("Disconnect shop?"), on_dismiss=_forget_disconnect)(_disconnect_body)(actor, card)


def _disconnect_body(actor: Actor, card: ShopCard) -> None:
    st.write(
        t(
            "**{shop}** will stop syncing: its tokens are deleted, and its listings and history stay. "
            "Connect it again to resume.",
            shop=ui.plain(card.title),
        )
    )
    yes, no = st.columns(2)
    if yes.button(t("Disconnect"), type="primary", key="confirm_disconnect", icon=":material/link_off:"):
        try:
            with ui.session() as session:
                connections.disconnect(actor, session, card.id)
        except SyncStoreError as error:
            ui.show_error(error)
            return
        _forget_disconnect()
        _flash(t("{shop} disconnected.", shop=card.title))
    if no.button(t("Cancel"), key="cancel_disconnect"):
        _forget_disconnect()
        st.rerun()


def _actions(actor: Actor, card: ShopCard) -> None:
    connected = card.status != "disconnected"
    buttons = st.container(horizontal=True)
    if buttons.button(
        t("Refresh token"), key=f"refresh_{card.id}", icon=":material/autorenew:", disabled=not connected
    ):
        refresh_token(actor, card)
    if buttons.button(t("Disconnect"), key=f"disconnect_{card.id}", icon=":material/link_off:", disabled=not connected):
        st.session_state[DISCONNECT_KEY] = card.id
    if st.session_state.get(DISCONNECT_KEY) == card.id:
        confirm_disconnect(actor, card)


def connect_links(actor: Actor) -> None:
    """A "Connect" link per platform: through the receiver's start route, which binds the authorization to
    this browser (a cookie the callback checks, S7), to the platform's real authorization page (a
    simulator in the demo)."""
    st.subheader(t("Connect a shop"))
    platforms = ui.platform_names()
    columns = st.columns(len(platforms))
    for column, platform in zip(columns, platforms, strict=True):
        name = ui.platform_label(platform)
        with column:
            try:
                link = oauth.start_authorization(actor, platform)
            except marketplaces.MarketplaceNotConfigured as error:
                # The server's own reason (which setting is missing) stays as syncstore wrote it.
                st.info(f"{name}: {ui.error_text(error)}", icon=":material/settings:")
                continue
            except SyncStoreError as error:
                ui.show_error(error)
                continue
            st.link_button(
                t("Connect a {platform} shop", platform=name), link, icon=":material/add_link:", type="primary"
            )
    st.caption(t("The link is valid for 10 minutes; the marketplace sends you back here when the seller approves."))


def main() -> None:
    actor = ui.current_actor()
    st.title(t("Connections"))
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(ui.plain(flash), icon=":material/check_circle:")
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
    callback_messages(cards)
    if not cards:
        st.info(
            t("No shop is connected yet. Connect one below.")
            if manage
            else t("No shop is connected yet. Ask an Admin to connect one.")
        )
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
