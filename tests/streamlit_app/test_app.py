# The app shell: sign-in (local and OIDC), navigation by role, sign-out; errors shown, never raised.
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from streamlit_app import app as app_module
from tests.streamlit_app.conftest import APP_PATH, PASSWORD, RUN_TIMEOUT, AppAs, SeededDatabase

EVERY_PAGE = {
    "admin": ["Products", "Product editor", "Bulk edit", "Inventory", "Connections", "Sync activity", "Conflicts",
              "Webhooks", "Rules", "Admin", "API keys"],
    "editor": ["Products", "Product editor", "Bulk edit", "Inventory", "Connections", "Sync activity", "Conflicts",
               "Webhooks", "Rules", "API keys"],
    "viewer": ["Products", "Product editor", "Inventory", "Connections", "Sync activity", "Conflicts", "Webhooks",
               "Rules", "API keys"],
}  # fmt: skip
# Publishing (issue 16): New product and Publish need catalog.write / sync.run; the others everyone sees.
EVERY_PAGE["admin"] += ["New product", "Import and export", "Categories", "Publish to shops"]
EVERY_PAGE["editor"] += ["New product", "Import and export", "Categories", "Publish to shops"]
EVERY_PAGE["viewer"] += ["Import and export", "Categories"]
# Issue 17: every role reads Orders and the Listings page (SKU mapping; its actions need catalog.write).
for _pages in EVERY_PAGE.values():
    _pages += ["Orders", "Listings"]
# Issue 18: everyone chooses their own language and time zone, and lands on the Overview.
for _pages in EVERY_PAGE.values():
    _pages += ["Language and time zone", "Overview"]


CORE_PAGES = {"Products", "Product editor", "Bulk edit", "Inventory", "Rules", "Admin"}


def fresh_app() -> AppTest:
    return AppTest.from_file(str(APP_PATH), default_timeout=RUN_TIMEOUT)


def test_every_page_script_exists() -> None:
    views = Path(app_module.__file__).parent
    assert [spec.script for spec in app_module.PAGES if not (views / spec.script).is_file()] == []


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_each_role_sees_its_pages_and_each_opens_without_an_error(app_as: AppAs, role: str) -> None:
    at = app_as(role, None)
    assert not at.exception
    for page in app_module.PAGES:
        if page.title not in EVERY_PAGE[role]:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page.script)
            continue
        at.switch_page(page.script).run()
        assert not at.exception, (page.title, at.exception)
        assert at.title and at.title[0].value == page.title
        if page.title in CORE_PAGES:  # the other pages' own tests say which messages they show
            assert not [e.value for e in at.error], (page.title, [e.value for e in at.error])


def test_a_local_user_signs_in_and_out(seeded_db: SeededDatabase) -> None:
    at = fresh_app().run()
    assert not at.exception
    at.text_input(key="login_email").input("Editor@Example.com")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    assert not at.exception
    assert at.title[0].value == "Overview"  # the landing page
    assert "editor@example.com" in " ".join(m.value for m in at.sidebar.markdown)
    at.sidebar.button[0].click().run()
    assert at.title[0].value == "SyncStore"
    assert "actor" not in at.session_state


def test_a_wrong_password_is_refused(seeded_db: SeededDatabase) -> None:
    at = fresh_app().run()
    at.text_input(key="login_email").input("editor@example.com")
    at.text_input(key="login_password").input("not the password")
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    assert not at.exception
    assert "Wrong e-mail or password" in at.error[0].value
    assert at.title[0].value == "SyncStore"


def test_nobody_reaches_a_page_without_signing_in(seeded_db: SeededDatabase) -> None:
    at = fresh_app().run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/products.py")


OIDC = {"auth": {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "syncstore", "client_secret": "s",
                 "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration"}}  # fmt: skip


def test_an_oidc_identity_maps_to_its_syncstore_user_by_email(seeded_db: SeededDatabase) -> None:
    at = fresh_app()
    at.secrets.update(OIDC)
    at.user = {"email": "viewer@example.com", "email_verified": True, "is_logged_in": True}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Overview"  # the landing page
    assert at.session_state["actor"].role.value == "viewer"


def test_an_oidc_identity_without_a_user_is_told_so(seeded_db: SeededDatabase) -> None:
    at = fresh_app()
    at.secrets.update(OIDC)
    at.user = {"email": "stranger@example.com", "email_verified": True, "is_logged_in": True}
    at.run()
    assert not at.exception
    assert "not a SyncStore user" in at.error[0].value


def test_the_sso_button_appears_only_when_configured(seeded_db: SeededDatabase) -> None:
    plain = fresh_app().run()
    assert "Sign in with single sign-on" not in [b.label for b in plain.button]
    at = fresh_app()
    at.secrets.update(OIDC)
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    if importlib.util.find_spec("authlib") is None:  # st.login needs it; the page says so instead of failing
        assert "Authlib is not installed" in at.warning[0].value
    else:
        assert "Sign in with single sign-on" in [b.label for b in at.button]


