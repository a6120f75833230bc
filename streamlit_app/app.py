# The Streamlit entry point: page setup, sign-in (local users or OIDC) and the pages the role may see.
"""`streamlit run streamlit_app/app.py`.

Sign-in: local users (argon2 hashes in the users table) always; OIDC through `st.login` when
`.streamlit/secrets.toml` has an `[auth]` section, the e-mail then mapped to a SyncStore user.
Hiding pages is a convenience: every write is checked again by syncstore's permission check.

A signed-in user lands on the Overview (`views/overview.py`); the menu titles of the pages with
something needing action carry its count, e.g. "Conflicts (3)" (`streamlit_app.attention`).

Sessions: a password sign-in starts a server-side session (`syncstore.security.sessions`) whose
HttpOnly cookie is set through the app's own session route (`streamlit_app.session_cookie`, served
by `streamlit_app/syncstore_app.py`). A reload, or a page link opened in a new tab, finds the user
again from that cookie; every interaction re-checks the session, so a sign-out elsewhere or a
deactivation signs the tab out at once. A link opened while signed out shows the sign-in form at
that link and, once signed in, the page it names (with its query, e.g. an OAuth callback's
`?connected=` on Connections).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from streamlit_app import attention, i18n, session_cookie, ui
from streamlit_app.i18n import N_, t, tv
from syncstore.security import auth, preferences, sessions
from syncstore.security.auth import Actor, Permission
from syncstore.settings import get_settings

logger = logging.getLogger(__name__)

# st.session_state keys: this tab's server-side session, a ticket still to hand to the cookie route,
# and a cookie to clear after a sign-out.
SESSION_ID_KEY = "app_session_id"
TICKET_KEY = "app_session_ticket"
CLEAR_COOKIE_KEY = "app_session_clear_cookie"


@dataclass(frozen=True)
class PageSpec:
    """One page: its script, title, icon, section and the permission needed to see it (None: everyone)."""

    script: str
    title: str
    icon: str
    section: str
    needs: Permission | None = None


PAGES: tuple[PageSpec, ...] = (
    # The landing page, above the sections (an empty section header lists it first, with no heading).
    PageSpec("views/overview.py", N_("Overview"), ":material/dashboard:", ""),
    PageSpec("views/products.py", N_("Products"), ":material/inventory_2:", N_("Catalog")),
    PageSpec("views/product_editor.py", N_("Product editor"), ":material/edit_note:", N_("Catalog")),
    PageSpec("views/bulk_edit.py", N_("Bulk edit"), ":material/table_edit:", N_("Catalog"), Permission.CATALOG_WRITE),
    PageSpec("views/inventory.py", N_("Inventory"), ":material/warehouse:", N_("Catalog")),
    PageSpec("views/listings.py", N_("Listings"), ":material/link:", N_("Channels")),
    PageSpec("views/connections.py", N_("Connections"), ":material/storefront:", N_("Channels")),
    PageSpec("views/sync_activity.py", N_("Sync activity"), ":material/sync:", N_("Channels")),
    PageSpec("views/conflicts.py", N_("Conflicts"), ":material/call_split:", N_("Channels")),
    PageSpec("views/webhooks.py", N_("Webhooks"), ":material/webhook:", N_("Channels")),
    PageSpec("views/orders.py", N_("Orders"), ":material/receipt_long:", N_("Channels")),
    PageSpec("views/rules.py", N_("Rules"), ":material/rule:", N_("Settings")),
    PageSpec("views/admin.py", N_("Admin"), ":material/admin_panel_settings:", N_("Settings"), Permission.USERS_MANAGE),
    # Publishing (issue 16): create, import/export, categories, publish to shops.
    PageSpec("views/new_product.py", N_("New product"), ":material/add_box:", N_("Catalog"), Permission.CATALOG_WRITE),
    PageSpec("views/catalog_csv.py", N_("Import and export"), ":material/upload_file:", N_("Catalog")),
    PageSpec("views/categories.py", N_("Categories"), ":material/category:", N_("Catalog")),
    PageSpec("views/publish.py", N_("Publish to shops"), ":material/publish:", N_("Channels"), Permission.SYNC_RUN),
    PageSpec("views/api_keys.py", N_("API keys"), ":material/key:", N_("Settings")),
    PageSpec("views/preferences.py", N_("Language and time zone"), ":material/language:", N_("Account")),
)


APP_DIR = Path(__file__).resolve().parent
# The product's name, the same in every language.
APP_NAME = "SyncStore"
# The page a signed-in user lands on.
LANDING_PAGE = "views/overview.py"
# Whose preferences (language, time zone) this tab has loaded.
PREFERENCES_FOR_KEY = "app_preferences_for"


def visible_pages(actor: Actor) -> list[PageSpec]:
    """The pages `actor` may open (a page whose script is missing from this install is left out, and logged)."""
    pages = []
    for page in PAGES:
        if page.needs is not None and not auth.can(actor, page.needs):
            continue
        if not (APP_DIR / page.script).is_file():
            logger.warning("page %s is missing: %s", page.title, page.script)
            continue
        pages.append(page)
    return pages


def oidc_configured() -> bool:
    """Whether an [auth] section is configured for st.login (and so an SSO button is offered)."""
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets.toml at all
        return False
    return bool(section)


def _oidc_logged_in() -> bool:
    return oidc_configured() and bool(st.user.get("is_logged_in"))


def _oidc_email_verified() -> bool:
    """Whether the identity provider says it verified the e-mail (the `email_verified` claim is true).

    Without it anyone who can register an address at the provider could claim a SyncStore user's e-mail.
    """
    verified = st.user.get("email_verified")
    return verified is True or (isinstance(verified, str) and verified.strip().lower() == "true")


def _actor_from_oidc() -> Actor | None:
    """The SyncStore user behind the OIDC identity, matched by e-mail (verified by the provider only)."""
    email = st.user.get("email")
    if not isinstance(email, str) or not email or not _oidc_email_verified():
        return None
    with ui.session() as session:
        return auth.actor_for_email(session, email)


def client_address() -> str:
    """The browser's IP address as Streamlit sees it (st.context.ip_address), or "unknown"."""
    try:
        address = st.context.ip_address
    except Exception:  # an older Streamlit, or no browser connection (a script run)
        return auth.UNKNOWN_SOURCE
    return address if isinstance(address, str) and address else auth.UNKNOWN_SOURCE


