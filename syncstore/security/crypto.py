# Encryption of secrets at rest (platform tokens): AES-256-GCM under a keyring of named keys (E1-E4).
"""Secrets at rest.

A stored secret is one line of text::

    v1:<kid>:<base64url(nonce || ciphertext || tag)>

`v1` is the format version, `<kid>` names the key that encrypted it, the nonce is 12 random
bytes and the GCM tag 16 bytes. The associated data binds the value to where it is stored::

    b"syncstore:v1:<kid>:<table>:<row id>:<column>"

so a value copied to another row or column, or a header edited in place, fails to decrypt.

Keys come from `SYNCSTORE_ENCRYPTION_KEYS` (`kid:base64key,kid2:base64key`, the first is the
primary and encrypts new values, the others only decrypt). Without it, `load_keyring` uses a
local key file (mode 0600, created on first use) and logs a warning once per process.
Key ids listed in `SYNCSTORE_RETIRED_KEY_IDS` refuse to decrypt anything.

No error raised here carries plaintext, ciphertext or key material.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
import secrets
import stat
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import make_url

from syncstore.db.types import utcnow
from syncstore.errors import SyncStoreError

if TYPE_CHECKING:
    from syncstore.settings import Settings

logger = logging.getLogger(__name__)

VERSION = "v1"
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_SIZE = 32
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Table and column names, and row ids, that may appear in the associated data (no ':' inside).
_BINDING_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_KEY_FILE_HEADER = (
    "# SyncStore local encryption key, written because SYNCSTORE_ENCRYPTION_KEYS is not set.\n"
    "# For the demo and development only. Losing this file makes stored platform tokens unreadable.\n"
)


# --- errors ---------------------------------------------------------------------------------


class CryptoError(SyncStoreError):
    """Base of every encryption error; catch this to treat "cannot read this secret" as one case."""


class KeyringError(CryptoError):
    """The keyring configuration (environment variable or key file) is unusable."""


class DecryptionError(CryptoError):
    """A stored value failed authentication: tampered with, or bound to another row or column."""


class MalformedTokenError(DecryptionError):
    """A stored value is not in the `v1:<kid>:<payload>` format."""


class UnknownKeyError(CryptoError):
    """A stored value names a key id the keyring does not hold."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(
            "stored secret is encrypted with key id {key_id!r}, which is not in the keyring; add "
            "that key back to SYNCSTORE_ENCRYPTION_KEYS (after the primary) to read it",
            key_id=key_id,
        )


class RetiredKeyError(CryptoError):
    """A stored value names a key id that has been retired."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(
            "stored secret is encrypted with retired key id {key_id!r}; it must be re-encrypted "
            "before the key is retired (remove it from SYNCSTORE_RETIRED_KEY_IDS, run the key "
            "rotation, then retire it again)",
            key_id=key_id,
        )


# --- the stored format ----------------------------------------------------------------------


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode_strict(text: str) -> bytes:
    """Decode unpadded base64url, refusing any text that is not the canonical encoding."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedTokenError("stored secret payload is not valid base64url") from None
    # The decoder skips stray characters and ignores unused trailing bits; re-encoding catches both.
    if _b64url_encode(data) != text:
        raise MalformedTokenError("stored secret payload is not canonical base64url") from None
    return data


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(":")
    if len(parts) != 3:
        raise MalformedTokenError("stored secret is not in the 'v1:<key id>:<payload>' format")
    version, key_id, payload = parts
    if version != VERSION:
        raise MalformedTokenError("stored secret has an unsupported format version")
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise MalformedTokenError("stored secret has a malformed key id")
    return version, key_id, payload


def key_id_of(token: str) -> str:
    """The id of the key that encrypted `token` (raises MalformedTokenError if it is not a token)."""
    return _split(token)[1]


def associated_data(key_id: str, *, table: str, row_id: int | str, column: str) -> bytes:
    """The bytes a stored value is bound to: format version, key id, table, row id and column."""
    row = str(row_id)
    for name, value in (("table", table), ("row_id", row), ("column", column)):
        if not _BINDING_PATTERN.fullmatch(value):
            raise ValueError(f"{name} must match {_BINDING_PATTERN.pattern}, got {value!r}")
    return f"syncstore:{VERSION}:{key_id}:{table}:{row}:{column}".encode("ascii")


def generate_key(key_id: str | None = None) -> str:
    """A fresh keyring entry `kid:base64key` (32 random bytes); the id defaults to k<date>-<random>."""
    kid = key_id or f"k{utcnow():%Y%m%d}-{secrets.token_hex(3)}"
    if not KEY_ID_PATTERN.fullmatch(kid):
        raise KeyringError("key id must match {pattern}", pattern=KEY_ID_PATTERN.pattern)
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_SIZE)).decode('ascii')}"


# --- the keyring ----------------------------------------------------------------------------


