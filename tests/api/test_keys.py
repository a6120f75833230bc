# API keys: shown once and stored hashed, role ceiling, expiry, revocation, last use; the app's API keys page.
"""Keys, from creation in the app to a request the API refuses once the key is revoked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import ApiKey, AuditLog, User
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, PermissionDenied
from syncstore.security import api_keys
from syncstore.security.auth import Actor, create_user, set_role
from tests.api.conftest import Api

APP_PATH = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"


def _actor(engine: sa.Engine, email: str) -> Actor:
    with transaction(engine) as session:
        return Actor.from_user(session.scalars(sa.select(User).where(User.email == email)).one())


def test_a_key_is_stored_only_as_a_digest(api: Api) -> None:
    with api.engine.connect() as conn:
        rows = conn.execute(sa.select(ApiKey.prefix, ApiKey.key_hash)).all()
    stored = " ".join(f"{p} {h}" for p, h in rows)
    for key in api.keys.values():
        assert key not in stored and key.split("_", 2)[2] not in stored
        assert api_keys.digest(key) in stored


def test_a_key_cannot_carry_more_than_its_creators_role(api: Api) -> None:
    editor = _actor(api.engine, "editor@example.com")
    with transaction(api.engine) as session, pytest.raises(InvalidInput) as error:
        api_keys.create_key(session, editor, name="too much", role="admin")
    assert "role" in error.value.errors
    with transaction(api.engine) as session:
        viewer_key = api_keys.create_key(session, editor, name="read only", role="viewer").secret
    denied = api.client.post(f"/v1/stock/{api.variant_ids[0]}/adjustments", json={"delta": 1},
                             headers={"Authorization": f"Bearer {viewer_key}"})  # fmt: skip
    assert denied.status_code == 403


def test_a_demoted_users_keys_shrink_with_them(api: Api) -> None:
    with transaction(api.engine) as session:
        user_id = session.scalar(sa.select(User.id).where(User.email == "editor@example.com"))
        set_role(Actor.command_line(), session, user_id, "viewer")
    response = api.client.post(f"/v1/stock/{api.variant_ids[0]}/adjustments", json={"delta": 1},
                               headers=api.as_("editor"))  # fmt: skip
    assert response.status_code == 403


def test_revoked_and_expired_keys_are_refused_and_last_use_is_kept(api: Api) -> None:
    editor = _actor(api.engine, "editor@example.com")
    with transaction(api.engine) as session:
        created = api_keys.create_key(session, editor, name="short", expires_at=utcnow() + timedelta(hours=1))
    headers = {"Authorization": f"Bearer {created.secret}"}
    assert api.client.get("/v1/rules", headers=headers).status_code == 200
    with transaction(api.engine) as session:
        assert api_keys.list_keys(session, user_id=editor.user_id)[0].last_used_at is not None
        session.execute(sa.update(ApiKey).where(ApiKey.id == created.view.id).values(expires_at=utcnow()))
    assert api.client.get("/v1/rules", headers=headers).status_code == 401
    viewer = _actor(api.engine, "viewer@example.com")
    with transaction(api.engine) as session:
        key_id = api_keys.list_keys(session, user_id=editor.user_id)[-1].id
        with pytest.raises(PermissionDenied):
            api_keys.revoke_key(session, viewer, key_id)
    with transaction(api.engine) as session:
        api_keys.revoke_key(session, editor, key_id)
    assert api.client.get("/v1/rules", headers=api.as_("editor")).status_code == 401
    with api.engine.connect() as conn:
        actions = set(conn.scalars(sa.select(AuditLog.action).where(AuditLog.entity_type == "api_key")))
    assert actions == {"api_key.create", "api_key.revoke"}


def test_the_api_keys_page_shows_a_new_key_once(sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCSTORE_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    with transaction(sqlite_engine) as session:
        user = create_user(Actor.command_line(), session, email="ed@example.com", role="editor", password=None)
        actor = Actor.from_user(user)
    at = AppTest.from_file(str(APP_PATH), default_timeout=60)
    at.session_state["actor"] = actor
    at.run()
    at.switch_page("views/api_keys.py")
    at.run()
    assert not at.exception
    assert [o for o in at.selectbox[0].options] == ["viewer", "editor"]  # no admin key for an editor
    at.text_input[0].input("warehouse")
    at.button[0].click()
    at.run()
    assert not at.exception
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and shown[0].startswith("ssk_")
    with transaction(sqlite_engine) as session:
        assert [k.name for k in api_keys.list_keys(session, user_id=actor.user_id)] == ["warehouse"]
    at.run()
    assert [c.value for c in at.code] == []  # shown once


def test_a_cached_key_is_revoked_within_the_cache_time(sqlite_engine: sa.Engine) -> None:
    import time

    from fastapi.testclient import TestClient

    from api.app import create_app
    from syncstore.settings import Settings
    from tests.api.conftest import make_keys

    keys = make_keys(sqlite_engine)
    client = TestClient(create_app(sqlite_engine, Settings(api_rate_limit=0, api_key_cache_seconds=0.5)))
    headers = {"Authorization": f"Bearer {keys['editor']}"}
    assert client.get("/v1/rules", headers=headers).status_code == 200
    editor = _actor(sqlite_engine, "editor@example.com")
    with transaction(sqlite_engine) as session:
        key_id = session.scalar(sa.select(ApiKey.id).where(ApiKey.name == "editor key"))
        api_keys.revoke_key(session, editor, key_id)
    time.sleep(0.6)
    assert client.get("/v1/rules", headers=headers).status_code == 401
