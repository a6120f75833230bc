# The API keys page: everyone creates and revokes their own keys (shown once); Admins see and revoke every key.
"""API keys for the public HTTP API (`syncstore api run`).

A new key is shown once, right after it is created, and stored only as a digest. A key acts with
its creator's role or a lower one, never more than the creator's current role.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from streamlit_app import ui
from streamlit_app.i18n import N_, t, tv
from syncstore.security import api_keys
from syncstore.security.api_keys import ApiKeyView
from syncstore.security.auth import Permission, Role
from syncstore.settings import get_settings

NEW_KEY = "api_keys_new_secret"
# A key's state, in words (shown with tv()).
KEY_STATES = (N_("active"), N_("revoked"), N_("expired"))


def _table(keys: list[ApiKeyView], *, owners: bool) -> None:
    if not keys:
        st.caption(t("No keys yet."))
        return
    data = {
        t("Name"): [k.name for k in keys],
        t("Key id"): [f"ssk_{k.prefix}_…" for k in keys],
        t("Role"): [tv(k.role.value) for k in keys],
        t("Created"): [ui.when(k.created_at) for k in keys],
        t("Expires"): [ui.when(k.expires_at) if k.expires_at else t("never") for k in keys],
        t("Last used"): [ui.when(k.last_used_at) if k.last_used_at else t("never") for k in keys],
        t("Status"): [tv("active" if k.active else ("revoked" if k.revoked_at else "expired")) for k in keys],
    }
    if owners:
        data = {t("Owner"): [k.owner_email for k in keys], **data}
    st.dataframe(data, hide_index=True, width="stretch")


def _revoke(keys: list[ApiKeyView], scope: str) -> None:
    active = {k.id: k for k in keys if k.revoked_at is None}
    if not active:
        return
    col, button = st.columns([4, 1])
    chosen = col.selectbox(
        t("Revoke a key"), list(active), format_func=lambda i: f"{active[i].name} (ssk_{active[i].prefix}_…)",
        key=f"api_keys_revoke_{scope}",
    )  # fmt: skip
    if chosen is not None and button.button(t("Revoke"), key=f"api_keys_revoke_button_{scope}"):
        ui.write(
            lambda actor, s: api_keys.revoke_key(s, actor, chosen), t("Key {name} revoked.", name=active[chosen].name)
        )


def _create(own_role: Role) -> None:
    roles = [r for r in (Role.VIEWER, Role.EDITOR, Role.ADMIN) if api_keys.role_allowed(own_role, r)]
    with st.form("api_keys_create", clear_on_submit=True):
        st.markdown(f"**{t('Create a key')}**")
        name = st.text_input(t("Name (what uses it, e.g. the warehouse system)"), max_chars=api_keys.NAME_MAX)
        role = st.selectbox(t("Role"), [r.value for r in roles], index=len(roles) - 1, format_func=tv)
        expires = st.date_input(t("Expires on (optional)"), value=None)
        submitted = st.form_submit_button(t("Create key"))
    if not submitted:
        return
    expires_at = datetime.combine(expires, time(23, 59, 59), tzinfo=UTC) if expires else None
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            created = api_keys.create_key(session, actor, name=name, role=role, expires_at=expires_at)
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state[NEW_KEY] = (created.view.name, created.secret)


def _show_new_key() -> None:
    """The key just created, once: it is dropped from the session as soon as it has been shown."""
    created = st.session_state.pop(NEW_KEY, None)
    if created is None:
        return
    name, secret = created
    st.success(t("Key {name} created. Copy it now: it is not shown again.", name=ui.plain(name)))
    st.code(secret, language=None)


def main() -> None:
    actor = ui.current_actor()
    st.title(t("API keys"))
    api_url = get_settings().api_url
    st.caption(
        t(
            "Keys for the public API at {url} (docs at {docs}): send {header}.",
            url=ui.code_span(api_url),
            docs=ui.code_span(api_url + "/docs"),
            header=ui.code_span("Authorization: Bearer <key>"),
        )
    )
    _create(actor.role)
    _show_new_key()
    st.subheader(t("Your keys"))
    with ui.session() as session:
        own = api_keys.list_keys(session, user_id=actor.user_id) if actor.user_id is not None else []
    _table(own, owners=False)
    _revoke(own, "own")
    if ui.can(Permission.KEYS_MANAGE):
        st.subheader(t("Every key"))
        with ui.session() as session:
            every = api_keys.list_keys(session)
        _table(every, owners=True)
        _revoke(every, "all")


main()
