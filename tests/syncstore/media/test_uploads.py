# Per-shop uploads on SQLite and PostgreSQL: uploaded once per shop, ids reused, a changed image sent again.
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from connectors.base import InvalidRequest, QuotaExhausted, UploadedImage
from syncstore.db.engine import transaction
from syncstore.db.models import MediaUpload
from syncstore.media import store
from syncstore.media.errors import ImageFetchFailed, ImageUploadFailed
from syncstore.media.images import inspect
from syncstore.media.uploads import ensure_uploaded, known_sizes, limits_for, refs_for_remote
from syncstore.plan import handlers
from syncstore.plan.changes import CreateListing, NewSku
from syncstore.settings import Settings
from tests.syncstore.media.helpers import ImageServer, UploadingShop, picture

SETTINGS = Settings(media_max_bytes=5_000_000, media_fetch_timeout_seconds=2)


def recorded(engine: sa.Engine, connection_id: int) -> dict[str, str]:
    with transaction(engine) as session:
        rows = session.execute(
            sa.select(MediaUpload.content_hash, MediaUpload.remote_image_id).where(
                MediaUpload.connection_id == connection_id
            )
        )
        return {row.content_hash: row.remote_image_id for row in rows}


def test_each_image_is_uploaded_once_per_shop_and_its_id_reused(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    red, blue = images.add("/red.jpg", picture((255, 0, 0))), images.add("/blue.jpg", picture((0, 0, 255)))
    shopee, tiktok = UploadingShop("shopee", "s"), UploadingShop("tiktokshop", "t")
    first = ensure_uploaded(engine, shops[0], shopee, [red, blue, red], settings=SETTINGS)
    assert first == ["s-img-1", "s-img-2", "s-img-1"] and len(shopee.uploads) == 2
    # Another listing of the same shop with the same images: nothing is uploaded again.
    assert ensure_uploaded(engine, shops[0], shopee, [blue], settings=SETTINGS) == ["s-img-2"]
    assert len(shopee.uploads) == 2
    # The other shop gets its own uploads (ids are per shop); the URLs are not fetched again.
    assert ensure_uploaded(engine, shops[1], tiktok, [blue, red], settings=SETTINGS) == ["t-img-1", "t-img-2"]
    assert images.hits["/red.jpg"] == images.hits["/blue.jpg"] == 1
    assert len(recorded(engine, shops[0])) == len(recorded(engine, shops[1])) == 2


def test_a_changed_image_is_uploaded_again_and_an_unchanged_one_never(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    shop = UploadingShop(name="s")
    cover = store.store_file(engine, picture((1, 2, 3)), "cover.jpg", settings=SETTINGS)
    detail = images.add("/detail.jpg", picture((9, 9, 9)))
    assert ensure_uploaded(engine, shops[0], shop, [cover.ref, detail], settings=SETTINGS) == ["s-img-1", "s-img-2"]
    # The merchant replaces the cover with a new file: a new hash, so one new upload; the detail is reused.
    new_cover = store.store_file(engine, picture((200, 2, 3)), "cover-v2.jpg", settings=SETTINGS)
    assert ensure_uploaded(engine, shops[0], shop, [new_cover.ref, detail], settings=SETTINGS) == [
        "s-img-3",
        "s-img-2",
    ]
    assert ensure_uploaded(engine, shops[0], shop, [new_cover.ref, detail], settings=SETTINGS) == [
        "s-img-3",
        "s-img-2",
    ]
    assert len(shop.uploads) == 3


def test_an_image_over_the_platforms_limit_is_uploaded_resized(engine: sa.Engine, shops: tuple[int, int]) -> None:
    limit = limits_for("shopee").max_side_px
    wide = store.store_file(engine, picture(size=(limit + 400, 200)), "wide.jpg", settings=SETTINGS)
    shop = UploadingShop()
    ensure_uploaded(engine, shops[0], shop, [wide.ref], settings=SETTINGS)
    [(_name, content, content_type)] = shop.uploads
    assert inspect(content).width == limit and content_type == "image/jpeg"
    # The id is recorded against the ORIGINAL image the master refers to.
    assert list(recorded(engine, shops[0])) == [wide.content_hash]


def test_a_failed_upload_keeps_the_ids_uploaded_before_it(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    urls = [images.add(f"/{n}.jpg", picture((n * 40, 0, 0))) for n in range(3)]
    shop = UploadingShop()
    shop.refuse_upload_after = 2
    with pytest.raises(ImageUploadFailed, match=r"uploading http://127.0.0.1:\d+/2.jpg: shopee \[error_image\]: image"):
        ensure_uploaded(engine, shops[0], shop, urls, settings=SETTINGS)
    assert len(recorded(engine, shops[0])) == 2
    shop.refuse_upload_after = None
    assert ensure_uploaded(engine, shops[0], shop, urls, settings=SETTINGS) == ["s-img-1", "s-img-2", "s-img-3"]


def draft_change(images: tuple[str, ...]) -> CreateListing:
    return CreateListing(
        product_id=1, title="Linen shirt", description="Soft", category_id="100017", images=images,
        weight_kg=Decimal("0.3"), currency="MYR", dimensions=None, draft_key="ss-1-1-0", generation=0,
        skus=(NewSku(variant_id=1, seller_sku="LIN-1", price=Decimal("59.90"), stock=5),),
    )  # fmt: skip


def image_ids_for(engine: sa.Engine, connection_id: int) -> handlers.ImageIds:
    def image_ids(connector: object, refs: object) -> tuple[str, ...]:
        return tuple(ensure_uploaded(engine, connection_id, connector, refs, settings=SETTINGS))  # type: ignore[arg-type]

    return image_ids


def test_a_failed_create_keeps_its_uploaded_ids_and_the_retry_uploads_nothing(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    change = draft_change((images.add("/a.jpg", picture((1, 1, 1))), images.add("/b.jpg", picture((2, 2, 2)))))
    shop = UploadingShop()
    shop.refuse_create = True
    [call] = handlers.create_calls([change], image_ids_for(engine, shops[0]))
    with pytest.raises(InvalidRequest):
        call.run(shop)  # type: ignore[arg-type]
    assert len(shop.uploads) == 2 and len(recorded(engine, shops[0])) == 2
    shop.refuse_create = False
    [outcome] = call.run(shop)  # type: ignore[arg-type]
    assert outcome.ok and len(shop.uploads) == 2
    assert shop.created[0].images == ("s-img-1", "s-img-2")


def test_an_image_that_cannot_be_fetched_fails_only_its_change_with_the_reason(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    change = draft_change((images.add("/missing.jpg", b"", status=404),))
    shop = UploadingShop()
    [outcome] = handlers.create_calls([change], image_ids_for(engine, shops[0]))[0].run(shop)  # type: ignore[arg-type]
    assert not outcome.ok and outcome.error is not None
    assert outcome.error.startswith("images: ") and "/missing.jpg: HTTP 404" in outcome.error
    assert shop.created == [] and shop.uploads == []


def test_images_read_back_from_the_platform_are_the_masters_references(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    url = images.add("/cover.jpg", picture((5, 5, 5)))
    uploaded = store.store_file(engine, picture((6, 6, 6)), "side.jpg", settings=SETTINGS)
    shop = UploadingShop()
    ensure_uploaded(engine, shops[0], shop, [url, uploaded.ref], settings=SETTINGS)
    remote = ["https://cdn.example/s-img-1.jpg", "s-img-2", "https://cdn.example/seller-own.jpg"]
    with transaction(engine) as session:
        assert refs_for_remote(session, shops[0], remote, hints=None) == [url, uploaded.ref, remote[2]]
        # The other shop never uploaded them: its images stay as the platform gave them.
        assert refs_for_remote(session, shops[1], remote) == remote


def test_a_fetch_failure_raises_a_media_error(engine: sa.Engine, images: ImageServer, shops: tuple[int, int]) -> None:
    with pytest.raises(ImageFetchFailed):
        ensure_uploaded(engine, shops[0], UploadingShop(), [images.add("/x.jpg", b"", status=500)], settings=SETTINGS)


def test_an_image_read_back_is_the_baselines_reference_when_two_urls_share_its_content(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    same = picture((7, 7, 7))
    first, second = images.add("/first.jpg", same), images.add("/second.jpg", same)
    store.resolve(engine, first, settings=SETTINGS)
    [image_id] = ensure_uploaded(engine, shops[0], UploadingShop(), [second], settings=SETTINGS)
    with transaction(engine) as session:
        assert refs_for_remote(session, shops[0], [image_id], hints=[second]) == [second]
        assert refs_for_remote(session, shops[0], [image_id]) == [first]


def test_the_sizes_of_stored_images_are_known_without_fetching(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    url = images.add("/known.jpg", picture(size=(800, 600)))
    stored = store.store_file(engine, picture(size=(320, 240)), "small.jpg", settings=SETTINGS)
    store.resolve(engine, url, settings=SETTINGS)
    never_fetched = images.add("/unknown.jpg", picture())
    with transaction(engine) as session:
        sizes = known_sizes(session, [url, stored.ref, never_fetched])
    assert sizes == [(url, 800, 600), (stored.ref, 320, 240)]
    assert images.hits["/unknown.jpg"] == 0


def test_a_refused_upload_fails_its_change_and_a_quota_answer_stops_the_shop(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    change = draft_change((images.add("/c.jpg", picture((3, 3, 3))),))
    shop = UploadingShop()
    shop.refuse_upload_after = 0
    [outcome] = handlers.create_calls([change], image_ids_for(engine, shops[0]))[0].run(shop)  # type: ignore[arg-type]
    assert not outcome.ok and outcome.error is not None and "image upload refused" in outcome.error

    class OutOfQuota(UploadingShop):
        def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
            raise QuotaExhausted("daily quota used", platform="shopee")

    with pytest.raises(QuotaExhausted):
        handlers.create_calls([change], image_ids_for(engine, shops[0]))[0].run(OutOfQuota())  # type: ignore[arg-type]


def test_a_connector_without_image_upload_fails_the_change_with_a_reason(
    engine: sa.Engine, images: ImageServer, shops: tuple[int, int]
) -> None:
    class NoUploads:
        platform = "shopee"

    change = draft_change((images.add("/d.jpg", picture((4, 4, 4))),))
    [outcome] = handlers.create_calls([change], image_ids_for(engine, shops[0]))[0].run(NoUploads())  # type: ignore[arg-type]
    assert outcome.error == "images: the shopee connector cannot upload images"
