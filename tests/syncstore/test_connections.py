# Connected shops on real databases: encrypted tokens, binding to rows, key rotation, canary tokens (E1-E5).
from __future__ import annotations

import logging
import secrets
import traceback
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, PlatformConnection
from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied
from syncstore.security.auth import Actor, Role
from syncstore.security.crypto import (
    CryptoError,
    DecryptionError,
    Keyring,
    RetiredKeyError,
    UnknownKeyError,
    generate_key,
    key_id_of,
)
from syncstore.shops import connections
from syncstore.shops.connections import (
    KeyInUseError,
    NotConnectedError,
    check_retirable,
    disconnect,
    key_usage,
    list_connections,
    read_tokens,
    rotate_keys,
    save_connection,
)

KEY_A = generate_key("a")
KEY_B = generate_key("b")
ADMIN = Actor(user_id=None, label="admin@example.com", role=Role.ADMIN)
EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)
EXPIRES = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _save(session, keyring: Keyring, shop_id: str, access: str = "", refresh: str = "", **extra):
    return save_connection(
        ADMIN,
        session,
        platform=extra.pop("platform", "shopee"),
        shop_id=shop_id,
        shop_name=extra.pop("shop_name", f"Shop {shop_id}"),
        region="MY",
        access_token=access or f"access-{shop_id}",
        refresh_token=refresh or f"refresh-{shop_id}",
        access_token_expires_at=EXPIRES,
        refresh_token_expires_at=EXPIRES + timedelta(days=30),
        keyring=keyring,
        **extra,
    )