def _decode_key(kid: str, text: str) -> bytes:
    value = text.strip()
    # Accept standard and URL-safe base64 (with or without padding), nothing else.
    normalized = value.replace("-", "+").replace("_", "/")
    normalized += "=" * (-len(normalized) % 4)
    try:
        key = base64.b64decode(normalized, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError("key {kid!r} is not valid base64", kid=kid) from None
    if len(key) != KEY_SIZE:
        raise KeyringError(
            "key {kid!r} is {count} bytes; AES-256 keys are {key_size} bytes",
            kid=kid,
            count=len(key),
            key_size=KEY_SIZE,
        )
    return key


def parse_keyring_spec(spec: str) -> list[tuple[str, bytes]]:
    """Parse `kid:base64key,kid2:base64key` (commas or new lines; '#' starts a comment line)."""
    entries: list[str] = []
    for line in spec.splitlines():
        if line.strip().startswith("#"):
            continue
        entries.extend(part.strip() for part in line.split(",") if part.strip())
    if not entries:
        raise KeyringError("the keyring is empty: give at least one 'kid:base64key' entry")
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(entries, start=1):
        kid, sep, encoded = entry.partition(":")
        kid = kid.strip()
        # Never echo the entry itself: it may be key material.
        if not sep:
            raise KeyringError("keyring entry {position} is not in the form 'kid:base64key'", position=position)
        if not KEY_ID_PATTERN.fullmatch(kid):
            raise KeyringError(
                "keyring entry {position}: key id must match {pattern}",
                position=position,
                pattern=KEY_ID_PATTERN.pattern,
            )
        keys.append((kid, _decode_key(kid, encoded)))
    return keys


class Keyring:
    """Named AES-256-GCM keys: the first encrypts, all decrypt except retired ones.

    Build one directly in tests (`Keyring.parse("a:...")`); services call `load_keyring()`.
    """

    __slots__ = ("_ciphers", "_order", "_retired")

    def __init__(self, keys: Sequence[tuple[str, bytes]], retired_key_ids: Iterable[str] = ()) -> None:
        if not keys:
            raise KeyringError("the keyring is empty: give at least one 'kid:base64key' entry")
        ciphers: dict[str, AESGCM] = {}
        for kid, key in keys:
            if not KEY_ID_PATTERN.fullmatch(kid):
                raise KeyringError("key id must match {pattern}", pattern=KEY_ID_PATTERN.pattern)
            if kid in ciphers:
                raise KeyringError("key id {kid!r} appears more than once in the keyring", kid=kid)
            if len(key) != KEY_SIZE:
                raise KeyringError(
                    "key {kid!r} is {count} bytes; AES-256 keys are {key_size} bytes",
                    kid=kid,
                    count=len(key),
                    key_size=KEY_SIZE,
                )
            ciphers[kid] = AESGCM(key)
        retired = frozenset(k.strip() for k in retired_key_ids if k.strip())
        order = tuple(kid for kid, _ in keys)
        if order[0] in retired:
            raise KeyringError(
                "the primary key {order!r} is listed as retired; put a new key first in the keyring", order=order[0]
            )
        self._ciphers = ciphers
        self._order = order
        self._retired = retired

    @classmethod
    def parse(cls, spec: str, retired_key_ids: Iterable[str] = ()) -> Keyring:
        """A keyring from `kid:base64key,...` text (the first entry is the primary)."""
        return cls(parse_keyring_spec(spec), retired_key_ids)

    @property
    def primary_key_id(self) -> str:
        return self._order[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every configured key id, primary first."""
        return self._order

    @property
    def retired_key_ids(self) -> frozenset[str]:
        return self._retired

    def __repr__(self) -> str:
        retired = sorted(self._retired)
        return f"Keyring(primary={self.primary_key_id!r}, keys={list(self._order)!r}, retired={retired!r})"

    def encrypt(self, plaintext: str, *, table: str, row_id: int | str, column: str) -> str:
        """Encrypt under the primary key, bound to (table, row_id, column)."""
        kid = self.primary_key_id
        aad = associated_data(kid, table=table, row_id=row_id, column=column)
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._ciphers[kid].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{VERSION}:{kid}:{_b64url_encode(nonce + sealed)}"

    def decrypt(self, token: str, *, table: str, row_id: int | str, column: str) -> str:
        """The plaintext of `token` stored at (table, row_id, column).

        Raises MalformedTokenError or DecryptionError (tampered, or bound elsewhere),
        RetiredKeyError or UnknownKeyError.
        """
        _, kid, payload = _split(token)
        if kid in self._retired:
            raise RetiredKeyError(kid)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownKeyError(kid)
        blob = _b64url_decode_strict(payload)
        if len(blob) < NONCE_SIZE + TAG_SIZE:
            raise MalformedTokenError("stored secret payload is too short")
        aad = associated_data(kid, table=table, row_id=row_id, column=column)
        try:
            plaintext = cipher.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
        except InvalidTag:
            raise DecryptionError(
                "stored secret in {table} row {row_id} column {column} failed authentication: it was "
                "altered, or it belongs to another row or column",
                table=table,
                row_id=row_id,
                column=column,
            ) from None
        return plaintext.decode("utf-8")

    def is_current(self, token: str) -> bool:
        """Whether `token` is already encrypted under the primary key."""
        return key_id_of(token) == self.primary_key_id


# --- loading from settings ------------------------------------------------------------------

_lock = threading.Lock()
_warn_lock = threading.Lock()
_default: tuple[Settings, Keyring] | None = None
_warned_key_files: set[Path] = set()


def load_keyring(settings: Settings | None = None) -> Keyring:
    """The configured keyring.

    With `settings` omitted this is the process-wide keyring for `get_settings()`, built once
    (and rebuilt if the settings object is replaced). With explicit `settings` it is built fresh.
    """
    global _default
    if settings is not None:
        return _build(settings)
    from syncstore.settings import get_settings

    current = get_settings()
    with _lock:
        if _default is None or _default[0] is not current:
            _default = (current, _build(current))
        return _default[1]


def _build(settings: Settings) -> Keyring:
    configured = settings.encryption_keys.get_secret_value() if settings.encryption_keys else ""
    if configured.strip():
        return Keyring.parse(configured, settings.retired_key_ids)
    path = settings.resolved_key_file
    production = _is_production(settings)
    return Keyring.parse(_read_or_create_key_file(path, create=not production), settings.retired_key_ids)


def ensure_local_key_file(path: Path) -> bool:
    """Create the local key file at `path` unless it exists (True if created now): an explicit choice.

    For the demo, which may run on PostgreSQL: there `load_keyring` reads an existing key file but
    never invents one (S9). Production sets SYNCSTORE_ENCRYPTION_KEYS instead.
    """
    created = False if path.exists() else _create_key_file(path)
    _check_key_file(path)
    return created


def _is_production(settings: Settings) -> bool:
    """A PostgreSQL database is a production configuration (S9); SQLite is the demo and development."""
    try:
        return make_url(settings.resolved_database_url).get_backend_name() == "postgresql"
    except Exception:  # an unparsable URL fails loudly where the engine is made, not here
        return False


def _read_or_create_key_file(path: Path, *, create: bool = True) -> str:
    created = False
    if not path.exists():
        if not create:
            # S9: several hosts each inventing a key would encrypt tokens none of the others can read.
            raise KeyringError(
                "no encryption keyring is configured for this PostgreSQL (production) database: set "
                "SYNCSTORE_ENCRYPTION_KEYS (generate one with `syncstore keys generate`) on every "
                "SyncStore process. A local key file ({path}) is only created for SQLite (the demo and "
                "development).",
                path=path,
            )
        created = _create_key_file(path)
    _check_key_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise KeyringError("cannot read the key file {path}: {kind}", path=path, kind=type(error).__name__) from None
    resolved = path.resolve()
    with _warn_lock:
        first_time = resolved not in _warned_key_files
        _warned_key_files.add(resolved)
    if first_time:
        logger.warning(
            "Platform tokens are encrypted with the local key file %s (%s). This is for the demo and "
            "development only: production must set SYNCSTORE_ENCRYPTION_KEYS, and losing this file "
            "makes the stored tokens unreadable.",
            path,
            "created now" if created else "existing file",
        )
    return text


def _create_key_file(path: Path) -> bool:
    """Write a new key file atomically with mode 0600; False if another process created it first."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise KeyringError(
            "cannot create the directory {parent}: {strerror}", parent=path.parent, strerror=error.strerror
        ) from None
    content = _KEY_FILE_HEADER + generate_key() + "\n"
    # mkstemp creates the file with mode 0600 before anything is written to it.
    fd, temp_name = tempfile.mkstemp(prefix=".keys-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o600)
        try:
            # A hard link never replaces an existing file: two processes starting at once agree on one key.
            os.link(temp_name, path)
        except FileExistsError:
            return False
        except OSError:
            # Filesystems without hard links: rename, still atomic, only if nobody beat us to it.
            if path.exists():
                return False
            os.replace(temp_name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
    _fsync_directory(path.parent)
    return True


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_key_file(path: Path) -> None:
    try:
        info = path.stat()
    except OSError as error:
        raise KeyringError("cannot read the key file {path}: {strerror}", path=path, strerror=error.strerror) from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyringError("the key file {path} is not a regular file", path=path)
    if os.name == "posix" and info.st_mode & 0o077:
        raise KeyringError(
            "the key file {path} is accessible by other users (mode {mode:04o}); run: chmod 600 {path}",
            path=path,
            mode=stat.S_IMODE(info.st_mode),
        )