def _sign_in_with_password(email: str, password: str) -> auth.SignInResult:
    with ui.session() as session:
        return auth.sign_in(session, email, password, source=client_address())


def _start_session(actor: Actor) -> None:
    """A server-side session for `actor`; its ticket is handed to the cookie route on the next run."""
    try:
        with ui.session() as session:
            started = sessions.start(session, actor, hours=get_settings().session_hours, source=client_address())
    except Exception:  # no session table or database trouble: this tab stays signed in, a reload will ask again
        logger.exception("could not start an app session")
        return
    st.session_state[SESSION_ID_KEY] = started.session_id
    st.session_state[TICKET_KEY] = started.ticket


def _cookie_token() -> str | None:
    """The session cookie's value as the browser sent it with this tab's connection, if any."""
    try:
        value = st.context.cookies.get(session_cookie.COOKIE_NAME)
    except Exception:  # no browser connection (a script run)
        return None
    return value if isinstance(value, str) and value else None


def _restore_from_cookie() -> Actor | None:
    """The user of the session cookie, when it names a live session (a reload or a new tab)."""
    token = _cookie_token()
    if token is None:
        return None
    try:
        with ui.session() as session:
            resolved = sessions.resolve(session, token)
    except Exception as error:  # the database is down: say so instead of showing the sign-in form
        logger.exception("could not restore the session")
        ui.show_error(error)
        st.stop()
    if resolved is None:
        return None
    st.session_state[SESSION_ID_KEY] = resolved.session_id
    ui.sign_in(resolved.actor)
    return resolved.actor


def _hand_over_cookie() -> None:
    """Render, once, what makes the browser fetch its session cookie (or delete it after a sign-out)."""
    ticket = st.session_state.pop(TICKET_KEY, None)
    if isinstance(ticket, str):
        st.html(session_cookie.hand_over_html(ticket), unsafe_allow_javascript=True)
    if st.session_state.pop(CLEAR_COOKIE_KEY, False):
        st.html(session_cookie.clear_html(), unsafe_allow_javascript=True)