def test_a_database_that_is_down_is_an_error_on_the_sign_in_page(
    seeded_db: SeededDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCSTORE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    at = fresh_app().run()
    at.text_input(key="login_email").input("editor@example.com")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    assert not at.exception
    assert "Something went wrong (OperationalError)" in at.error[0].value
    assert "nobody" not in at.error[0].value


def test_a_deactivated_user_is_signed_out_and_a_new_role_applies_at_once(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    from syncstore.db.engine import transaction
    from syncstore.security import auth
    from syncstore.security.auth import Role

    editor, admin = seeded_db.actors[Role.EDITOR], seeded_db.actors[Role.ADMIN]
    at = app_as("editor", "products")
    engine = seeded_db.engine()
    with transaction(engine) as session:
        auth.set_role(admin, session, editor.user_id, "viewer")
    at.run()
    assert at.session_state["actor"].role is Role.VIEWER
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/bulk_edit.py")
    with transaction(engine) as session:
        auth.deactivate_user(admin, session, editor.user_id)
    engine.dispose()
    at.run()
    assert at.title[0].value == "SyncStore"
    assert "actor" not in at.session_state


def _sign_in_form(at: AppTest, email: str, password: str) -> AppTest:
    at.text_input(key="login_email").input(email)
    at.text_input(key="login_password").input(password)
    return at.button[[b.label for b in at.button].index("Sign in")].click().run()


def test_sign_in_is_throttled_and_audited_with_the_source(seeded_db: SeededDatabase) -> None:
    import sqlalchemy as sa

    from syncstore.db.engine import transaction
    from syncstore.db.models import AuditLog
    from syncstore.security import auth

    at = fresh_app().run()
    for _ in range(auth.SIGN_IN_FREE_FAILURES):
        _sign_in_form(at, "editor@example.com", "not the password")
        assert "Wrong e-mail or password" in at.error[0].value
    _sign_in_form(at, "editor@example.com", PASSWORD)
    assert not at.exception
    assert at.title[0].value == "SyncStore" and "Too many failed sign-ins" in at.error[0].value
    engine = seeded_db.engine()
    with transaction(engine) as session:
        rows = session.scalars(sa.select(AuditLog).where(AuditLog.action.like("user.sign_in%"))).all()
    engine.dispose()
    assert [r.action for r in rows].count("user.sign_in_failed") == auth.SIGN_IN_FREE_FAILURES
    assert rows[-1].action == "user.sign_in_refused" and rows[-1].after["source"]
    assert PASSWORD not in repr([r.after for r in rows])


def test_an_admin_reset_forces_a_new_password_before_any_page(seeded_db: SeededDatabase) -> None:
    from syncstore.db.engine import transaction
    from syncstore.security import auth
    from syncstore.security.auth import Role

    editor, admin = seeded_db.actors[Role.EDITOR], seeded_db.actors[Role.ADMIN]
    engine = seeded_db.engine()
    with transaction(engine) as session:
        temporary = auth.reset_password(admin, session, editor.user_id, "temporary-pass-4567")
    engine.dispose()
    at = _sign_in_form(fresh_app().run(), "editor@example.com", temporary)
    assert not at.exception
    assert at.title[0].value == "Choose a new password"
    for page in app_module.PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page.script)
    at.text_input(key="current_password").input(temporary)
    at.text_input(key="new_password").input("short")
    at.text_input(key="new_password_again").input("short")
    at.button[[b.label for b in at.button].index("Change password")].click().run()
    assert "at least 12 characters" in " ".join(e.value for e in at.error)
    at.text_input(key="current_password").input(temporary)
    at.text_input(key="new_password").input("my own fresh passphrase")
    at.text_input(key="new_password_again").input("my own fresh passphrase")
    at.button[[b.label for b in at.button].index("Change password")].click().run()
    assert not at.exception
    assert at.title[0].value == "Overview"  # the landing page
    assert not at.session_state["actor"].must_change_password


@pytest.mark.parametrize("verified", [None, False, "false"])
def test_an_oidc_identity_with_an_unverified_email_is_refused(seeded_db: SeededDatabase, verified: object) -> None:
    at = fresh_app()
    at.secrets.update(OIDC)
    at.user = {"email": "admin@example.com", "is_logged_in": True}
    if verified is not None:
        at.user["email_verified"] = verified
    at.run()
    assert not at.exception
    assert "actor" not in at.session_state
    assert at.title[0].value == "SyncStore"
    assert "has not verified" in at.error[0].value
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/admin.py")
