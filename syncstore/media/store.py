# Images stored once by the SHA-256 of their bytes: from uploaded files, from URLs (fetched once), resized variants.
"""The media store.

Bytes live in the database (`media_files.content`), not in a directory: one source of truth that
the app, the worker and Dagster see wherever they run (no shared volume to mount), written in the
same transaction as the row that describes them (no file without its row or row without its file),
backed up with the rest, and identical on SQLite and PostgreSQL. Images are capped by
`SYNCSTORE_MEDIA_MAX_BYTES` and stored once per content, so the database grows by the catalog's
distinct images only.

- `store_file` stores an uploaded file and answers its `media:<hash>` reference.
- `resolve` turns a reference into a content hash: a `media:` reference must name a stored image;
  a URL is looked up in `media_sources` and fetched only the first time (`syncstore.media.fetch`).
- `sized_for` answers the hash of the copy that fits a platform's limits (the original when it
  fits), resizing once per (image, limits) and caching it in `media_variants`.

Network fetches happen outside any transaction (SQLite holds its write lock for a transaction's
whole life); each write is its own short transaction, and a row another process wrote meanwhile is
simply used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from syncstore.db.engine import transaction
from syncstore.db.models import MediaFile, MediaSource, MediaVariant
from syncstore.media import images
from syncstore.media.errors import ImageNotFound, ImageRejected
from syncstore.media.fetch import HttpClient, fetch_image
from syncstore.media.refs import hash_of_ref, is_url, media_ref, shown
from syncstore.settings import Settings, get_settings

T = TypeVar("T")


@dataclass(frozen=True)
class StoredImage:
    content_hash: str
    content_type: str
    width: int
    height: int
    size_bytes: int

    @property
    def ref(self) -> str:
        return media_ref(self.content_hash)


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _stored(row: MediaFile) -> StoredImage:
    return StoredImage(row.content_hash, row.content_type, row.width, row.height, row.size_bytes)


def _write_once(engine: sa.Engine, write: Callable[[Session], T], read: Callable[[Session], T | None]) -> T:
    """Write in its own transaction; if another process wrote the same key meanwhile, read theirs."""
    try:
        with transaction(engine) as session:
            return write(session)
    except IntegrityError:
        with transaction(engine) as session:
            found = read(session)
        if found is None:
            raise
        return found


def _save(engine: sa.Engine, content: bytes, source_url: str | None, max_bytes: int) -> StoredImage:
    """Store bytes (checked to be an accepted image) under their hash; an image stored before is reused."""
    if len(content) > max_bytes:
        raise ImageRejected(
            "the image is {count} bytes; at most {max_bytes} are accepted", count=len(content), max_bytes=max_bytes
        )
    info = images.inspect(content)
    digest = content_hash(content)
    with transaction(engine) as session:
        if (row := session.get(MediaFile, digest)) is not None:
            return _stored(row)

    def write(session: Session) -> StoredImage:
        row = MediaFile(content_hash=digest, content_type=info.content_type, width=info.width, height=info.height,
                        size_bytes=len(content), source_url=source_url, content=content)  # fmt: skip
        session.add(row)
        session.flush()
        return _stored(row)

    return _write_once(engine, write, lambda session: _found(session, digest))


def _found(session: Session, digest: str) -> StoredImage | None:
    row = session.get(MediaFile, digest)
    return _stored(row) if row is not None else None


def store_file(
    engine: sa.Engine, content: bytes, filename: str = "", *, settings: Settings | None = None
) -> StoredImage:
    """Store an uploaded image file (JPEG, PNG or WebP within SYNCSTORE_MEDIA_MAX_BYTES); `.ref` names it."""
    limit = (settings or get_settings()).media_max_bytes
    try:
        return _save(engine, content, None, limit)
    except ImageRejected as error:
        raise ImageRejected("{filename}: {error}", filename=filename or "the file", error=error) from error


def image_info(session: Session, digest: str) -> StoredImage | None:
    row = session.get(MediaFile, digest)
    return _stored(row) if row is not None else None


def read_image(session: Session, digest: str) -> tuple[bytes, str]:
    """A stored image's bytes and content type (thumbnails, uploads); ImageNotFound when unknown."""
    row = session.execute(
        sa.select(MediaFile.content, MediaFile.content_type).where(MediaFile.content_hash == digest)
    ).one_or_none()
    if row is None:
        raise ImageNotFound("{digest} is not a stored image", digest=media_ref(digest))
    return bytes(row.content), row.content_type


def display_source(session: Session, ref: str) -> str | bytes | None:
    """What the app shows for a product image: a URL as it is (the browser loads it), a stored image's
    bytes; None for a `media:` reference to nothing stored."""
    digest = hash_of_ref(ref)
    if digest is None:
        return ref
    try:
        return read_image(session, digest)[0]
    except ImageNotFound:
        return None


def known_hash(session: Session, ref: str) -> str | None:
    """The content hash a reference stands for, if it is known without fetching anything."""
    digest = hash_of_ref(ref)
    if digest is not None:
        return digest if session.get(MediaFile, digest) is not None else None
    return session.scalar(sa.select(MediaSource.content_hash).where(MediaSource.source_url == ref))


def resolve(engine: sa.Engine, ref: str, *, client: HttpClient | None = None, settings: Settings | None = None) -> str:
    """The content hash of the image a reference names; a URL is fetched (once, ever) and stored."""
    with transaction(engine) as session:
        digest = known_hash(session, ref)
    if digest is not None:
        return digest
    if hash_of_ref(ref) is not None:
        raise ImageNotFound("{ref} is not a stored image", ref=ref)
    if not is_url(ref):
        raise ImageRejected("{ref} is neither an http(s) URL nor a media: reference", ref=shown(ref))
    config = settings or get_settings()
    content = fetch_image(ref, max_bytes=config.media_max_bytes, timeout_s=config.media_fetch_timeout_seconds,
                          client=client)  # fmt: skip
    try:
        stored = _save(engine, content, ref, config.media_max_bytes)
    except ImageRejected as error:
        raise ImageRejected("{ref}: {error}", ref=shown(ref), error=error) from error

    def write(session: Session) -> str:
        session.add(MediaSource(source_url=ref, content_hash=stored.content_hash))
        session.flush()
        return stored.content_hash

    def read(session: Session) -> str | None:
        return session.scalar(sa.select(MediaSource.content_hash).where(MediaSource.source_url == ref))

    return _write_once(engine, write, read)


def sized_for(engine: sa.Engine, digest: str, limits: images.Limits) -> str:
    """The hash of the copy of an image that fits `limits`: the image itself, or its cached resized variant."""
    with transaction(engine) as session:
        cached = session.scalar(
            sa.select(MediaVariant.variant_hash).where(
                MediaVariant.content_hash == digest, MediaVariant.limits_key == limits.key
            )
        )
        if cached is not None:
            return cached
        content, _type = read_image(session, digest)
    resized = images.fit(content, limits)
    # An image that fits is cached as its own variant: it is read and measured once per limits.
    variant_hash = digest if resized is None else _save(engine, resized[0], None, len(resized[0])).content_hash

    def write(session: Session) -> str:
        session.add(MediaVariant(content_hash=digest, limits_key=limits.key, variant_hash=variant_hash))
        session.flush()
        return variant_hash

    def read(session: Session) -> str | None:
        return session.scalar(
            sa.select(MediaVariant.variant_hash).where(
                MediaVariant.content_hash == digest, MediaVariant.limits_key == limits.key
            )
        )

    return _write_once(engine, write, read)
