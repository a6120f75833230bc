# Secrets at rest without a database: the stored format, tampering, key ids and the local key file (E1-E3).
from __future__ import annotations

import base64
import logging
import os
import stat
import string
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from syncstore.errors import SyncStoreError
from syncstore.security import crypto
from syncstore.security.crypto import (
    CryptoError,
    DecryptionError,
    Keyring,
    KeyringError,
    MalformedTokenError,
    RetiredKeyError,
    UnknownKeyError,
    generate_key,
    key_id_of,
    load_keyring,
)
from syncstore.settings import Settings

KEY_A = generate_key("a")
KEY_B = generate_key("b")
WHERE = {"table": "platform_connections", "row_id": 42, "column": "access_token"}
B64URL = string.ascii_letters + string.digits + "-_"


def _blob(token: str) -> bytes:
    payload = token.split(":")[2]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def _token(version: str, kid: str, blob: bytes) -> str:
    return f"{version}:{kid}:{base64.urlsafe_b64encode(blob).rstrip(b'=').decode()}"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)  # type: ignore[call-arg]


# --- E1: the stored format ------------------------------------------------------------------


def test_stored_format_has_version_key_id_nonce_ciphertext_and_tag() -> None:
    keyring = Keyring.parse(KEY_A)
    plaintext = "shopee-access-token-1234567890"
    token = keyring.encrypt(plaintext, **WHERE)

    version, kid, _payload = token.split(":")
    assert (version, kid) == ("v1", "a")
    assert key_id_of(token) == "a"
    assert plaintext not in token
    blob = _blob(token)
    assert len(blob) == 12 + len(plaintext.encode()) + 16  # nonce || ciphertext || tag

    # The associated data is exactly the documented binding: a plain AES-GCM reader can check it.
    raw_key = base64.b64decode(KEY_A.split(":", 1)[1])
    aad = b"syncstore:v1:a:platform_connections:42:access_token"
    assert AESGCM(raw_key).decrypt(blob[:12], blob[12:], aad).decode() == plaintext
    assert keyring.decrypt(token, **WHERE) == plaintext


def test_every_encryption_uses_a_fresh_nonce() -> None:
    keyring = Keyring.parse(KEY_A)
    tokens = [keyring.encrypt("same value", **WHERE) for _ in range(50)]
    assert len(set(tokens)) == 50
    assert len({_blob(t)[:12] for t in tokens}) == 50
    assert {keyring.decrypt(t, **WHERE) for t in tokens} == {"same value"}


@pytest.mark.parametrize("plaintext", ["", "x", "tökën/with:colons,commas and ünïcode ✓", "A" * 5000])
def test_round_trip(plaintext: str) -> None:
    keyring = Keyring.parse(KEY_A)
    assert keyring.decrypt(keyring.encrypt(plaintext, **WHERE), **WHERE) == plaintext


def test_new_values_use_the_primary_and_older_keys_still_decrypt() -> None:
    old = Keyring.parse(KEY_A)
    token_a = old.encrypt("old secret", **WHERE)
    keyring = Keyring.parse(f"{KEY_B},{KEY_A}")
    assert keyring.primary_key_id == "b"
    assert keyring.key_ids == ("b", "a")
    assert key_id_of(keyring.encrypt("new secret", **WHERE)) == "b"
    assert keyring.decrypt(token_a, **WHERE) == "old secret"
    assert not keyring.is_current(token_a)


# --- E2: tampering and binding --------------------------------------------------------------


