# AppTest fixtures for every page test: a seeded database per test and `app_as(role, page)`.
"""Shared fixtures for the Streamlit page tests (helpers A and B use them alike).

A seeded template database (migrated, the sample catalog imported, one user per role, two
connected shops with a few bound listings) is built once per backend per session; each test gets
its own copy (a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL), so writes in
one test never leak into another. The app is pointed at the copy through SYNCSTORE_DATABASE_URL.

    def test_something(app_as):
        at = app_as("editor", "products")        # signed in as the editor, on views/products.py
        assert not at.exception
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.catalog.importer import import_csv
from syncstore.data import sample_catalog_path
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import (
    MasterProduct,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductVariant,
    User,
)
from syncstore.db.types import utcnow
from syncstore.security import auth
from syncstore.security.auth import Actor, Role
from syncstore.shops import connections
from tests.conftest import POSTGRES_ADMIN_URL, _unavailable

APP_PATH = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
PASSWORD = "correct-horse-battery"
EMAILS = {role: f"{role.value}@example.com" for role in Role}
# Generous: the first run of a page in a process imports polars, pandas and the syncstore modules.
RUN_TIMEOUT = 60.0
SHOPS = (("shopee", "1001", "Demo Shopee MY"), ("tiktokshop", "7001", "Demo TikTok MY"))


@dataclass(frozen=True)
class SeededDatabase:
    """A database for one test: its URL and the actor of each role."""

    url: str
    actors: dict[Role, Actor]

    def engine(self) -> sa.Engine:
        return create_engine(self.url)


def seed_database(url: str) -> None:
    """Migrate, import the sample catalog, add one user per role and two shops with listings."""
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        cli = Actor.command_line()
        report = import_csv(cli, engine, sample_catalog_path(), strict=True)
        assert not report.errors, report.errors[:3]
        with transaction(engine) as session:
            for role, email in EMAILS.items():
                auth.create_user(cli, session, email=email, role=role, password=PASSWORD, name=role.value.title())
            now = utcnow()
            shops = [
                connections.save_connection(
                    cli,
                    session,
                    platform=platform,
                    shop_id=shop_id,
                    shop_name=name,
                    region="MY",
                    access_token=f"access-{shop_id}",
                    refresh_token=f"refresh-{shop_id}",
                    access_token_expires_at=now + timedelta(hours=4),
                    refresh_token_expires_at=now + timedelta(days=30),
                    shop_cipher="cipher-1" if platform == "tiktokshop" else None,
                )
                for platform, shop_id, name in SHOPS
            ]
            _bind_listings(session, shops)
    finally:
        engine.dispose()


def _bind_listings(session: sa.orm.Session, shops: list[PlatformConnection]) -> None:
    """Bind the first five products to both shops, as a snapshot pull after a first sync would."""
    products = session.scalars(sa.select(MasterProduct).order_by(MasterProduct.id).limit(5)).all()
    now = utcnow()
    for shop in shops:
        for index, product in enumerate(products):
            listing = PlatformListing(
                connection_id=shop.id, product_id=product.id, platform=shop.platform,
                remote_item_id=f"{shop.shop_id}-{product.id}", remote_status="NORMAL",
                remote_title=product.title, base_title=product.title,
                remote_description=product.description, base_description=product.description,
                remote_images=list(product.images), base_images=list(product.images),
                sync_status="failed" if index == 4 else "synced", last_synced_at=now,
            )  # fmt: skip
            session.add(listing)
            session.flush()
            variants = session.scalars(sa.select(ProductVariant).where(ProductVariant.product_id == product.id)).all()
            for variant in variants:
                price = variant.price or product.base_price
                session.add(
                    PlatformListingSku(
                        listing_id=listing.id,
                        connection_id=shop.id,
                        variant_id=variant.id,
                        remote_sku_id=f"{listing.remote_item_id}-{variant.id}",
                        seller_sku=variant.sku,
                        currency=product.currency,
                        remote_price=Decimal(price),
                        base_price=Decimal(price),
                        remote_stock=variant.stock,
                        base_stock=variant.stock,
                        last_synced_at=now,
                    )
                )


def _actors(url: str) -> dict[Role, Actor]:
    engine = create_engine(url)
    try:
        with transaction(engine) as session:
            users = session.scalars(sa.select(User)).all()
            return {Role(user.role): Actor.from_user(user) for user in users}
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def seeded_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("app-template") / "syncstore.db"
    seed_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def seeded_postgres_template() -> Iterator[str]:
    """A seeded PostgreSQL database used only as a template (no connection stays open to it)."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"syncstore_app_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:
        admin.dispose()
        _unavailable("PostgreSQL", error)
    try:
        seed_database(admin.url.set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SeededDatabase]:
    """A private copy of the seeded database for this test (once per backend); the app points at it."""
    monkeypatch.setenv("SYNCSTORE_DATA_DIR", os.environ["SYNCSTORE_DATA_DIR"])
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("seeded_sqlite_template")
        copy = tmp_path / "syncstore.db"
        shutil.copyfile(template, copy)
        url = f"sqlite:///{copy}"
        monkeypatch.setenv("SYNCSTORE_DATABASE_URL", url)
        yield SeededDatabase(url, _actors(url))
        _release_app_caches()
        return
    template_name: str = request.getfixturevalue("seeded_postgres_template")
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"syncstore_app_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("SYNCSTORE_DATABASE_URL", url)
    try:
        yield SeededDatabase(url, _actors(url))
    finally:
        _release_app_caches()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def sqlite_seeded_db(
    seeded_sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SeededDatabase]:
    """Like `seeded_db`, SQLite only: for tests where a second backend adds nothing."""
    copy = tmp_path / "syncstore.db"
    shutil.copyfile(seeded_sqlite_template, copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("SYNCSTORE_DATABASE_URL", url)
    yield SeededDatabase(url, _actors(url))
    _release_app_caches()


def _release_app_caches() -> None:
    """Drop cached reads and dispose the app's engines (st caches live as long as the process)."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


AppAs = Callable[..., AppTest]


def make_app_as(database: SeededDatabase) -> AppAs:
    def app_as(
        role: str | Role | None,
        page: str | None = None,
        *,
        query_params: dict[str, str] | None = None,
        session_state: dict[str, object] | None = None,
        run: bool = True,
    ) -> AppTest:
        """An AppTest of the whole app signed in as `role` (None: nobody), switched to views/<page>.py."""
        at = AppTest.from_file(str(APP_PATH), default_timeout=RUN_TIMEOUT)
        if role is not None:
            at.session_state["actor"] = database.actors[Role(role)]
        for key, value in (session_state or {}).items():
            at.session_state[key] = value
        if query_params:
            at.query_params.update(query_params)
        at.run()
        if page is not None:
            at.switch_page(f"views/{page.removesuffix('.py')}.py")
            if query_params:
                at.query_params.update(query_params)
            if run:
                at.run()
        return at

    return app_as


@pytest.fixture
def app_as(seeded_db: SeededDatabase) -> AppAs:
    """`app_as(role, page)`: the app signed in as that role on that page, run once (SQLite and PostgreSQL)."""
    return make_app_as(seeded_db)


@pytest.fixture
def sqlite_app_as(sqlite_seeded_db: SeededDatabase) -> AppAs:
    """`app_as` on SQLite only."""
    return make_app_as(sqlite_seeded_db)


def frame_with(at: AppTest, column: str) -> Any:
    """The first table on the page that has `column` (st.dataframe keys are not exposed without selection)."""
    for element in at.dataframe:
        frame = element.value
        if column in frame.columns:
            return frame
    raise AssertionError(f"no table with a {column!r} column on the page")
