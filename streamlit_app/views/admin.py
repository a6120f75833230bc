# The Admin page: users and roles, the audit log with filters, alert settings and open alerts.
"""Admin (shown to admins only; every change is checked again by syncstore.security.auth)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from streamlit_app import low_stock_panel, ui
from syncstore.ops import alerts
from syncstore.security import audit, auth
from syncstore.security.auth import Permission, Role, UserView
from syncstore.settings import Settings

AUDIT_PAGE_SIZE = 50
ALL = "All"


# --- users -----------------------------------------------------------------------------------


def users_section() -> None:
    with ui.session() as session:
        users = auth.list_users(session)
    st.dataframe(
        {
            "E-mail": [u.email for u in users],
            "Name": [u.name for u in users],
            "Role": [u.role.value for u in users],
            "Active": [u.is_active for u in users],
            "Sign-in": ["password" if u.has_password else "single sign-on" for u in users],
            "Last sign-in": [ui.when(u.last_login_at) for u in users],
        },
        hide_index=True,
        width="stretch",
    )
    change_user(users)
    add_user()


def change_user(users: list[UserView]) -> None:
    if not users:
        return
    by_id = {u.id: u for u in users}
    st.markdown("**Change a user**")
    user_col, role_col, button_col = st.columns([3, 2, 2])
    chosen = user_col.selectbox("User", list(by_id), format_func=lambda i: by_id[i].email, key="admin_user")
    if chosen is None:
        return
    user = by_id[chosen]
    roles = [r.value for r in Role]
    role = role_col.selectbox("Role", roles, index=roles.index(user.role.value), key=f"admin_role_{user.id}")
    if button_col.button("Set role", key="admin_set_role", disabled=role == user.role.value):
        ui.write(lambda actor, s: auth.set_role(actor, s, user.id, role), f"{user.email} is now {role}.")
    sign_in_col, unlock_col = st.columns([5, 2])
    temporary = sign_in_col.text_input(
        f"Temporary password for {user.email} (they must change it at next sign-in)",
        type="password",
        key=f"admin_temporary_{user.id}",
    )
    if sign_in_col.button("Reset password", key="admin_reset_password", disabled=not temporary):
        ui.write(
            lambda actor, s: auth.reset_password(actor, s, user.id, temporary),
            f"{user.email} must choose a new password at next sign-in.",
        )
    with ui.session() as session:
        locked_until = auth.sign_in_locks(session).get(user.email)
    if locked_until is not None:
        unlock_col.caption(f"Sign-in blocked until {ui.when(locked_until)}")
        if unlock_col.button("Unlock sign-in", key="admin_unlock"):
            ui.write(lambda actor, s: auth.unlock_sign_in(actor, s, user.id), f"{user.email} can sign in again.")
    if user.is_active:
        if st.button(f"Deactivate {user.email}", key="admin_deactivate"):
            ui.write(lambda actor, s: auth.deactivate_user(actor, s, user.id), f"{user.email} can no longer sign in.")
    elif st.button(f"Activate {user.email}", key="admin_activate"):
        ui.write(lambda actor, s: auth.activate_user(actor, s, user.id), f"{user.email} can sign in again.")


def add_user() -> None:
    with st.form("admin_add_user", clear_on_submit=False):
        st.markdown("**Add a user**")
        email_col, name_col, role_col = st.columns(3)
        email = email_col.text_input("E-mail", key="new_user_email")
        name = name_col.text_input("Name", key="new_user_name")
        role = role_col.selectbox("Role", [r.value for r in Role], index=2, key="new_user_role")
        password = st.text_input(
            f"Password (at least {auth.PASSWORD_MIN_LENGTH} characters, not a common one; "
            "empty for single sign-on only)",
            type="password",
            key="new_user_password",
        )
        submitted = st.form_submit_button("Add user", type="primary")
    if submitted:
        ui.write(
            lambda actor, s: auth.create_user(actor, s, email=email, role=role, password=password or None, name=name),
            f"Added {email}.",
        )


# --- audit log -------------------------------------------------------------------------------


def audit_section() -> None:
    with ui.session() as session:
        actors, actions, entities = audit.audit_choices(session)
    actor_col, action_col, entity_col, id_col = st.columns(4)
    actor = actor_col.selectbox("Who", [ALL, *actors], key="audit_actor")
    action = action_col.selectbox("Action", [ALL, *actions], key="audit_action")
    entity = entity_col.selectbox("Entity", [ALL, *entities], key="audit_entity")
    entity_id = id_col.text_input("Entity id", key="audit_entity_id")
    days = st.select_slider("Period", [1, 7, 30, 365, 0], value=30, key="audit_days",
                            format_func=lambda d: "all time" if d == 0 else f"last {d} days")  # fmt: skip
    since = None if days == 0 else datetime.combine(datetime.now(UTC).date(), time(), UTC) - timedelta(days=days - 1)
    filters = audit.AuditFilter(
        actor_label=None if actor == ALL else actor,
        action=None if action == ALL else action,
        entity_type=None if entity == ALL else entity,
        entity_id=entity_id.strip() or None,
        since=since,
    )
    with ui.session() as session:
        total = audit.list_audit(session, filters, limit=1).total
        pages = max((total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE, 1)
        page = int(st.session_state.get("audit_page", 1))
        page = min(max(page, 1), pages)
        found = audit.list_audit(session, filters, limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE)
    st.caption(f"{found.total:,} entries · page {page} of {pages}")
    if not found.rows:
        st.info("No audit entry matches.")
        return
    st.dataframe(
        {
            "When": [ui.when(row.created_at) for row in found.rows],
            "Who": [row.actor_label for row in found.rows],
            "Action": [row.action for row in found.rows],
            "Entity": [f"{row.entity_type} {row.entity_id or ''}".strip() for row in found.rows],
            "Id": [row.id for row in found.rows],
        },
        hide_index=True,
        width="stretch",
    )
    if pages > 1:
        st.pagination(pages, default=page, key="audit_page")
    by_id = {row.id: row for row in found.rows}
    chosen = st.selectbox("Before and after of entry", list(by_id), key="audit_entry",
                          format_func=lambda i: f"#{i} {by_id[i].action} by {by_id[i].actor_label}")  # fmt: skip
    if chosen is not None:
        before_col, after_col = st.columns(2)
        before_col.caption("Before")
        before_col.json(by_id[chosen].before or {}, expanded=False)
        after_col.caption("After")
        after_col.json(by_id[chosen].after or {}, expanded=False)


# --- alerts ----------------------------------------------------------------------------------


def alerts_section() -> None:
    settings = Settings()
    st.markdown("**Alert settings** (set in the environment; restart to change)")
    st.dataframe(
        {
            "Setting": [
                "Alert webhook (SYNCSTORE_ALERT_WEBHOOK_URL)",
                "Sync failure rate alert",
                "API quota alert",
                "Webhook processing delay alert",
                "Low stock",
            ],
            "Value": [
                ui.redact_url(settings.alert_webhook_url),
                f"over {alerts.FAILURE_RATE_THRESHOLD:.0%} of the last hour's syncs "
                f"(at least {alerts.FAILURE_RATE_MIN_SAMPLES})",
                f"over {alerts.QUOTA_THRESHOLD:.0%} of a shop's daily quota",
                f"an event pending for {int(alerts.WEBHOOK_DELAY.total_seconds() // 60)} minutes",
                "per variant threshold, set on the Inventory page; daily digest at "
                f"{settings.low_stock_digest_hour:02d}:00 {settings.low_stock_digest_timezone}",
            ],
        },
        hide_index=True,
        width="stretch",
    )
    low_stock_panel.show("admin")
    with ui.session() as session:
        open_alerts = alerts.open_alerts(session)
    if not open_alerts:
        st.success("No open alert.")
        return
    st.markdown(f"**{len(open_alerts)} open alert{'s' if len(open_alerts) != 1 else ''}**")
    for alert in open_alerts:
        show = st.error if alert.severity == "critical" else st.warning
        show(
            f"**{alert.kind}** · {alert.subject}: {alert.message} "
            f"(first {ui.when(alert.first_seen_at)}, last {ui.when(alert.last_seen_at)}, "
            f"seen {alert.occurrences} times)"
        )


def main() -> None:
    ui.current_actor()
    st.title("Admin")
    if not ui.can(Permission.USERS_MANAGE):
        ui.read_only_note(Permission.USERS_MANAGE)
        return
    users_tab, audit_tab, alerts_tab = st.tabs(["Users and roles", "Audit log", "Alerts"])
    with users_tab:
        users_section()
    with audit_tab:
        audit_section()
    with alerts_tab:
        alerts_section()


main()