def test_any_changed_character_of_the_stored_text_fails() -> None:
    keyring = Keyring.parse(f"{KEY_A},{KEY_B}")
    token = keyring.encrypt("refresh-me-please", **WHERE)
    for position, char in enumerate(token):
        replacements = {chr(ord(char) ^ 1), "a" if char != "a" else "b", ":" if char != ":" else ";"}
        # Every base64url letter too, for the last (partly unused) character of the payload.
        if position == len(token) - 1:
            replacements |= set(B64URL) - {char}
        for other in replacements:
            tampered = token[:position] + other + token[position + 1 :]
            with pytest.raises(CryptoError):
                keyring.decrypt(tampered, **WHERE)
    for cut in (1, len(token) // 2, len(token) - 1):
        with pytest.raises(CryptoError):
            keyring.decrypt(token[:cut], **WHERE)
    with pytest.raises(CryptoError):
        keyring.decrypt(token + "A", **WHERE)


def test_any_flipped_byte_of_nonce_ciphertext_or_tag_fails() -> None:
    keyring = Keyring.parse(KEY_A)
    token = keyring.encrypt("refresh-me-please", **WHERE)
    blob = _blob(token)
    for position in range(len(blob)):
        for mask in (0x01, 0x80, 0xFF):
            flipped = bytearray(blob)
            flipped[position] ^= mask
            with pytest.raises(DecryptionError):
                keyring.decrypt(_token("v1", "a", bytes(flipped)), **WHERE)


def test_a_value_bound_elsewhere_fails() -> None:
    keyring = Keyring.parse(KEY_A)
    token = keyring.encrypt("secret", **WHERE)
    for elsewhere in (
        {**WHERE, "row_id": 43},
        {**WHERE, "row_id": 420},
        {**WHERE, "row_id": "42.0"},
        {**WHERE, "column": "refresh_token"},
        {**WHERE, "table": "users"},
    ):
        with pytest.raises(DecryptionError, match="failed authentication"):
            keyring.decrypt(token, **elsewhere)


def test_editing_the_header_fails_because_it_is_authenticated() -> None:
    a_and_b = Keyring.parse(f"{KEY_A},{KEY_B}")
    token = a_and_b.encrypt("secret", **WHERE)
    relabelled = "v1:b:" + token.split(":", 2)[2]
    with pytest.raises(DecryptionError):
        a_and_b.decrypt(relabelled, **WHERE)
    # Same key bytes under two ids: the id is still part of the associated data.
    same_key = Keyring([("a", b"k" * 32), ("a2", b"k" * 32)])
    token = same_key.encrypt("secret", **WHERE)
    with pytest.raises(DecryptionError):
        same_key.decrypt("v1:a2:" + token.split(":", 2)[2], **WHERE)
    with pytest.raises(MalformedTokenError):
        a_and_b.decrypt("v2:" + token.split(":", 1)[1], **WHERE)


@pytest.mark.parametrize("garbage", ["", "plain-token", "v1:a", "v1::AAAA", "v1:a:b:c", "v1:a:!!!!", "v1:a:AAAA"])
def test_malformed_values_are_explicit_errors(garbage: str) -> None:
    with pytest.raises(MalformedTokenError):
        Keyring.parse(KEY_A).decrypt(garbage, **WHERE)


def test_binding_names_cannot_smuggle_separators() -> None:
    keyring = Keyring.parse(KEY_A)
    with pytest.raises(ValueError, match="column"):
        keyring.encrypt("x", table="platform_connections", row_id=1, column="access_token:2")


# --- E3: unknown and retired keys -----------------------------------------------------------


def test_unknown_key_id_is_an_explicit_error() -> None:
    token = Keyring.parse(KEY_A).encrypt("secret", **WHERE)
    with pytest.raises(UnknownKeyError, match="'a'") as caught:
        Keyring.parse(KEY_B).decrypt(token, **WHERE)
    assert caught.value.key_id == "a"
    assert isinstance(caught.value, SyncStoreError)


def test_retired_key_id_is_an_explicit_error() -> None:
    token = Keyring.parse(KEY_A).encrypt("secret", **WHERE)
    # Retired while still configured, and retired after removal: both refuse.
    for keyring in (Keyring.parse(f"{KEY_B},{KEY_A}", ["a"]), Keyring.parse(KEY_B, ["a"])):
        with pytest.raises(RetiredKeyError, match="retired") as caught:
            keyring.decrypt(token, **WHERE)
        assert caught.value.key_id == "a"


# --- keyring configuration ------------------------------------------------------------------


def test_bad_keyring_configurations_are_refused_without_echoing_key_material() -> None:
    short = base64.b64encode(os.urandom(16)).decode()
    material_a = KEY_A.split(":", 1)[1]
    bad = {
        "": "empty",
        " , ": "empty",
        f"{KEY_A},a:{KEY_B.split(':', 1)[1]}": "more than once",
        f"a:{short}": "16 bytes",
        f"bad kid!:{material_a}": "key id must match",
        f"{'k' * 33}:{material_a}": "key id must match",
        material_a: "kid:base64key",
        "a:not*base64*at*all": "not valid base64",
    }
    for spec, message in bad.items():
        with pytest.raises(KeyringError, match=message) as caught:
            Keyring.parse(spec)
        assert material_a not in str(caught.value)
        assert short not in str(caught.value)
    with pytest.raises(KeyringError, match="primary key 'a' is listed as retired"):
        Keyring.parse(f"{KEY_A},{KEY_B}", ["a"])


def test_keys_may_be_standard_or_urlsafe_base64_and_the_repr_shows_no_key() -> None:
    raw = bytes(range(250, 256)) * 5 + b"\xfb\xff"  # encodes with '+' and '/' characters
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    token = Keyring.parse(f"x:{standard}").encrypt("v", **WHERE)
    assert Keyring.parse(f"x:{urlsafe}").decrypt(token, **WHERE) == "v"
    keyring = Keyring.parse(f"{KEY_B},\n# comment line\n{KEY_A}", ["old"])
    assert repr(keyring) == "Keyring(primary='b', keys=['b', 'a'], retired=['old'])"
    for entry in (KEY_A, KEY_B):
        assert entry.split(":", 1)[1] not in repr(keyring)


def test_generate_key_gives_a_fresh_usable_entry() -> None:
    first, second = generate_key(), generate_key()
    assert first != second
    kid, encoded = first.split(":")
    assert crypto.KEY_ID_PATTERN.fullmatch(kid)
    assert len(base64.b64decode(encoded)) == 32
    keyring = Keyring.parse(f"{first},{second}")
    assert keyring.decrypt(keyring.encrypt("x", **WHERE), **WHERE) == "x"
    with pytest.raises(KeyringError):
        generate_key("no spaces allowed")


# --- load_keyring: configured keys and the local key file -----------------------------------


def test_configured_keys_are_used_and_no_key_file_is_written(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    settings = _settings(tmp_path, encryption_keys=f"{KEY_B},{KEY_A}", retired_key_ids="old,older")
    keyring = load_keyring(settings)
    assert keyring.key_ids == ("b", "a")
    assert keyring.retired_key_ids == {"old", "older"}
    assert not settings.resolved_key_file.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_without_keys_a_private_key_file_is_created_once_and_reused(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    settings = _settings(tmp_path)
    assert settings.encryption_keys is None
    key_file = settings.resolved_key_file
    assert key_file == tmp_path / "data" / "keys"

    first = load_keyring(settings)
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) & 0o077 == 0
    assert not [p.name for p in key_file.parent.iterdir() if p.name != "keys"]  # no temp file left
    token = first.encrypt("kept across restarts", **WHERE)

    second = load_keyring(settings)  # as a new process would: read the file again
    assert second is not first
    assert second.primary_key_id == first.primary_key_id
    assert second.decrypt(token, **WHERE) == "kept across restarts"
    assert key_file.read_text().count(first.primary_key_id + ":") == 1

    warnings = [r for r in caplog.records if r.name == "syncstore.security.crypto" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert str(key_file) in message
    assert "SYNCSTORE_ENCRYPTION_KEYS" in message
    assert "production" in message


def test_an_explicit_key_file_path_and_retired_ids_are_honoured(tmp_path: Path) -> None:
    key_file = tmp_path / "elsewhere" / "nested" / "syncstore.keys"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(f"# my keys\n{KEY_B}\n{KEY_A}\n")
    key_file.chmod(0o600)
    keyring = load_keyring(_settings(tmp_path, key_file=key_file, retired_key_ids="a"))
    assert keyring.key_ids == ("b", "a")
    token = Keyring.parse(KEY_A).encrypt("x", **WHERE)
    with pytest.raises(RetiredKeyError):
        keyring.decrypt(token, **WHERE)


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    load_keyring(settings)
    key_file = settings.resolved_key_file
    key_file.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600") as caught:
        load_keyring(settings)
    material = key_file.read_text().strip().splitlines()[-1].split(":", 1)[1]
    assert material not in str(caught.value)


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    barrier = threading.Barrier(8)
    keyrings: list[Keyring] = []

    def load() -> None:
        barrier.wait()
        keyrings.append(load_keyring(settings))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keyrings) == 8
    token = keyrings[0].encrypt("shared", **WHERE)
    assert {k.decrypt(token, **WHERE) for k in keyrings} == {"shared"}


def test_the_process_keyring_is_built_once() -> None:
    assert load_keyring() is load_keyring()


# --- S9: production without a keyring refuses to start ------------------------------------------

POSTGRES_URL = "postgresql+psycopg://syncstore@db.internal:5432/syncstore"


def test_a_postgresql_configuration_without_a_keyring_refuses_instead_of_creating_a_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url=POSTGRES_URL)
    with pytest.raises(KeyringError, match="SYNCSTORE_ENCRYPTION_KEYS") as caught:
        load_keyring(settings)
    assert str(settings.resolved_key_file) in str(caught.value)
    assert not settings.resolved_key_file.exists() and not (tmp_path / "data").exists()
    # Configured keys start it; SQLite (the demo) still gets its local key file.
    assert load_keyring(_settings(tmp_path, database_url=POSTGRES_URL, encryption_keys=KEY_A)).key_ids == ("a",)
    sqlite = _settings(tmp_path, database_url=f"sqlite:///{tmp_path}/demo.db")
    assert load_keyring(sqlite).primary_key_id and sqlite.resolved_key_file.is_file()


def test_a_key_file_an_operator_provides_is_used_with_postgresql(tmp_path: Path) -> None:
    key_file = tmp_path / "provided.keys"
    key_file.write_text(f"{KEY_B}\n")
    key_file.chmod(0o600)
    keyring = load_keyring(_settings(tmp_path, database_url=POSTGRES_URL, key_file=key_file))
    assert keyring.key_ids == ("b",)


def test_the_demo_may_choose_a_local_key_file_on_postgresql(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url=POSTGRES_URL)
    assert crypto.ensure_local_key_file(settings.resolved_key_file) is True
    assert crypto.ensure_local_key_file(settings.resolved_key_file) is False
    assert stat.S_IMODE(settings.resolved_key_file.stat().st_mode) == 0o600
    assert load_keyring(settings).key_ids == load_keyring(settings).key_ids
