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
from connectors.base import AuthExpired, AuthRevoked, Connector, ConnectorError, QuotaExhausted, UploadedImage
from syncstore.db.engine import transaction
from syncstore.db.models import MediaFile, MediaSource, MediaUpload
from syncstore.media import store
from syncstore.media.errors import ImageRejected, ImageUploadFailed
from syncstore.media.fetch import HttpClient
from syncstore.media.images import EXTENSIONS, Limits
from syncstore.media.refs import hash_of_ref, media_ref, shown
from syncstore.settings import Settings

# Connector errors about the shop, not the image: passed on as they are (the sync stops for this shop).
SHOP_STOPPING = (QuotaExhausted, AuthRevoked, AuthExpired)


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
    upload = getattr(connector, "upload_image", None)  # a plug-in connector may predate media uploads
    if upload is None:
        raise ImageUploadFailed("the {platform} connector cannot upload images", platform=connector.platform)
    uploaded: UploadedImage = upload(content, filename, content_type)
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

    Raises `MediaError` when an image cannot be fetched, used or uploaded (`ImageUploadFailed` with the
    platform's reason), and the connector's own error for a quota or authorization failure, which
    stops the whole shop; ids uploaded before the failure stay recorded.
    """
    hashes = [store.resolve(engine, ref, client=client, settings=settings) for ref in refs]
    with transaction(engine) as session:
        ids = uploaded_ids(session, connection_id, hashes)
    for ref, digest in zip(refs, hashes, strict=True):
        if digest not in ids:
            try:
                ids[digest] = _upload(engine, connection_id, connector, digest)
            except ImageRejected as error:
                raise ImageRejected("{ref}: {error}", ref=shown(ref), error=error) from error
            except SHOP_STOPPING:
                raise
            except ConnectorError as error:
                raise ImageUploadFailed("uploading {ref}: {error}", ref=shown(ref), error=error) from error
    return [ids[digest] for digest in hashes]


def known_sizes(session: Session, refs: Sequence[str]) -> list[tuple[str, int, int]]:
    """(reference, width, height) of the images already stored (a dry run fetches nothing): what
    `syncstore.plan.validation.check_image_sizes` checks against a platform's minimum."""
    digests = {ref: store.known_hash(session, ref) for ref in refs}
    wanted = sorted({digest for digest in digests.values() if digest is not None})
    if not wanted:
        return []
    sizes = {
        row.content_hash: (row.width, row.height)
        for row in session.execute(
            sa.select(MediaFile.content_hash, MediaFile.width, MediaFile.height).where(
                MediaFile.content_hash.in_(wanted)
            )
        )
    }
    return [(ref, *sizes[digest]) for ref, digest in digests.items() if digest in sizes]


def refs_for_remote(
    session: Session, connection_id: int, remote_images: Sequence[str], hints: Sequence[str] | None = None
) -> list[str]:
    """A listing's platform images as master references: an image uploaded by SyncStore becomes the
    reference in `hints` (the listing's baseline) with the same content, else the URL it was fetched
    from, else `media:<hash>`; an image SyncStore never uploaded is kept as the platform gave it."""
    [refs] = refs_for_remote_batch(session, connection_id, [(remote_images, hints or ())])
    return refs


def refs_for_remote_batch(
    session: Session, connection_id: int, listings: Sequence[tuple[Sequence[str], Sequence[str]]]
) -> list[list[str]]:
    """`refs_for_remote` for a batch of (remote images, hints) pairs, in at most four queries."""
    by_remote = _uploaded_by_remote(session, connection_id, sorted({i for images, _ in listings for i in images}))
    if not by_remote:
        return [list(images) for images, _hints in listings]
    hinted = _hinted(session, sorted({ref for _images, hints in listings for ref in hints}))
    sources = _source_refs(session, sorted(set(by_remote.values())))
    result = []
    for images, hints in listings:
        ref_of: dict[str, str] = {}
        for ref in hints:
            if (digest := hinted.get(ref)) is not None:
                ref_of.setdefault(digest, ref)
        result.append([ref_of.get(by_remote[i]) or sources[by_remote[i]] if i in by_remote else i for i in images])
    return result


def _chunks(values: Sequence[str], size: int = 400) -> list[Sequence[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _uploaded_by_remote(session: Session, connection_id: int, remote: Sequence[str]) -> dict[str, str]:
    """Platform image id or URL -> the content hash SyncStore uploaded to this shop under it."""
    found: dict[str, str] = {}
    for chunk in _chunks(remote):
        rows = session.execute(
            sa.select(MediaUpload.content_hash, MediaUpload.remote_image_id, MediaUpload.remote_url).where(
                MediaUpload.connection_id == connection_id,
                sa.or_(MediaUpload.remote_image_id.in_(chunk), MediaUpload.remote_url.in_(chunk)),
            )
        )
        for row in rows:
            found[row.remote_image_id] = row.content_hash
            if row.remote_url:
                found[row.remote_url] = row.content_hash
    return found


def _source_refs(session: Session, hashes: Sequence[str]) -> dict[str, str]:
    """content hash -> the URL it was first fetched from, else its `media:` reference."""
    refs = {digest: media_ref(digest) for digest in hashes}
    for chunk in _chunks(hashes):
        rows = session.execute(
            sa.select(MediaFile.content_hash, MediaFile.source_url).where(MediaFile.content_hash.in_(chunk))
        )
        for digest, url in rows:
            if url:
                refs[digest] = url
    return refs


def _hinted(session: Session, hints: Sequence[str]) -> dict[str, str]:
    """hint reference -> the content hash it stands for (media refs directly, URLs through media_sources)."""
    found: dict[str, str] = {}
    urls = [ref for ref in hints if hash_of_ref(ref) is None]
    for ref in hints:
        digest = hash_of_ref(ref)
        if digest is not None:
            found[ref] = digest
    for chunk in _chunks(urls):
        rows = session.execute(
            sa.select(MediaSource.source_url, MediaSource.content_hash).where(MediaSource.source_url.in_(chunk))
        )
        for url, digest in rows:
            found[url] = digest
    return found
