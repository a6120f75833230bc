# Per-shop image uploads: each image is uploaded to a shop once, its platform id kept and reused by every listing.
"""Uploads to a shop.

`ensure_uploaded` turns a listing's image references into the ids the shop's platform gave them:
each reference is resolved to its content (a URL fetched once, ever), the ids already recorded for
this shop (`media_uploads`, one row per (shop, content hash)) are reused, and only the missing images
are sized to the platform's limits (`syncstore.media.store.sized_for`) and uploaded through the
connector. Each id is committed as soon as its upload answers, so a create that fails afterwards
wastes none of them and the next attempt uploads nothing again. A changed image has a new hash,
so it is uploaded again; an unchanged one never is.

`refs_for_remote` is the way back: a snapshot's platform image ids or URLs become the references
the master uses, so an image SyncStore sent is not mistaken for an edit made on the platform.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import Connector
from syncstore.db.engine import transaction
from syncstore.db.models import MediaFile, MediaSource, MediaUpload
from syncstore.media import store
from syncstore.media.fetch import HttpClient
from syncstore.media.images import EXTENSIONS, Limits
from syncstore.media.refs import hash_of_ref, media_ref
from syncstore.settings import Settings


def limits_for(platform: str) -> Limits:
    """The upload limits of a platform, from its spec's rules."""
    rules = registry.spec(platform).rules
    return Limits(rules.image_max_bytes, rules.image_max_side_px, rules.image_min_side_px)


def uploaded_ids(session: Session, connection_id: int, hashes: Sequence[str]) -> dict[str, str]:
    """content hash -> the platform image id already recorded for this shop."""
    if not hashes:
        return {}
    rows = session.execute(
        sa.select(MediaUpload.content_hash, MediaUpload.remote_image_id).where(
            MediaUpload.connection_id == connection_id, MediaUpload.content_hash.in_(sorted(set(hashes)))
        )
    )
    return {row.content_hash: row.remote_image_id for row in rows}


def _upload(engine: sa.Engine, connection_id: int, connector: Connector, digest: str) -> str:
    """Upload one image (sized to the platform's limits) and commit its id at once; answers the id."""
    variant = store.sized_for(engine, digest, limits_for(connector.platform))
    with transaction(engine) as session:
        content, content_type = store.read_image(session, variant)
    filename = f"{variant[:16]}.{EXTENSIONS.get(content_type, 'jpg')}"
    uploaded = connector.upload_image(content, filename, content_type)
    with transaction(engine) as session:
        # Another worker may have uploaded the same image to this shop meanwhile: the first id recorded stays.
        existing = uploaded_ids(session, connection_id, [digest]).get(digest)
        if existing is not None:
            return existing
        session.add(MediaUpload(connection_id=connection_id, content_hash=digest,
                                remote_image_id=uploaded.image_id, remote_url=uploaded.url))  # fmt: skip
    return uploaded.image_id


def ensure_uploaded(
    engine: sa.Engine,
    connection_id: int,
    connector: Connector,
    refs: Sequence[str],
    *,
    client: HttpClient | None = None,
    settings: Settings | None = None,
) -> list[str]:
    """The platform image ids of `refs`, in order, uploading to this shop only what it does not have yet.

    Raises `syncstore.media.MediaError` when an image cannot be fetched or used, and the connector's
    `ConnectorError` when the platform refuses an upload; ids uploaded before the failure stay recorded.
    """
    hashes = [store.resolve(engine, ref, client=client, settings=settings) for ref in refs]
    with transaction(engine) as session:
        ids = uploaded_ids(session, connection_id, hashes)
    for digest in dict.fromkeys(hashes):
        if digest not in ids:
            ids[digest] = _upload(engine, connection_id, connector, digest)
    return [ids[digest] for digest in hashes]


def refs_for_remote(
    session: Session, connection_id: int, remote_images: Sequence[str], hints: Sequence[str] | None = None
) -> list[str]:
    """A listing's platform images as master references: an image uploaded by SyncStore becomes the
    reference in `hints` (the listing's baseline) with the same content, else the URL it was fetched
    from, else `media:<hash>`; an image SyncStore never uploaded is kept as the platform gave it."""
    if not remote_images:
        return []
    wanted = sorted(set(remote_images))
    rows = session.execute(
        sa.select(MediaUpload.content_hash, MediaUpload.remote_image_id, MediaUpload.remote_url).where(
            MediaUpload.connection_id == connection_id,
            sa.or_(MediaUpload.remote_image_id.in_(wanted), MediaUpload.remote_url.in_(wanted)),
        )
    ).all()
    if not rows:
        return list(remote_images)
    by_remote: dict[str, str] = {}
    for row in rows:
        by_remote[row.remote_image_id] = row.content_hash
        if row.remote_url:
            by_remote[row.remote_url] = row.content_hash
    ref_of = _hinted(session, hints or ())
    missing = {h for h in by_remote.values() if h not in ref_of}
    if missing:
        sources = session.execute(
            sa.select(MediaFile.content_hash, MediaFile.source_url).where(MediaFile.content_hash.in_(sorted(missing)))
        )
        for digest, url in sources:
            ref_of.setdefault(digest, url or media_ref(digest))
    return [ref_of.get(by_remote[image], image) if image in by_remote else image for image in remote_images]


def _hinted(session: Session, hints: Sequence[str]) -> dict[str, str]:
    """content hash -> the hint reference that stands for it (media refs directly, URLs through media_sources)."""
    found: dict[str, str] = {}
    urls = [ref for ref in hints if hash_of_ref(ref) is None]
    for ref in hints:
        digest = hash_of_ref(ref)
        if digest is not None:
            found.setdefault(digest, ref)
    if urls:
        rows = session.execute(
            sa.select(MediaSource.source_url, MediaSource.content_hash).where(MediaSource.source_url.in_(urls))
        )
        for url, digest in rows:
            found.setdefault(digest, url)
    return found