def login_page() -> None:
    """The sign-in form (and the SSO button when OIDC is configured)."""
    st.title(APP_NAME)
    st.caption(t("Catalog and inventory sync for your marketplace shops."))
    if _oidc_logged_in():
        email = st.user.get("email", "")
        if not _oidc_email_verified():
            st.error(
                t(
                    "Your single sign-on provider has not verified the e-mail {email}, so SyncStore cannot "
                    "trust it. Verify the address with your provider, then sign in again.",
                    email=ui.plain(email),
                )
            )
        else:
            st.error(
                t(
                    "{email} signed in with single sign-on but is not a SyncStore user. Ask an admin to add you.",
                    email=ui.plain(email),
                )
            )
        if st.button(t("Sign out of single sign-on")):
            st.logout()
        return
    if oidc_configured():
        if importlib.util.find_spec("authlib") is None:
            st.warning(t("Single sign-on is configured but Authlib is not installed: pip install Authlib."))
        else:
            st.button(t("Sign in with single sign-on"), type="primary", on_click=st.login)
        st.divider()
    with st.form("sign-in"):
        email = st.text_input(t("E-mail"), key="login_email")
        password = st.text_input(t("Password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("Sign in"), type="primary")
    if submitted:
        try:
            result = _sign_in_with_password(email, password)
        except Exception as error:  # a database that is down must not show a traceback on the sign-in page
            logger.exception("sign-in failed")
            ui.show_error(error)
            return
        if result.actor is None:
            st.error(result.message or auth.WRONG_CREDENTIALS)
            return
        ui.sign_in(result.actor)
        _start_session(result.actor)
        st.rerun()


def change_password_page() -> None:
    """The only page of a user whose password an Admin reset: choose a new one before anything else."""
    actor = ui.current_actor()
    st.title(t("Choose a new password"))
    if actor.must_change_password:
        st.warning(t("An admin reset your password. Choose a new one to continue."))
    with st.form("change-password", clear_on_submit=True):
        current = st.text_input(t("Current password"), type="password", key="current_password")
        new = st.text_input(
            t("New password (at least {count} characters, not a common one)", count=auth.PASSWORD_MIN_LENGTH),
            type="password",
            key="new_password",
        )
        again = st.text_input(t("New password again"), type="password", key="new_password_again")
        submitted = st.form_submit_button(t("Change password"), type="primary")
    if not submitted:
        return
    if new != again:
        st.error(t("The two new passwords differ."))
        return
    try:
        with ui.session() as session:
            problem = auth.change_password(session, actor, current, new)
            refreshed = auth.actor_for_email(session, actor.label) if problem is None else None
    except Exception as error:
        ui.show_error(error)
        return
    if problem is not None:
        st.error(problem)
        return
    if refreshed is not None:
        ui.sign_in(refreshed)
    st.toast(t("Password changed."))
    st.rerun()


def _sign_out() -> None:
    was_oidc = _oidc_logged_in()
    actor = ui.signed_in_actor()
    session_id = st.session_state.pop(SESSION_ID_KEY, None)
    st.session_state.pop(TICKET_KEY, None)
    if actor is not None and isinstance(session_id, int):
        try:
            with ui.session() as session:
                sessions.end(session, actor, session_id)
        except Exception:  # the tab signs out anyway; the session then ends when it expires
            logger.exception("could not end the app session")
        st.session_state[CLEAR_COOKIE_KEY] = True
    ui.sign_out()
    _forget_preferences()
    if was_oidc:
        st.logout()


def load_preferences(actor: Actor, *, force: bool = False) -> None:
    """Put the user's language and time zone into this tab (once per sign-in, or after they change)."""
    if actor.user_id is None or (not force and st.session_state.get(PREFERENCES_FOR_KEY) == actor.user_id):
        return
    try:
        with ui.session() as session:
            chosen = preferences.get(session, actor.user_id)
    except Exception:  # the page still works in the browser's language
        logger.exception("could not read the user's preferences")
        return
    for key, value in ((i18n.LANGUAGE_KEY, chosen.language), (i18n.TIME_ZONE_KEY, chosen.time_zone)):
        if value:
            st.session_state[key] = value
        else:
            st.session_state.pop(key, None)
    st.session_state[PREFERENCES_FOR_KEY] = actor.user_id


def _forget_preferences() -> None:
    for key in (i18n.LANGUAGE_KEY, i18n.TIME_ZONE_KEY, PREFERENCES_FOR_KEY):
        st.session_state.pop(key, None)


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(f"**{ui.plain(actor.label)}**  \n{ui.badge(actor.role.value, 'blue')}")
        st.button(t("Sign out"), on_click=_sign_out, icon=":material/logout:")


def _session_still_live(actor: Actor, session_id: int) -> Actor | None:
    """This tab's session re-checked: ended (signed out elsewhere, user deactivated) or expired signs it out."""
    try:
        with ui.session() as session:
            resolved = sessions.check(session, session_id)
    except Exception as error:  # the database is down: say so, keep the session
        logger.exception("could not re-check the app session")
        ui.show_error(error)
        st.stop()
    if resolved is None or resolved.actor.user_id != actor.user_id:
        st.session_state.pop(SESSION_ID_KEY, None)
        ui.sign_out()
        return None
    if resolved.actor != actor:
        ui.sign_in(resolved.actor)
    return resolved.actor


def _still_valid(actor: Actor | None) -> Actor | None:
    """The signed-in actor as the users table says now: a deactivated user is signed out, a new role applies."""
    if actor is None or actor.user_id is None:
        return actor
    session_id = st.session_state.get(SESSION_ID_KEY)
    if isinstance(session_id, int):
        return _session_still_live(actor, session_id)
    try:
        with ui.session() as session:
            current = auth.actor_for_email(session, actor.label)
    except Exception as error:  # the database is down: say so, keep the session
        logger.exception("could not re-check the signed-in user")
        ui.show_error(error)
        st.stop()
    if current is None or current.user_id != actor.user_id:
        ui.sign_out()
        return None
    if current != actor:
        ui.sign_in(current)
    return current


def sign_in_pages() -> list[st.Page]:
    """The sign-in form at the app's root and at every page's link, so a link opened signed out (a new
    tab, an OAuth callback's return) shows the form, not "Page not found", and then the page it names."""
    title = t("Sign in")
    pages = [st.Page(login_page, title=title, icon=":material/login:", default=True)]
    for path in sorted({Path(spec.script).stem for spec in PAGES} | {"password"}):
        pages.append(st.Page(login_page, title=title, icon=":material/login:", url_path=path))
    return pages


def main() -> None:
    st.set_page_config(page_title=APP_NAME, page_icon=":material/sync_alt:", layout="wide")
    actor = _still_valid(ui.signed_in_actor())
    if actor is None:
        actor = _restore_from_cookie()
    if actor is None and _oidc_logged_in():
        try:
            actor = _actor_from_oidc()
        except Exception as error:
            logger.exception("OIDC sign-in lookup failed")
            ui.show_error(error)
        if actor is not None:
            ui.sign_in(actor)
    _hand_over_cookie()
    if actor is not None:
        load_preferences(actor)
    if actor is None:
        st.navigation(sign_in_pages(), position="hidden").run()
        return
    if actor.must_change_password:
        sidebar(actor)
        st.navigation(
            [st.Page(change_password_page, title=t("Choose a new password"), icon=":material/password:")],
            position="hidden",
        ).run()
        return

    sections: dict[str, list[st.Page]] = {}
    counts = attention.counts_or_none()  # the menu's badges: what needs action on each page
    for spec in visible_pages(actor):
        title = attention.nav_title(spec.script, tv(spec.title), counts)
        sections.setdefault(tv(spec.section) if spec.section else "", []).append(
            st.Page(spec.script, title=title, icon=spec.icon, default=spec.script == LANDING_PAGE)
        )
    account = st.Page(change_password_page, title=t("Change password"), icon=":material/password:", url_path="password")
    sections.setdefault(t("Account"), []).append(account)
    sidebar(actor)
    # Every page listed (no "View more"): the publishing pages made the list longer than the default cut-off.
    st.navigation(sections, expanded=True).run()


# Streamlit runs this file as __main__; importing it (tests, tools) only defines the pages.
if __name__ == "__main__":
    main()
