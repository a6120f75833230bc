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
              "Webhooks", "Rules", "Admin"],
    "editor": ["Products", "Product editor", "Bulk edit", "Inventory", "Connections", "Sync activity", "Conflicts",
               "Webhooks", "Rules"],
    "viewer": ["Products", "Product editor", "Inventory", "Connections", "Sync activity", "Conflicts", "Webhooks",
               "Rules"],
}  # fmt: skip


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
    assert at.title[0].value == "Products"
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
    at.user = {"email": "viewer@example.com", "is_logged_in": True}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Products"
    assert at.session_state["actor"].role.value == "viewer"


def test_an_oidc_identity_without_a_user_is_told_so(seeded_db: SeededDatabase) -> None:
    at = fresh_app()
    at.secrets.update(OIDC)
    at.user = {"email": "stranger@example.com", "is_logged_in": True}
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
    from syncstore import auth
    from syncstore.auth import Role
    from syncstore.db.engine import transaction

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
