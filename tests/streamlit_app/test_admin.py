# The Admin page: users and roles, the audit log with filters, alert settings (redacted) and open alerts.
from __future__ import annotations

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing, User
from syncstore.db.types import utcnow
from syncstore.ops import alerts
from syncstore.plan import conflicts
from syncstore.plan.conflicts import FoundConflict
from syncstore.security import auth
from syncstore.security.auth import Role
from syncstore.shops import connections
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with


def user(db: SeededDatabase, email: str) -> User | None:
    engine = db.engine()
    with transaction(engine) as session:
        found = session.scalar(sa.select(User).where(User.email == email))
    engine.dispose()
    return found


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def test_only_admins_get_the_admin_page(app_as: AppAs) -> None:
    for role in ("viewer", "editor"):
        at = app_as(role, None)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("views/admin.py")
    at = app_as("admin", "admin")
    assert not at.exception
    emails = list(frame_with(at, "E-mail")["E-mail"])
    assert emails == ["admin@example.com", "editor@example.com", "viewer@example.com"]


def test_an_admin_adds_a_user_changes_the_role_and_deactivates(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = app_as("admin", "admin")
    at.text_input(key="new_user_email").input("New.Person@example.com")
    at.text_input(key="new_user_name").input("New Person")
    at.text_input(key="new_user_password").input("a long enough password")
    at.button[[b.label for b in at.button].index("Add user")].click().run()
    assert not at.exception and not at.error, errors(at)
    added = user(seeded_db, "new.person@example.com")
    assert added is not None and added.role == "viewer"
    # Saved: the form is empty again for the next person (no password left in it).
    assert [at.text_input(key=k).value for k in ("new_user_email", "new_user_name", "new_user_password")] == [
        "",
        "",
        "",
    ]

    at.selectbox(key="admin_user").select(added.id).run()
    at.selectbox(key=f"admin_role_{added.id}").select("editor").run()
    at.button(key="admin_set_role").click().run()
    at.selectbox(key="admin_user").select(added.id).run()
    at.button(key="admin_deactivate").click().run()
    assert not at.error, errors(at)
    # Nothing yet: a dialog names the user and asks first; Cancel leaves them active.
    still = user(seeded_db, "new.person@example.com")
    assert still is not None and still.is_active
    assert any("New Person (new.person@example.com)" in m.value for m in at.markdown)
    at.button(key="cancel_deactivate").click().run()
    still = user(seeded_db, "new.person@example.com")
    assert still is not None and still.is_active
    at.button(key="admin_deactivate").click().run()
    assert at.button(key="confirm_deactivate").label == "Deactivate new.person@example.com"
    at.button(key="confirm_deactivate").click().run()
    assert not at.exception and not at.error, errors(at)
    changed = user(seeded_db, "new.person@example.com")
    assert changed is not None and (changed.role, changed.is_active) == ("editor", False)
    assert list(frame_with(at, "Status")["Status"]) == ["active", "active", "inactive", "active"]

    # The audit log shows who did it, filtered by action.
    at.selectbox(key="audit_action").select("user.set_role").run()
    log = frame_with(at, "Action")
    assert list(log["Action"]) == ["user.set_role"] and list(log["Who"]) == ["admin@example.com"]


def test_the_last_admin_cannot_be_demoted(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    admin = seeded_db.actors[Role.ADMIN]
    at = app_as("admin", "admin")
    at.selectbox(key="admin_user").select(admin.user_id).run()
    at.selectbox(key=f"admin_role_{admin.user_id}").select("viewer").run()
    at.button(key="admin_set_role").click().run()
    assert not at.exception
    assert "last active admin" in errors(at)
    stored = user(seeded_db, "admin@example.com")
    assert stored is not None and stored.role == "admin"


def test_bad_new_users_are_named_not_raised(app_as: AppAs) -> None:
    at = app_as("admin", "admin")
    at.text_input(key="new_user_email").input("not an e-mail")
    at.text_input(key="new_user_password").input("short")
    at.button[[b.label for b in at.button].index("Add user")].click().run()
    assert not at.exception
    assert "email" in errors(at) and "password" in errors(at)
    # Refused: what was typed stays, to be corrected.
    assert at.text_input(key="new_user_email").value == "not an e-mail"


def test_alert_settings_are_redacted_and_open_alerts_listed(
    app_as: AppAs, seeded_db: SeededDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCSTORE_ALERT_WEBHOOK_URL", "https://hooks.example.com/services/T000/B000/secret-token")
    engine = seeded_db.engine()
    with transaction(engine) as session:
        alerts.raise_alert(session, "quota", "shopee-1001", "Shopee quota at 91 %", details={"used": 91})
    engine.dispose()
    at = app_as("admin", "admin")
    settings = frame_with(at, "Setting")
    shown = " ".join(str(v) for v in settings["Value"])
    assert "https://hooks.example.com/" in shown and "secret-token" not in shown
    assert "secret-token" not in str(at)
    assert any("Shopee quota at 91 %" in w.value for w in at.warning)


def test_a_forced_user_change_by_an_editor_is_refused(seeded_db: SeededDatabase) -> None:
    engine = seeded_db.engine()
    editor = seeded_db.actors[Role.EDITOR]
    with pytest.raises(auth.PermissionDenied), transaction(engine) as session:
        auth.set_role(editor, session, editor.user_id, "admin")
    engine.dispose()


def test_an_admin_unlocks_a_locked_account_and_resets_a_password(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    editor = seeded_db.actors[Role.EDITOR]
    engine = seeded_db.engine()
    now = utcnow()
    for _ in range(auth.SIGN_IN_LOCKOUT_FAILURES):
        with transaction(engine) as session:
            auth.sign_in(session, "editor@example.com", "a wrong guess", source="10.9.9.8", now=now)
        # Each guess comes after the previous one's delay, so every one counts towards the lockout
        # (a guess made during a delay is refused uncounted, and a delay alone may end before the page shows).
        now += auth.SIGN_IN_MAX_DELAY
    engine.dispose()
    at = app_as("admin", "admin")
    at.selectbox(key="admin_user").select(editor.user_id).run()
    assert any("Sign-in blocked until" in c.value for c in at.caption)
    at.button(key="admin_unlock").click().run()
    assert not at.exception and not at.error, errors(at)
    at.selectbox(key="admin_user").select(editor.user_id).run()
    at.text_input(key=f"admin_temporary_{editor.user_id}").input("password1234").run()
    at.button(key="admin_reset_password").click().run()
    assert "too common" in errors(at)
    at.text_input(key=f"admin_temporary_{editor.user_id}").input("temporary-pass-4567").run()
    at.button(key="admin_reset_password").click().run()
    assert not at.exception
    # Saved: the temporary password is not left in the field.
    assert at.text_input(key=f"admin_temporary_{editor.user_id}").value == ""
    stored = user(seeded_db, "editor@example.com")
    assert stored is not None and stored.must_change_password
    engine = seeded_db.engine()
    with transaction(engine) as session:
        result = auth.sign_in(session, "editor@example.com", "temporary-pass-4567", source="10.9.9.9")
    engine.dispose()
    assert result.actor is not None and result.must_change_password


def test_the_audit_log_names_shops_and_conflict_decisions_in_words(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    admin = seeded_db.actors[Role.ADMIN]
    engine = seeded_db.engine()
    with transaction(engine) as session:
        shopee = session.scalars(sa.select(PlatformConnection).where(PlatformConnection.shop_id == "1001")).one()
        listing = session.scalars(sa.select(PlatformListing).where(PlatformListing.connection_id == shopee.id)).first()
        assert listing is not None
        conflicts.record(session, [FoundConflict(
            connection_id=shopee.id, listing_id=listing.id, product_id=listing.product_id, variant_id=None,
            platform="shopee", field="title", master_value="A", platform_value="B", base_value="C",
        )])  # fmt: skip
        conflict_id = conflicts.list_conflicts(session)[0].id
        conflicts.resolve(admin, session, conflict_id, "use_platform")
        connections.disconnect(admin, session, shopee.id)
    engine.dispose()
    at = app_as("admin", "admin")
    log = frame_with(at, "What")
    resolved = log[log["Action"] == "conflict.resolve"].iloc[0]
    assert resolved["What"] == "Conflict resolved: Use marketplace"
    disconnected = log[log["Action"] == "connection.disconnect"].iloc[0]
    assert disconnected["Entity"] == "Shopee · Demo Shopee MY"
