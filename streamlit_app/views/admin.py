# The Admin page: users and roles, the audit log with filters, alert settings and open alerts.
"""Admin (shown to admins only; every change is checked again by syncstore.security.auth).

Deactivating a user asks first, naming the user; the add-user form and a temporary password clear
once saved (a refused one keeps what was typed, with the reason).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Final

import streamlit as st
from sqlalchemy.orm import Session

from streamlit_app import low_stock_panel, ui
from streamlit_app.conflict_words import audit_description
from streamlit_app.i18n import N_, t, tn, tv
from streamlit_app.shop_names import shop_title
from syncstore.ops import alerts
from syncstore.security import audit, auth
from syncstore.security.auth import Actor, Permission, Role, UserView
from syncstore.settings import Settings
from syncstore.shops import connections

AUDIT_PAGE_SIZE: Final = 50
ALL: Final = "All"
# Widget keys to empty at the start of the next run, after a write that used them succeeded.
CLEAR_KEY: Final = "admin_clear_after_save"
DEACTIVATE_KEY: Final = "admin_deactivating"
NEW_USER_KEYS: Final = ("new_user_email", "new_user_name", "new_user_password")
SEVERITY_COLOURS: Final = {N_("critical"): "red", N_("warning"): "orange"}
SIGN_IN_WORDS: Final = (N_("password"), N_("single sign-on"))
# Audit entity types that are a connected shop (its row id is the entity id).
CONNECTION_ENTITIES: Final = frozenset({"platform_connection", "platform_connections"})


def _clear_saved_inputs() -> None:
    """Empty the inputs of the write the previous run saved (before their widgets are drawn)."""
    for key in st.session_state.pop(CLEAR_KEY, ()):
        st.session_state.pop(key, None)


def _write_and_clear(action: Callable[[Actor, Session], object], message: str, keys: Sequence[str]) -> None:
    """ui.write, then the inputs in `keys` start empty on the rerun; a refused write keeps them."""
    st.session_state[CLEAR_KEY] = tuple(keys)
    if not ui.write(action, message):
        st.session_state.pop(CLEAR_KEY, None)


def _user_label(user: UserView) -> str:
    return f"{user.name} ({user.email})" if user.name else user.email


# --- users -----------------------------------------------------------------------------------


def users_section() -> None:
    _clear_saved_inputs()
    with ui.session() as session:
        users = auth.list_users(session)
    st.dataframe(
        {
            t("E-mail"): [u.email for u in users],
            t("Name"): [u.name for u in users],
            t("Role"): [tv(u.role.value) for u in users],
            t("Status"): [tv("active") if u.is_active else tv("inactive") for u in users],
            t("Sign-in"): [tv(SIGN_IN_WORDS[0]) if u.has_password else tv(SIGN_IN_WORDS[1]) for u in users],
            t("Last sign-in"): [ui.when(u.last_login_at) for u in users],
        },
        hide_index=True,
        width="stretch",
    )
    change_user(users)
    add_user()


def _forget_deactivate() -> None:
    st.session_state.pop(DEACTIVATE_KEY, None)


def confirm_deactivate(user: UserView) -> None:
    """Ask before deactivating, naming the user (the dialog's title is in the user's language, so made per run)."""
    st.dialog(t("Deactivate user?"), on_dismiss=_forget_deactivate)(_deactivate_body)(user)


def _deactivate_body(user: UserView) -> None:
    st.write(
        t(
            "**{user}** will no longer be able to sign in, and every browser where they are signed in is signed "
            "out at once. Their history stays; activate them again to undo.",
            user=ui.plain(_user_label(user)),
        )
    )
    yes, no = st.columns(2)
    if yes.button(
        t("Deactivate {email}", email=user.email), type="primary", key="confirm_deactivate", icon=":material/block:"
    ):
        _forget_deactivate()
        ui.write(
            lambda actor, s: auth.deactivate_user(actor, s, user.id),
            t("{email} can no longer sign in.", email=user.email),
        )
    if no.button(t("Cancel"), key="cancel_deactivate"):
        _forget_deactivate()
        st.rerun()


def change_user(users: list[UserView]) -> None:
    if not users:
        return
    by_id = {u.id: u for u in users}
    st.markdown("**" + t("Change a user") + "**")
    user_col, role_col, button_col = st.columns([3, 2, 2])
    chosen = user_col.selectbox(t("User"), list(by_id), format_func=lambda i: _user_label(by_id[i]), key="admin_user")
    if chosen is None:
        return
    user = by_id[chosen]
    roles = [r.value for r in Role]
    role = role_col.selectbox(
        t("Role"), roles, index=roles.index(user.role.value), format_func=tv, key=f"admin_role_{user.id}"
    )
    if button_col.button(t("Set role"), key="admin_set_role", disabled=role == user.role.value):
        ui.write(
            lambda actor, s: auth.set_role(actor, s, user.id, role),
            t("{email} is now {role}.", email=user.email, role=tv(role)),
        )
    sign_in_col, unlock_col = st.columns([5, 2])
    temporary_key = f"admin_temporary_{user.id}"
    temporary = sign_in_col.text_input(
        t("Temporary password for {email} (they must change it at next sign-in)", email=user.email),
        type="password",
        key=temporary_key,
    )
    if sign_in_col.button(t("Reset password"), key="admin_reset_password", disabled=not temporary):
        _write_and_clear(
            lambda actor, s: auth.reset_password(actor, s, user.id, temporary),
            t("{email} must choose a new password at next sign-in.", email=user.email),
            (temporary_key,),
        )
    with ui.session() as session:
        locked_until = auth.sign_in_locks(session).get(user.email)
    if locked_until is not None:
        unlock_col.caption(t("Sign-in blocked until {when}", when=ui.when(locked_until)))
        if unlock_col.button(t("Unlock sign-in"), key="admin_unlock"):
            ui.write(
                lambda actor, s: auth.unlock_sign_in(actor, s, user.id),
                t("{email} can sign in again.", email=user.email),
            )
    if user.is_active:
        if st.button(t("Deactivate {email}", email=user.email), key="admin_deactivate", icon=":material/block:"):
            st.session_state[DEACTIVATE_KEY] = user.id
        if st.session_state.get(DEACTIVATE_KEY) == user.id:
            confirm_deactivate(user)
    elif st.button(t("Activate {email}", email=user.email), key="admin_activate"):
        ui.write(
            lambda actor, s: auth.activate_user(actor, s, user.id), t("{email} can sign in again.", email=user.email)
        )


def add_user() -> None:
    with st.form("admin_add_user", clear_on_submit=False):
        st.markdown("**" + t("Add a user") + "**")
        email_col, name_col, role_col = st.columns(3)
        email = email_col.text_input(t("E-mail"), key="new_user_email")
        name = name_col.text_input(t("Name"), key="new_user_name")
        role = role_col.selectbox(t("Role"), [r.value for r in Role], index=2, format_func=tv, key="new_user_role")
        password = st.text_input(
            t(
                "Password (at least {n} characters, not a common one; empty for single sign-on only)",
                n=auth.PASSWORD_MIN_LENGTH,
            ),
            type="password",
            key="new_user_password",
        )
        submitted = st.form_submit_button(t("Add user"), type="primary")
    if submitted:
        # Saved: the form starts empty for the next person; refused: what was typed stays, with the reason.
        _write_and_clear(
            lambda actor, s: auth.create_user(actor, s, email=email, role=role, password=password or None, name=name),
            t("Added {email}.", email=email),
            NEW_USER_KEYS,
        )


# --- audit log -------------------------------------------------------------------------------


def _entity(entity_type: str, entity_id: str | None, shops: dict[str, str]) -> str:
    """What an entry is about: a shop by its name, anything else by its type and id."""
    if entity_type in CONNECTION_ENTITIES and entity_id in shops:
        return shops[entity_id]
    return f"{entity_type} {entity_id or ''}".strip()


def _or_all(value: str) -> str:
    return t("All") if value == ALL else value


def _period(days: int) -> str:
    return t("all time") if days == 0 else tn("last {n} day", "last {n} days", days)


def audit_section() -> None:
    with ui.session() as session:
        actors, actions, entities = audit.audit_choices(session)
    actor_col, action_col, entity_col, id_col = st.columns(4)
    actor = actor_col.selectbox(t("Who"), [ALL, *actors], format_func=_or_all, key="audit_actor")
    action = action_col.selectbox(t("Action"), [ALL, *actions], format_func=_or_all, key="audit_action")
    entity = entity_col.selectbox(t("Entity"), [ALL, *entities], format_func=_or_all, key="audit_entity")
    entity_id = id_col.text_input(t("Entity id"), key="audit_entity_id")
    days = st.select_slider(t("Period"), [1, 7, 30, 365, 0], value=30, key="audit_days", format_func=_period)
    since = None if days == 0 else datetime.combine(datetime.now(UTC).date(), time(), UTC) - timedelta(days=days - 1)
    filters = audit.AuditFilter(
        actor_label=None if actor == ALL else actor,
        action=None if action == ALL else action,
        entity_type=None if entity == ALL else entity,
        entity_id=entity_id.strip() or None,
        since=since,
    )
    with ui.session() as session:
        shops = {
            str(row.id): shop_title(row.platform, row.shop_name, row.shop_id)
            for row in connections.list_connections(session)
        }
        total = audit.list_audit(session, filters, limit=1).total
        pages = max((total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE, 1)
        page = int(st.session_state.get("audit_page", 1))
        page = min(max(page, 1), pages)
        found = audit.list_audit(session, filters, limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE)
    st.caption(
        tn("{count} entry", "{count} entries", found.total, count=f"{found.total:,}")
        + " · "
        + t("page {page} of {pages}", page=page, pages=pages)
    )
    if not found.rows:
        st.info(t("No audit entry matches."))
        return
    st.dataframe(
        {
            t("When"): [ui.when(row.created_at) for row in found.rows],
            t("Who"): [row.actor_label for row in found.rows],
            t("Action"): [row.action for row in found.rows],
            t("What"): [audit_description(row.action, row.after) for row in found.rows],
            t("Entity"): [_entity(row.entity_type, row.entity_id, shops) for row in found.rows],
            t("Id"): [row.id for row in found.rows],
        },
        hide_index=True,
        width="stretch",
    )
    if pages > 1:
        st.pagination(pages, default=page, key="audit_page")
    by_id = {row.id: row for row in found.rows}
    chosen = st.selectbox(
        t("Before and after of entry"),
        list(by_id),
        key="audit_entry",
        format_func=lambda i: t("#{id} {action} by {who}", id=i, action=by_id[i].action, who=by_id[i].actor_label),
    )
    if chosen is not None:
        before_col, after_col = st.columns(2)
        before_col.caption(t("Before"))
        before_col.json(by_id[chosen].before or {}, expanded=False)
        after_col.caption(t("After"))
        after_col.json(by_id[chosen].after or {}, expanded=False)


# --- alerts ----------------------------------------------------------------------------------


def alerts_section() -> None:
    settings = Settings()
    st.markdown("**" + t("Alert settings") + "** " + t("(set in the environment; restart to change)"))
    st.dataframe(
        {
            t("Setting"): [
                t("Alert webhook (SYNCSTORE_ALERT_WEBHOOK_URL)"),
                t("Sync failure rate alert"),
                t("API quota alert"),
                t("Webhook processing delay alert"),
                t("Low stock"),
            ],
            t("Value"): [
                ui.redact_url(settings.alert_webhook_url),
                t(
                    "over {share} of the last hour's syncs (at least {n})",
                    share=f"{alerts.FAILURE_RATE_THRESHOLD:.0%}",
                    n=alerts.FAILURE_RATE_MIN_SAMPLES,
                ),
                t("over {share} of a shop's daily quota", share=f"{alerts.QUOTA_THRESHOLD:.0%}"),
                tn(
                    "an event pending for {n} minute",
                    "an event pending for {n} minutes",
                    int(alerts.WEBHOOK_DELAY.total_seconds() // 60),
                ),
                t(
                    "per variant threshold, set on the Inventory page; daily digest at {hour}:00 {zone}",
                    hour=f"{settings.low_stock_digest_hour:02d}",
                    zone=settings.low_stock_digest_timezone,
                ),
            ],
        },
        hide_index=True,
        width="stretch",
    )
    low_stock_panel.show("admin")
    with ui.session() as session:
        open_alerts = alerts.open_alerts(session)
    if not open_alerts:
        st.success(t("No open alert."))
        return
    st.markdown("**" + tn("{n} open alert", "{n} open alerts", len(open_alerts)) + "**")
    for alert in open_alerts:
        show = st.error if alert.severity == "critical" else st.warning
        # The alert's own text is syncstore's (English for now), shown literally.
        show(
            f"{ui.badge(alert.severity, SEVERITY_COLOURS.get(alert.severity))} "
            f"**{ui.plain(alert.kind)}** · {ui.plain(alert.subject)}: {ui.plain(alert.message)} "
            + t(
                "(first {first}, last {last}, seen {times})",
                first=ui.when(alert.first_seen_at),
                last=ui.when(alert.last_seen_at),
                times=tn("{n} time", "{n} times", alert.occurrences),
            )
        )


def main() -> None:
    ui.current_actor()
    st.title(t("Admin"))
    if not ui.can(Permission.USERS_MANAGE):
        ui.read_only_note(Permission.USERS_MANAGE)
        return
    users_tab, audit_tab, alerts_tab = st.tabs([t("Users and roles"), t("Audit log"), t("Alerts")])
    with users_tab:
        users_section()
    with audit_tab:
        audit_section()
    with alerts_tab:
        alerts_section()


main()
