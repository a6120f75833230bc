# The demo's sample images: real deterministic JPEGs, served on loopback, and the catalog pointed at them.
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from demo import seeding
from demo.images import PLACEHOLDER_HOST, SampleImageServer, catalog_with_local_images, local_url, sample_image
from syncstore.data import sample_catalog_path


@pytest.fixture
def server() -> Iterator[SampleImageServer]:
    images = SampleImageServer()
    images.start()
    yield images
    images.stop()


def test_each_image_path_draws_the_same_jpeg_every_time_and_paths_differ() -> None:
    first = sample_image("kain-studio-heavyweight-boxy-tee/1.jpg")
    assert first == sample_image.__wrapped__("kain-studio-heavyweight-boxy-tee/1.jpg")
    assert first != sample_image("kain-studio-heavyweight-boxy-tee/2.jpg")
    picture = Image.open(io.BytesIO(first))
    assert (picture.format, picture.size) == ("JPEG", (600, 600)) and len(first) < 100_000


def test_the_server_answers_image_paths_and_refuses_anything_else(server: SampleImageServer) -> None:
    answer = httpx.get(f"{server.base}/kain-studio-heavyweight-boxy-tee/black.jpg")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.content == sample_image("kain-studio-heavyweight-boxy-tee/black.jpg")
    for path in ("/x.png", "/a/b/c.jpg", "/../secret.jpg", "/"):
        assert httpx.get(f"{server.base}{path}").status_code == 404


def test_the_catalog_copy_points_every_placeholder_image_at_the_server(tmp_path: Path) -> None:
    base = "http://127.0.0.1:9999"
    copy = catalog_with_local_images(sample_catalog_path(), tmp_path / "catalog.csv", base)
    text = copy.read_text(encoding="utf-8")
    assert PLACEHOLDER_HOST not in text and f"{base}/kain-studio-heavyweight-boxy-tee/1.jpg" in text
    assert len(text.splitlines()) == len(sample_catalog_path().read_text(encoding="utf-8").splitlines())
    seeded = seeding.read_catalog(sample_catalog_path(), image_base=base)
    assert all(url.startswith(f"{base}/") for product in seeded for url in product.images)
    assert local_url("https://elsewhere.example/a.jpg", base) == "https://elsewhere.example/a.jpg"
