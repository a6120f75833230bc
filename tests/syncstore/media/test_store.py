# The media store on SQLite and PostgreSQL: uploaded files and URLs stored once by hash, fetch limits, resizing.
from __future__ import annotations

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import MediaFile, MediaVariant
from syncstore.media import store
from syncstore.media.errors import ImageFetchFailed, ImageNotFound, ImageRejected
from syncstore.media.images import Limits, inspect
from syncstore.settings import Settings
from tests.syncstore.media.helpers import ImageServer, noisy_picture, picture

SETTINGS = Settings(media_max_bytes=200_000, media_fetch_timeout_seconds=0.5)


def stored_count(engine: sa.Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) or 0


def test_an_uploaded_file_is_stored_once_by_its_content(engine: sa.Engine) -> None:
    data = picture()
    first = store.store_file(engine, data, "shirt.jpg", settings=SETTINGS)
    again = store.store_file(engine, data, "copy-of-shirt.jpg", settings=SETTINGS)
    assert first == again and first.ref == f"media:{first.content_hash}"
    assert (first.content_type, first.width, first.height, first.size_bytes) == ("image/jpeg", 640, 480, len(data))
    assert stored_count(engine) == 1
    with transaction(engine) as session:
        assert store.read_image(session, first.content_hash) == (data, "image/jpeg")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>hello</html>", "not a readable image"),
        (picture(fmt="GIF"), "GIF images are not accepted"),
        (b"", "empty"),
    ],
)
def test_only_jpeg_png_and_webp_files_are_accepted(engine: sa.Engine, content: bytes, message: str) -> None:
    with pytest.raises(ImageRejected, match=message):
        store.store_file(engine, content, "file.bin", settings=SETTINGS)
    assert stored_count(engine) == 0


def test_png_and_webp_are_accepted(engine: sa.Engine) -> None:
    png = store.store_file(engine, picture(fmt="PNG"), "a.png", settings=SETTINGS)
    webp = store.store_file(engine, picture(fmt="WEBP"), "a.webp", settings=SETTINGS)
    assert (png.content_type, webp.content_type) == ("image/png", "image/webp")


def test_a_file_over_the_byte_limit_is_refused(engine: sa.Engine) -> None:
    big = noisy_picture((400, 400))
    assert len(big) > 20_000
    with pytest.raises(ImageRejected, match=r"big\.jpg: the image is \d+ bytes; at most 20000"):
        store.store_file(engine, big, "big.jpg", settings=Settings(media_max_bytes=20_000))


def test_a_url_is_fetched_once_and_two_urls_with_the_same_bytes_share_one_image(
    engine: sa.Engine, images: ImageServer
) -> None:
    data = picture((10, 120, 10))
    first_url = images.add("/p/1.jpg", data)
    second_url = images.add("/other/1.jpg?token=secret", data)
    digest = store.resolve(engine, first_url, settings=SETTINGS)
    assert store.resolve(engine, first_url, settings=SETTINGS) == digest
    assert store.resolve(engine, second_url, settings=SETTINGS) == digest
    assert store.resolve(engine, f"media:{digest}", settings=SETTINGS) == digest
    assert images.hits["/p/1.jpg"] == 1 and images.hits["/other/1.jpg?token=secret"] == 1
    assert stored_count(engine) == 1
    with transaction(engine) as session:
        row = session.get_one(MediaFile, digest)
        assert row.source_url == first_url


@pytest.mark.parametrize(
    ("path", "route", "error", "message"),
    [
        ("/huge.jpg", {"body": noisy_picture((600, 600))}, ImageRejected, "at most 200000 are accepted"),
        (
            "/page.jpg",
            {"body": b"<html></html>", "content_type": "text/html"},
            ImageRejected,
            r"not an image \(text/html\)",
        ),
        ("/slow.jpg", {"body": picture(), "delay_s": 2.0}, ImageFetchFailed, r"no answer within 0.5 s"),
        ("/gone.jpg", {"body": b"", "status": 404}, ImageFetchFailed, "HTTP 404"),
        ("/fake.jpg", {"body": b"not really a jpeg", "content_type": "image/jpeg"}, ImageRejected, "not a readable"),
    ],
)
def test_fetch_limits_fail_with_a_clear_reason_and_store_nothing(
    engine: sa.Engine, images: ImageServer, path: str, route: dict[str, object], error: type[Exception], message: str
) -> None:
    url = images.add(path + "?sig=topsecret", **route)  # type: ignore[arg-type]
    with pytest.raises(error, match=message) as raised:
        store.resolve(engine, url, settings=SETTINGS)
    assert "topsecret" not in str(raised.value) and path in str(raised.value)
    assert stored_count(engine) == 0


def test_an_unknown_media_reference_or_a_non_url_is_refused(engine: sa.Engine) -> None:
    with pytest.raises(ImageNotFound, match="is not a stored image"):
        store.resolve(engine, "media:" + "0" * 64, settings=SETTINGS)
    with pytest.raises(ImageRejected, match="neither an http"):
        store.resolve(engine, "ftp://example.com/a.jpg", settings=SETTINGS)


def test_an_image_over_a_platforms_side_limit_is_resized_once_and_cached(engine: sa.Engine) -> None:
    original = store.store_file(engine, picture(size=(1200, 800)), "wide.jpg", settings=SETTINGS)
    limits = Limits(max_bytes=1_000_000, max_side_px=600)
    variant = store.sized_for(engine, original.content_hash, limits)
    assert variant != original.content_hash
    with transaction(engine) as session:
        content, content_type = store.read_image(session, variant)
    info = inspect(content)
    assert (info.width, info.height, content_type) == (600, 400, "image/jpeg")
    assert store.sized_for(engine, original.content_hash, limits) == variant
    with transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MediaVariant)) == 1


def test_an_image_over_a_byte_limit_is_recompressed_below_it(engine: sa.Engine) -> None:
    heavy = noisy_picture((500, 500))
    original = store.store_file(engine, heavy, "noise.jpg", settings=Settings(media_max_bytes=2_000_000))
    limits = Limits(max_bytes=40_000, max_side_px=5000)
    variant = store.sized_for(engine, original.content_hash, limits)
    with transaction(engine) as session:
        content, _type = store.read_image(session, variant)
    assert len(content) <= 40_000 < len(heavy)


def test_an_image_below_a_platforms_minimum_side_is_refused_not_enlarged(engine: sa.Engine) -> None:
    original = store.store_file(engine, picture(size=(400, 250)), "small.png", settings=SETTINGS)
    limits = Limits(max_bytes=10_000_000, max_side_px=5000, min_side_px=300)
    with pytest.raises(ImageRejected, match="400x250 px; at least 300 px on each side is needed"):
        store.sized_for(engine, original.content_hash, limits)
    assert stored_count(engine) == 1


def test_an_image_within_the_limits_is_sent_as_it_is(engine: sa.Engine) -> None:
    original = store.store_file(engine, picture(), "ok.jpg", settings=SETTINGS)
    limits = Limits(max_bytes=10_000_000, max_side_px=5000)
    assert store.sized_for(engine, original.content_hash, limits) == original.content_hash
    assert stored_count(engine) == 1


def test_the_app_shows_a_url_as_it_is_and_a_stored_image_from_its_bytes(engine: sa.Engine) -> None:
    data = picture()
    stored = store.store_file(engine, data, "shirt.jpg", settings=SETTINGS)
    with transaction(engine) as session:
        assert store.display_source(session, "https://shop.example/a.jpg") == "https://shop.example/a.jpg"
        assert store.display_source(session, stored.ref) == data
        assert store.display_source(session, "media:" + "1" * 64) is None
