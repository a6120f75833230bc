# The demo's database: migrated, the sample catalog imported once, and a demo admin whose credentials are kept locally.
"""Preparing the demo database.

`prepare` migrates and imports the sample catalog when the catalog is empty. `demo_admin` creates
the demo Admin the first time (a random password) and writes the credentials to
`<data_dir>/demo-admin.txt` (mode 0600) so a later `make demo` can print them again; on a database
that already has users it reuses that admin. `seller_edits_made` / `record_seller_edits` keep, in the
audit log, that the demo's seller title edits were made, so a restart does not make them again.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from demo.config import Part
from demo.images import catalog_with_local_images
from demo.processes import DemoError
from demo.seeding import LAZADA_CATEGORY_ID
from syncstore.catalog.importer import import_csv
from syncstore.data import sample_catalog_path
from syncstore.db import migrate
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, MasterProduct, PlatformListing, ProductVariant, User
from syncstore.security import audit, auth
from syncstore.security.auth import Actor, Role
from syncstore.shops import connections

# The reserved .example domain: a valid address that can never reach anyone.
DEMO_ADMIN_EMAIL: Final = "admin@syncstore.example"


@dataclass(frozen=True)
class CatalogState:
    products: int
    variants: int
    imported_now: bool


@dataclass(frozen=True)
class AdminLogin:
    actor: Actor
    email: str
    password: str | None  # None: not known (the user existed before the demo kept credentials)
    created_now: bool


def prepare(engine: sa.Engine, image_base: str | None = None) -> CatalogState:
    """Migrate, then import the sample catalog unless products exist already; with `image_base`, its
    image URLs point at the demo's image server (`demo.images`) instead of the placeholder host."""
    migrate.upgrade(engine)
    with transaction(engine) as session:
        existing = session.scalar(sa.select(sa.func.count()).select_from(MasterProduct)) or 0
    if existing == 0:
        with tempfile.TemporaryDirectory(prefix="syncstore-demo-catalog-") as scratch:
            path = sample_catalog_path()
            if image_base:
                path = catalog_with_local_images(path, Path(scratch) / path.name, image_base)
            report = import_csv(Actor.command_line(), engine, path, strict=True)
        if report.errors:
            raise DemoError(f"the sample catalog has {len(report.errors)} invalid rows: {report.errors[:3]}")
    with transaction(engine) as session:
        products = session.scalar(sa.select(sa.func.count()).select_from(MasterProduct)) or 0
        variants = session.scalar(sa.select(sa.func.count()).select_from(ProductVariant)) or 0
    return CatalogState(products, variants, imported_now=existing == 0)


def _write_credentials(path: Path, email: str, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"{email}\n{password}\n")


def _read_credentials(path: Path, email: str) -> str | None:
    try:
        saved_email, password = path.read_text(encoding="utf-8").splitlines()[:2]
    except (OSError, ValueError):
        return None
    return password if saved_email == email else None


def demo_admin(engine: sa.Engine, credentials_file: Path) -> AdminLogin:
    """The demo Admin: created with a random password on a database without users, else found again."""
    with transaction(engine) as session:
        if not session.scalar(sa.select(sa.func.count()).select_from(User)):
            password = secrets.token_urlsafe(12)
            user = auth.create_user(
                Actor.command_line(), session, email=DEMO_ADMIN_EMAIL, role=Role.ADMIN, password=password
            )
            session.flush()
            _write_credentials(credentials_file, DEMO_ADMIN_EMAIL, password)
            return AdminLogin(Actor.from_user(user), DEMO_ADMIN_EMAIL, password, created_now=True)
        admins = session.scalars(
            sa.select(User).where(User.role == Role.ADMIN.value, User.is_active.is_(True)).order_by(User.id)
        ).all()
        if not admins:
            raise DemoError("the database has users but no active admin to connect the shops with")
        user = next((u for u in admins if u.email == DEMO_ADMIN_EMAIL), admins[0])
        return AdminLogin(
            Actor.from_user(user), user.email, _read_credentials(credentials_file, user.email), created_now=False
        )


# The demo's simulator category of the master category at `index` (sorted), per platform: the Shopee and
# TikTok Shop simulators have one leaf per master category from these ids on; Lazada's has one demo leaf.
_FIRST_CATEGORY_ID: Final = {Part.SHOPEE.value: 100001, Part.TIKTOKSHOP.value: 600001}


def _demo_category(platform: str, index: int) -> str:
    first = _FIRST_CATEGORY_ID.get(platform)
    return LAZADA_CATEGORY_ID if first is None else str(first + index)


def map_categories(engine: sa.Engine) -> int:
    """Map every master category without a mapping to a simulator category, per platform; how many were added.

    Creating a listing needs the platform's category (the Sync page says "category not mapped"
    otherwise); a merchant maps them once, the demo does it for the sample catalog.
    """
    from syncstore.sync import engine as sync

    added = 0
    with transaction(engine) as session:
        categories = sorted(set(session.scalars(sa.select(MasterProduct.category).distinct())))
        for platform in (Part.SHOPEE.value, Part.TIKTOKSHOP.value, Part.LAZADA.value):
            mapped = {m.master_category for m in sync.list_category_mappings(session, platform)}
            for index, category in enumerate(categories):
                if category not in mapped:
                    sync.set_category_mapping(
                        Actor.command_line(), session, platform, category, _demo_category(platform, index)
                    )
                    added += 1
    return added


def connected_shops(engine: sa.Engine) -> set[tuple[str, str]]:
    """(platform, shop_id) of every shop connected now."""
    with transaction(engine) as session:
        return {(c.platform, c.shop_id) for c in connections.list_connections(session) if c.status == "connected"}


def connection_ids(engine: sa.Engine, platform: str, shop_ids: tuple[str, ...]) -> list[int]:
    """The connected rows of these shops."""
    with transaction(engine) as session:
        return [
            c.id
            for c in connections.list_connections(session)
            if c.platform == platform and c.shop_id in shop_ids and c.status == "connected"
        ]


def pulled_shops(engine: sa.Engine) -> set[int]:
    """Connection ids whose snapshot holds at least one listing (the shop has been pulled)."""
    with transaction(engine) as session:
        return set(session.scalars(sa.select(PlatformListing.connection_id).distinct()))


# The audit action that marks the demo's seller title edits as made (the marker a restart looks for).
SELLER_EDITS_ACTION: Final = "demo.seller_edits"


def seller_edits_made(engine: sa.Engine, platform: str, shop_id: str) -> bool:
    """Whether the demo already made its seller title edits on this shop (a restart must not make them again)."""
    with transaction(engine) as session:
        found = session.scalar(
            sa.select(AuditLog.id)
            .where(AuditLog.action == SELLER_EDITS_ACTION, AuditLog.entity_id == f"{platform}-{shop_id}")
            .limit(1)
        )
    return found is not None


def record_seller_edits(engine: sa.Engine, platform: str, shop_id: str, skus: list[str]) -> None:
    """Mark the seller title edits as made, in the audit log (what the demo did to the shop, and when)."""
    with transaction(engine) as session:
        audit.record_system(session, "demo", SELLER_EDITS_ACTION, "shop", f"{platform}-{shop_id}", after={"skus": skus})