def _stored(engine: sa.Engine) -> dict[int, tuple[str | None, str | None]]:
    """The token columns exactly as the database holds them."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, access_token, refresh_token FROM platform_connections"))
        return {row.id: (row.access_token, row.refresh_token) for row in rows}


def _set_column(engine: sa.Engine, connection_id: int, column: str, value: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(PlatformConnection.__table__)
            .where(PlatformConnection.__table__.c.id == connection_id)
            .values({column: value})
        )


def _audit(engine: sa.Engine, action: str | None = None) -> list[AuditLog]:
    with transaction(engine) as session:
        query = sa.select(AuditLog).order_by(AuditLog.id)
        if action:
            query = query.where(AuditLog.action == action)
        return list(session.scalars(query))


def _dump(engine: sa.Engine) -> str:
    """Every row of every table as text (SQLite: the SQL dump; PostgreSQL: each row's repr)."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            return "\n".join(raw.driver_connection.iterdump())
        finally:
            raw.close()
    lines: list[str] = []
    with engine.connect() as conn:
        for name in sa.inspect(conn).get_table_names():
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            lines.extend(f"{name}: {row!r}" for row in conn.execute(sa.select(table)))
    return "\n".join(lines)


# --- E1: what is stored ---------------------------------------------------------------------


def test_tokens_are_stored_encrypted_and_read_back(engine: sa.Engine) -> None:
    keyring = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        saved = _save(session, keyring, "1001", "shopee-access-xyz", "shopee-refresh-xyz", shop_cipher="c1")
        connection_id = saved.id

    access, refresh = _stored(engine)[connection_id]
    assert access is not None and refresh is not None
    assert access.startswith("v1:a:") and refresh.startswith("v1:a:")
    assert "shopee-access-xyz" not in access and "shopee-refresh-xyz" not in refresh

    with transaction(engine) as session:
        tokens = read_tokens(session, connection_id, keyring)
        connection = session.get_one(PlatformConnection, connection_id)
        assert (connection.status, connection.shop_cipher, connection.region) == ("connected", "c1", "MY")
    assert tokens.access_token == "shopee-access-xyz"
    assert tokens.refresh_token == "shopee-refresh-xyz"
    assert tokens.access_token_expires_at == EXPIRES
    assert tokens.refresh_token_expires_at == EXPIRES + timedelta(days=30)
    assert "shopee-access-xyz" not in repr(tokens) and "shopee-refresh-xyz" not in str(tokens)


def test_saving_the_same_shop_again_updates_it_and_audits_without_tokens(engine: sa.Engine) -> None:
    keyring = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        first_id = _save(session, keyring, "77", "old-access", "old-refresh").id
    with transaction(engine) as session:
        second = _save(session, keyring, "77", "new-access", "new-refresh", shop_name="Renamed")
        assert second.id == first_id
    with transaction(engine) as session:
        assert len(list_connections(session)) == 1
        tokens = read_tokens(session, first_id, keyring)
    assert (tokens.access_token, tokens.refresh_token) == ("new-access", "new-refresh")

    rows = _audit(engine, "connection.save")
    assert len(rows) == 2
    assert rows[0].before is None
    assert rows[1].before["shop_name"] == "Shop 77"
    assert rows[1].after["shop_name"] == "Renamed"
    assert rows[1].after["access_token_expires_at"] == EXPIRES.isoformat()
    assert rows[1].actor_label == ADMIN.label
    for row in rows:
        for view in (row.before or {}, row.after):
            assert not {"access_token", "refresh_token"} & set(view)
            assert not any("access" in str(v) and "-" in str(v) for v in view.values() if isinstance(v, str))


def test_invalid_input_is_refused_before_anything_is_written(engine: sa.Engine) -> None:
    keyring = Keyring.parse(KEY_A)
    with pytest.raises(InvalidInput) as caught, transaction(engine) as session:
        save_connection(
            ADMIN, session, platform="nowhere", shop_id="", access_token="", refresh_token="r",
            access_token_expires_at=datetime(2026, 1, 1), refresh_token_expires_at=None, keyring=keyring,
        )  # fmt: skip
    assert set(caught.value.errors) == {"platform", "shop_id", "access_token", "access_token_expires_at"}
    assert _stored(engine) == {}


def test_connections_are_listed_by_platform_then_shop(engine: sa.Engine) -> None:
    keyring = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        _save(session, keyring, "2", platform="tiktokshop")
        _save(session, keyring, "9")
        _save(session, keyring, "1")
    with transaction(engine) as session:
        assert [(c.platform, c.shop_id) for c in list_connections(session)] == [
            ("shopee", "1"), ("shopee", "9"), ("tiktokshop", "2"),
        ]  # fmt: skip


def test_disconnect_forgets_the_tokens(engine: sa.Engine) -> None:
    keyring = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        connection_id = _save(session, keyring, "5").id
    with transaction(engine) as session:
        disconnect(ADMIN, session, connection_id)
    assert _stored(engine)[connection_id] == (None, None)
    with transaction(engine) as session:
        assert session.get_one(PlatformConnection, connection_id).status == "disconnected"
        with pytest.raises(NotConnectedError, match="connect the shop again"):
            read_tokens(session, connection_id, keyring)
        with pytest.raises(NotFoundError):
            read_tokens(session, connection_id + 100, keyring)
        with pytest.raises(NotFoundError):
            disconnect(ADMIN, session, connection_id + 100)
    (row,) = _audit(engine, "connection.disconnect")
    assert (row.before["status"], row.after["status"]) == ("connected", "disconnected")


# --- E2: a stored value belongs to one row and one column -----------------------------------


def test_a_flipped_character_in_the_database_fails_to_decrypt(engine: sa.Engine) -> None:
    keyring = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        connection_id = _save(session, keyring, "1").id
    stored = _stored(engine)[connection_id][0]
    assert stored is not None
    for position in range(len(stored)):
        tampered = stored[:position] + chr(ord(stored[position]) ^ 1) + stored[position + 1 :]
        with pytest.raises(CryptoError):
            keyring.decrypt(tampered, table="platform_connections", row_id=connection_id, column="access_token")
    # And end to end, through the database, for a character in the payload.
    position = len(stored) - 10
    _set_column(
        engine,
        connection_id,
        "access_token",
        stored[:position] + chr(ord(stored[position]) ^ 1) + stored[position + 1 :],
    )
    with transaction(engine) as session, pytest.raises(DecryptionError):
        read_tokens(session, connection_id, keyring)


def test_row_a_ciphertext_pasted_into_row_b_fails(engine: sa.Engine) -> None:
    keyring = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        a = _save(session, keyring, "A").id
        b = _save(session, keyring, "B").id
    stored = _stored(engine)
    _set_column(engine, b, "access_token", stored[a][0])
    with transaction(engine) as session:
        assert read_tokens(session, a, keyring).access_token == "access-A"
        with pytest.raises(DecryptionError, match=f"row {b} column access_token"):
            read_tokens(session, b, keyring)


def test_the_same_ciphertext_in_another_column_fails(engine: sa.Engine) -> None:
    keyring = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        connection_id = _save(session, keyring, "A").id
    access, _ = _stored(engine)[connection_id]
    _set_column(engine, connection_id, "refresh_token", access)
    with transaction(engine) as session, pytest.raises(DecryptionError, match="refresh_token"):
        read_tokens(session, connection_id, keyring)


# --- E3: unknown and retired key ids --------------------------------------------------------


def test_unknown_and_retired_key_ids_are_explicit_errors(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        connection_id = _save(session, Keyring.parse(KEY_A), "1").id
    with transaction(engine) as session:
        with pytest.raises(UnknownKeyError, match="'a'"):
            read_tokens(session, connection_id, Keyring.parse(KEY_B))
        with pytest.raises(RetiredKeyError, match="'a'"):
            read_tokens(session, connection_id, Keyring.parse(f"{KEY_B},{KEY_A}", ["a"]))


# --- E4: key rotation -----------------------------------------------------------------------


def test_rotation_moves_every_token_to_the_new_primary_and_is_idempotent(engine: sa.Engine) -> None:
    old = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        ids = [_save(session, old, str(n)).id for n in range(3)]
        disconnected = _save(session, old, "gone").id
        disconnect(ADMIN, session, disconnected)

    new = Keyring.parse(f"{KEY_B},{KEY_A}")
    with transaction(engine) as session:
        # Old rows still decrypt under the new keyring; new rows use the new primary.
        assert [read_tokens(session, i, new).access_token for i in ids] == ["access-0", "access-1", "access-2"]
        ids.append(_save(session, new, "fresh").id)
        assert key_usage(session, new) == {"b": 2, "a": 6}
        with pytest.raises(KeyInUseError, match="still encrypts 6 stored tokens"):
            check_retirable(ADMIN, session, "a", keyring=new)

    seen: list[tuple[int, int]] = []
    report = rotate_keys(ADMIN, engine, keyring=new, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert (report.rows_total, report.rows_reencrypted, report.rows_current, report.tokens_reencrypted) == (
        4, 3, 1, 6,
    )  # fmt: skip
    assert report.ok and report.primary_key_id == "b"
    assert seen == [(0, 4), (2, 4), (4, 4)]
    assert {key_id_of(t) for pair in _stored(engine).values() for t in pair if t} == {"b"}

    with transaction(engine) as session:
        assert key_usage(session, new) == {"b": 8, "a": 0}
        check_retirable(ADMIN, session, "a", keyring=new)  # nothing uses it now
        retired = Keyring.parse(f"{KEY_B},{KEY_A}", ["a"])
        assert [read_tokens(session, i, retired).refresh_token for i in ids] == [
            "refresh-0", "refresh-1", "refresh-2", "refresh-fresh",
        ]  # fmt: skip
        with pytest.raises(KeyInUseError, match="primary"):
            check_retirable(ADMIN, session, "b", keyring=new)

    before = _stored(engine)
    again = rotate_keys(ADMIN, engine, keyring=new)
    assert (again.rows_reencrypted, again.rows_current, again.tokens_reencrypted) == (0, 4, 0)
    assert _stored(engine) == before  # not even re-encrypted with a fresh nonce

    audits = _audit(engine, "keys.rotate")
    assert [a.after["rows_reencrypted"] for a in audits] == [3, 0]
    assert all(a.after["completed"] and a.entity_id == "b" for a in audits)


def test_an_interrupted_rotation_keeps_its_batches_and_the_next_run_finishes(engine: sa.Engine) -> None:
    old = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        for n in range(3):
            _save(session, old, str(n))
    new = Keyring.parse(f"{KEY_B},{KEY_A}")

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(done: int, total: int) -> None:
        if done >= 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        rotate_keys(ADMIN, engine, keyring=new, batch_size=1, progress=stop_after_first_batch)
    with transaction(engine) as session:
        assert key_usage(session, new) == {"b": 2, "a": 4}
        with pytest.raises(KeyInUseError):
            check_retirable(ADMIN, session, "a", keyring=new)

    report = rotate_keys(ADMIN, engine, keyring=new, batch_size=1)
    assert (report.rows_reencrypted, report.rows_current) == (2, 1)
    with transaction(engine) as session:
        assert key_usage(session, new) == {"b": 6, "a": 0}
        check_retirable(ADMIN, session, "a", keyring=new)
        assert {read_tokens(session, c.id, new).access_token for c in list_connections(session)} == {
            "access-0", "access-1", "access-2",
        }  # fmt: skip
    first, second = _audit(engine, "keys.rotate")
    assert (first.after["completed"], first.after["rows_reencrypted"]) == (False, 1)
    assert (second.after["completed"], second.after["rows_reencrypted"]) == (True, 2)


def test_a_token_that_cannot_be_decrypted_is_reported_and_left_alone(engine: sa.Engine) -> None:
    old = Keyring.parse(KEY_A)
    with transaction(engine) as session:
        good = _save(session, old, "good").id
        bad = _save(session, old, "bad").id
    _set_column(engine, bad, "refresh_token", _stored(engine)[good][1])  # pasted from another row
    new = Keyring.parse(f"{KEY_B},{KEY_A}")
    report = rotate_keys(ADMIN, engine, keyring=new)
    assert not report.ok
    assert [(f.connection_id, f.column) for f in report.failures] == [(bad, "refresh_token")]
    assert "failed authentication" in report.failures[0].reason
    with transaction(engine) as session:
        assert read_tokens(session, good, new).refresh_token == "refresh-good"
        with pytest.raises(KeyInUseError, match="1 stored token;"):
            check_retirable(ADMIN, session, "a", keyring=new)


# --- E5: canary tokens never leak -----------------------------------------------------------


def test_canary_tokens_appear_nowhere(engine: sa.Engine, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    access = f"CANARY-ACCESS-{secrets.token_hex(16)}"
    refresh = f"CANARY-REFRESH-{secrets.token_hex(16)}"
    canaries = (access, refresh, access[8:30], refresh[9:30])
    old, new = Keyring.parse(KEY_A), Keyring.parse(f"{KEY_B},{KEY_A}")
    errors: list[BaseException] = []

    with transaction(engine) as session:
        canary_id = _save(session, old, "canary", access, refresh).id
        other_id = _save(session, old, "other").id
    with transaction(engine) as session:
        _save(session, old, "canary", access, refresh, shop_name="Canary again")  # update path
        tokens = read_tokens(session, canary_id, old)
        assert (tokens.access_token, tokens.refresh_token) == (access, refresh)
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        save_connection(
            ADMIN, session, platform="shopee", shop_id="canary", access_token=access, refresh_token=refresh,
            access_token_expires_at=datetime(2026, 1, 1), refresh_token_expires_at=None, keyring=old,
        )  # fmt: skip
    errors.append(invalid.value)

    # Failed decryptions of every kind.
    stored_access, stored_refresh = _stored(engine)[canary_id]
    assert stored_access and stored_refresh
    with transaction(engine) as session:
        for keyring in (Keyring.parse(KEY_B), Keyring.parse(f"{KEY_B},{KEY_A}", ["a"])):
            with pytest.raises(CryptoError) as caught:
                read_tokens(session, canary_id, keyring)
            errors.append(caught.value)
    for where in ({"row_id": other_id, "column": "access_token"}, {"row_id": canary_id, "column": "refresh_token"}):
        with pytest.raises(CryptoError) as caught:
            old.decrypt(stored_access, table="platform_connections", **where)
        errors.append(caught.value)
    _set_column(engine, other_id, "access_token", stored_access)
    _set_column(engine, other_id, "refresh_token", stored_refresh)
    with transaction(engine) as session, pytest.raises(CryptoError) as caught:
        read_tokens(session, other_id, old)
    errors.append(caught.value)

    report = rotate_keys(ADMIN, engine, keyring=new, batch_size=1)  # re-encrypts; reports row "other"
    assert report.rows_reencrypted == 1 and len(report.failures) == 2
    with transaction(engine) as session:
        assert read_tokens(session, canary_id, new).access_token == access

    dump = _dump(engine)
    assert "canary" in dump and "Canary again" in dump and "keys.rotate" in dump  # the dump is real
    logs = "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in caplog.records)
    assert "platform_connections" in logs  # SQL statements and parameters were captured
    with transaction(engine) as session:
        audit_text = "\n".join(f"{a.before!r} {a.after!r}" for a in session.scalars(sa.select(AuditLog)))
    error_text = "\n".join(f"{error!s} {error!r} {''.join(traceback.format_exception(error))}" for error in errors)
    for canary in canaries:
        assert canary not in dump
        assert canary not in logs
        assert canary not in audit_text
        assert canary not in error_text
        assert canary not in repr(tokens) + str(report)


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [VIEWER, EDITOR, None], ids=["viewer", "editor", "anonymous"])
def test_only_admins_manage_connections_and_keys(engine: sa.Engine, actor: Actor | None) -> None:
    old, new = Keyring.parse(KEY_A), Keyring.parse(f"{KEY_B},{KEY_A}")
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        save_connection(
            actor, session, platform="shopee", shop_id="1", access_token="a", refresh_token="r",
            access_token_expires_at=None, refresh_token_expires_at=None, keyring=old,
        )  # fmt: skip
    assert _stored(engine) == {}
    assert _audit(engine) == []

    with transaction(engine) as session:
        connection_id = _save(session, old, "1").id
    before, audit_before = _stored(engine), len(_audit(engine))
    with pytest.raises(PermissionDenied):
        rotate_keys(actor, engine, keyring=new)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        disconnect(actor, session, connection_id)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        check_retirable(actor, session, "a", keyring=new)
    assert _stored(engine) == before
    assert len(_audit(engine)) == audit_before
    with transaction(engine) as session:
        # Reading tokens is not a mutation: connectors running as the system use it.
        assert read_tokens(session, connection_id, new).access_token == "access-1"


def test_every_mutation_is_declared_with_its_permission() -> None:
    from syncstore.security.auth import MUTATIONS, Permission

    assert MUTATIONS[f"{connections.__name__}.save_connection"] is Permission.CONNECTIONS_MANAGE
    assert MUTATIONS[f"{connections.__name__}.disconnect"] is Permission.CONNECTIONS_MANAGE
    assert MUTATIONS[f"{connections.__name__}.rotate_keys"] is Permission.KEYS_MANAGE
    assert MUTATIONS[f"{connections.__name__}.check_retirable"] is Permission.KEYS_MANAGE
