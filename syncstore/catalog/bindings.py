# SKU mapping: every shop's remote SKUs with their binding (bound, orphan, excluded) and the commands that change it.
"""SKU bindings.

Reads (for the Listings page): `shop_options` and `list_bindings`, a filtered page of remote SKUs
with counts per state, read with LIMIT/OFFSET on indexed columns so 100k SKUs stay fast.

States of a remote SKU (a `platform_listing_skus` row of a listing that is not deleted):
- `bound`: bound to a master variant (`variant_id`);
- `excluded`: a person excluded it: the plan ignores it and never binds it;
- `orphan`: neither. Its `reason` says why auto-binding leaves it: no master SKU has its key, or
  the key is ambiguous (shared by several orphan SKUs of the shop, or several master SKUs).

Commands (Editor and Admin: `Permission.CATALOG_WRITE`; each writes one audit row in the caller's
transaction and is optimistic: it names the `binding_version` it read and a stale one raises
VersionConflict before anything is written):
- `bind_sku`: bind an orphan SKU to a master SKU (refused, naming the other SKU, when the variant is
  already bound in that shop), then announce `product.updated` so the worker pushes the master's
  stock (and the other fields that differ) to the SKU within seconds. `syncstore.plan.binding_preview`
  shows first what would change (it sits above the plan; this module sits below it).
- `unbind_sku`: the SKU becomes an orphan (its baselines are cleared). Note: an orphan whose key is
  a master SKU's key is bound again by the next plan; exclude it to keep it apart.
- `set_excluded`: exclude (unbinding a bound SKU) or include a SKU.
- `create_product_from_listing`: a master product from a listing's orphan SKUs (title, description,
  images, SKUs as variants with price and stock), every one of them then bound.
- `set_shop_affixes`: a shop's seller-SKU prefix and suffix; the shop's SKU keys are recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from syncstore.catalog.commands import create_product
from syncstore.catalog.schema import ImageUrl, Sku
from syncstore.catalog.sku_keys import normalize, sku_key
from syncstore.db.models import MasterProduct, PlatformConnection, PlatformListing, PlatformListingSku, ProductVariant
from syncstore.errors import InvalidInput, Message, NotFoundError, VersionConflict, msg
from syncstore.events import outbox
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires

State = Literal["bound", "orphan", "excluded"]
STATES: Final[tuple[State, ...]] = ("bound", "orphan", "excluded")
ENTITY: Final = "listing_sku"
DELETED: Final = "deleted"
MAX_PAGE: Final = 500
_SKU: TypeAdapter[str] = TypeAdapter(Sku)
_IMAGE: TypeAdapter[str] = TypeAdapter(ImageUrl)


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopOption:
    connection_id: int
    platform: str
    shop_id: str
    name: str
    prefix: str
    suffix: str

    @property
    def label(self) -> str:
        return self.name or f"{self.platform}-{self.shop_id}"


@dataclass(frozen=True)
class BindingFilter:
    """What the Listings page asks for; every field optional."""

    shop_name: str | None = None  # exact shop name (every shop of that name)
    connection_id: int | None = None
    state: State | None = None
    search: str | None = None  # in the listing title or the seller SKU, case-insensitive


@dataclass(frozen=True)
class BindingRow:
    listing_sku_id: int
    connection_id: int
    shop_name: str
    platform: str
    listing_id: int
    remote_item_id: str
    title: str | None
    remote_sku_id: str
    seller_sku: str | None
    sku_key: str | None
    price: Decimal | None
    currency: str | None
    stock: int | None
    state: State
    variant_id: int | None
    master_sku: str | None
    version: int
    # Orphans: why auto-binding leaves it, and the master SKU its key matches (a suggestion), if one.
    reason: str | None = None
    suggestion: str | None = None


@dataclass(frozen=True)
class BindingPage:
    rows: list[BindingRow]
    total: int  # rows matching the filter (state included)
    counts: dict[str, int]  # per state, for the filter without its state


def shop_options(session: Session) -> list[ShopOption]:
    """Every shop (connected or not), by name."""
    rows = session.scalars(sa.select(PlatformConnection).order_by(PlatformConnection.shop_name, PlatformConnection.id))
    return [ShopOption(r.id, r.platform, r.shop_id, r.shop_name, r.sku_prefix, r.sku_suffix) for r in rows]


def _state_expr() -> sa.Case[str]:
    return sa.case(
        (PlatformListingSku.variant_id.is_not(None), "bound"),
        (PlatformListingSku.binding_excluded.is_(True), "excluded"),
        else_="orphan",
    )


def _state_clause(state: State) -> sa.ColumnElement[bool]:
    if state == "bound":
        return PlatformListingSku.variant_id.is_not(None)
    excluded = PlatformListingSku.binding_excluded.is_(state == "excluded")
    return sa.and_(PlatformListingSku.variant_id.is_(None), excluded)


def _filters(session: Session, filters: BindingFilter) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = [PlatformListing.remote_status != DELETED, *_shop_filters(session, filters)]
    if filters.search and filters.search.strip():
        pattern = f"%{filters.search.strip().lower()}%"
        clauses.append(
            sa.or_(
                sa.func.lower(PlatformListing.remote_title).like(pattern),
                sa.func.lower(PlatformListingSku.seller_sku).like(pattern),
            )
        )
    return clauses


def _shop_filters(session: Session, filters: BindingFilter) -> list[sa.ColumnElement[bool]]:
    """The filters on the SKU's shop only (what an index of platform_listing_skus answers)."""
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.connection_id is not None:
        clauses.append(PlatformListingSku.connection_id == filters.connection_id)
    if filters.shop_name:
        ids = session.scalars(
            sa.select(PlatformConnection.id).where(PlatformConnection.shop_name == filters.shop_name)
        ).all()
        clauses.append(PlatformListingSku.connection_id.in_(list(ids)))
    return clauses


def _state_counts(
    session: Session, filters: BindingFilter, clauses: Sequence[sa.ColumnElement[bool]]
) -> dict[str, int]:
    """The SKUs per state under `filters`.

    Without a search, nearly every SKU of a big shop is bound: the bound ones are counted as every SKU
    of the shops less those of deleted listings (both index reads) less the unbound ones (found by the
    variant_id index), instead of joining every SKU to its listing. A search reads the matching rows
    anyway: one grouped count over them.
    """
    counts: dict[str, int] = dict.fromkeys(STATES, 0)
    state = _state_expr().label("state")
    joined = (
        sa.select(state, sa.func.count())
        .select_from(PlatformListingSku)
        .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
    )
    if filters.search and filters.search.strip():
        for name, count in session.execute(joined.where(*clauses).group_by(state)):
            counts[str(name)] = int(count)
        return counts
    for name, count in session.execute(joined.where(*clauses, PlatformListingSku.variant_id.is_(None)).group_by(state)):
        counts[str(name)] = int(count)
    shop = _shop_filters(session, filters)
    every = session.scalar(sa.select(sa.func.count()).select_from(PlatformListingSku).where(*shop)) or 0
    deleted = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(PlatformListingSku)
            .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
            .where(*shop, PlatformListing.remote_status == DELETED)
        )
        or 0
    )
    counts["bound"] = int(every) - int(deleted) - counts["orphan"] - counts["excluded"]
    return counts


def list_bindings(
    session: Session, filters: BindingFilter | None = None, *, limit: int = 50, offset: int = 0
) -> BindingPage:
    """One page of remote SKUs (oldest first) with their binding, and the counts per state."""
    filters = filters or BindingFilter()
    if filters.state is not None and filters.state not in STATES:
        raise InvalidInput({"state": msg("must be one of {choices}", choices=", ".join(STATES))})
    limit = max(1, min(limit, MAX_PAGE))
    clauses = _filters(session, filters)
    counts = _state_counts(session, filters, clauses)
    where = [*clauses, _state_clause(filters.state)] if filters.state else clauses
    total = counts[filters.state] if filters.state else sum(counts.values())
    query = _rows_query().where(*where).order_by(PlatformListingSku.id).limit(limit).offset(max(0, offset))
    rows = _rows(session, session.execute(query).all())
    return BindingPage(rows, total, counts)


def binding_row(session: Session, listing_sku_id: int) -> BindingRow:
    """One remote SKU with its binding, as `list_bindings` shows it."""
    found = session.execute(_rows_query().where(PlatformListingSku.id == listing_sku_id)).all()
    if not found:
        raise NotFoundError("listing SKU {listing_sku_id} not found", listing_sku_id=listing_sku_id)
    return _rows(session, found)[0]


def _rows_query() -> sa.Select[PlatformListingSku, PlatformListing, PlatformConnection, str]:
    return (
        sa.select(PlatformListingSku, PlatformListing, PlatformConnection, ProductVariant.sku)
        .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
        .join(PlatformConnection, PlatformConnection.id == PlatformListingSku.connection_id)
        .outerjoin(ProductVariant, ProductVariant.id == PlatformListingSku.variant_id)
    )


def _rows(session: Session, found: Sequence[Any]) -> list[BindingRow]:
    orphans = [sku for sku, *_ in found if sku.variant_id is None and not sku.binding_excluded]
    reasons = orphan_reasons(session, orphans)
    rows = []
    for sku, listing, shop, master_sku in found:
        row_state: State = "bound" if sku.variant_id is not None else "excluded" if sku.binding_excluded else "orphan"
        reason, suggestion = reasons.get(sku.id, (None, None))
        rows.append(
            BindingRow(
                listing_sku_id=sku.id, connection_id=shop.id,
                shop_name=shop.shop_name or f"{shop.platform}-{shop.shop_id}",
                platform=shop.platform, listing_id=listing.id, remote_item_id=listing.remote_item_id,
                title=listing.remote_title, remote_sku_id=sku.remote_sku_id, seller_sku=sku.seller_sku,
                sku_key=sku.sku_key, price=sku.remote_price, currency=sku.currency, stock=sku.remote_stock,
                state=row_state, variant_id=sku.variant_id, master_sku=master_sku, version=sku.binding_version,
                reason=reason, suggestion=suggestion,
            )
        )  # fmt: skip
    return rows


def _master_key() -> sa.ColumnElement[str]:
    """A master SKU's key in SQL (case, spaces and dashes; what `normalize` removes from a usual SKU)."""
    return sa.func.lower(sa.func.replace(sa.func.replace(ProductVariant.sku, " ", ""), "-", ""))


def _key_of(sku: PlatformListingSku, shop: PlatformConnection | None = None) -> str | None:
    if sku.sku_key is not None:
        return sku.sku_key
    return sku_key(sku.seller_sku, shop.sku_prefix if shop else None, shop.sku_suffix if shop else None)


def orphan_reasons(session: Session, orphans: Sequence[PlatformListingSku]) -> dict[int, tuple[str, str | None]]:
    """Per orphan SKU id: (why it is not bound automatically, the master SKU it would bind to)."""
    keys = {sku.id: _key_of(sku) for sku in orphans}
    wanted = sorted({key for key in keys.values() if key})
    if not wanted:
        return {sku.id: ("no seller SKU to match", None) for sku in orphans}
    shared: dict[tuple[int, str], int] = {}
    # By (connection_id, sku_key) only, so the index on them is the one used; orphans are counted here.
    query = sa.select(
        PlatformListingSku.connection_id,
        PlatformListingSku.sku_key,
        PlatformListingSku.variant_id,
        PlatformListingSku.binding_excluded,
    ).where(
        PlatformListingSku.connection_id.in_(sorted({sku.connection_id for sku in orphans})),
        PlatformListingSku.sku_key.in_(wanted),
    )
    for connection_id, key, variant_id, excluded in session.execute(query):
        if key is not None and variant_id is None and not excluded:
            shared[(connection_id, key)] = shared.get((connection_id, key), 0) + 1
    masters: dict[str, list[str]] = {}
    for sku_text in session.scalars(sa.select(ProductVariant.sku).where(_master_key().in_(wanted))):
        if (key := normalize(sku_text)) is not None:
            masters.setdefault(key, []).append(sku_text)
    result: dict[int, tuple[str, str | None]] = {}
    for sku in orphans:
        key = keys[sku.id]
        if key is None:
            result[sku.id] = ("no seller SKU to match", None)
            continue
        same = shared.get((sku.connection_id, key), 1)
        matches = sorted(masters.get(key, []))
        if same > 1:
            result[sku.id] = (f"ambiguous: {same} SKUs of this shop share the key '{key}'", None)
        elif len(matches) > 1:
            result[sku.id] = (f"ambiguous: master SKUs {', '.join(matches)} share the key '{key}'", None)
        elif matches:
            result[sku.id] = (f"matches master SKU {matches[0]}: bound at the next sync", matches[0])
        else:
            result[sku.id] = (f"no master SKU has the key '{key}'", None)
    return result


# --- checks shared by the commands and the previews -----------------------------------------


def listing_sku(session: Session, listing_sku_id: int) -> PlatformListingSku:
    sku = session.get(PlatformListingSku, listing_sku_id)
    if sku is None:
        raise NotFoundError("listing SKU {listing_sku_id} not found", listing_sku_id=listing_sku_id)
    return sku


def find_variant(session: Session, master_sku: str) -> ProductVariant:
    """The master variant of a SKU (case-insensitive), or InvalidInput naming it."""
    text = (master_sku or "").strip()
    variant = session.scalars(
        sa.select(ProductVariant).where(sa.func.lower(ProductVariant.sku) == text.lower())
    ).first()
    if not text or variant is None:
        raise InvalidInput({"master_sku": msg("no master SKU {text!r}", text=text)})
    return variant


def bind_refusal(session: Session, sku: PlatformListingSku, variant: ProductVariant) -> Message | None:
    """Why `sku` cannot be bound to `variant` (None: it can)."""
    if sku.binding_excluded:
        return msg("seller SKU {seller_sku} is excluded; include it first", seller_sku=sku.seller_sku or "(none)")
    if sku.variant_id == variant.id:
        return msg(
            "seller SKU {seller_sku} is already bound to {sku}", seller_sku=sku.seller_sku or "(none)", sku=variant.sku
        )
    if sku.variant_id is not None:
        current = session.get(ProductVariant, sku.variant_id)
        bound_to = current.sku if current else sku.variant_id
        return msg(
            "seller SKU {seller_sku} is bound to {bound_to}; unbind it first",
            seller_sku=sku.seller_sku or "(none)",
            bound_to=bound_to,
        )
    other = session.execute(
        sa.select(PlatformListingSku.seller_sku, PlatformListingSku.remote_sku_id, PlatformListing.remote_item_id)
        .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
        .where(PlatformListingSku.connection_id == sku.connection_id, PlatformListingSku.variant_id == variant.id)
    ).first()
    if other is not None:
        return msg(
            "master SKU {sku} is already bound in this shop to seller SKU {seller_sku} (item "
            "{remote_item_id}, SKU {remote_sku_id}); unbind that one first",
            sku=variant.sku,
            seller_sku=other.seller_sku or "(none)",
            remote_item_id=other.remote_item_id,
            remote_sku_id=other.remote_sku_id,
        )
    return None


def _expect(sku: PlatformListingSku, expected_version: int) -> None:
    """A person acting on what they read: a SKU changed since is a VersionConflict before any other check."""
    if sku.binding_version != expected_version:
        raise VersionConflict(ENTITY, sku.id, expected_version, sku.binding_version)


def _claim(session: Session, sku: PlatformListingSku, expected_version: int) -> None:
    """Move the SKU's binding version on, only from the version the person read."""
    result = session.execute(
        sa.update(PlatformListingSku)
        .where(PlatformListingSku.id == sku.id, PlatformListingSku.binding_version == expected_version)
        .values(binding_version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(sku)
        raise VersionConflict(ENTITY, sku.id, expected_version, sku.binding_version)
    session.refresh(sku)


def _binding(sku: PlatformListingSku, master_sku: str | None) -> dict[str, Any]:
    return {
        "connection_id": sku.connection_id, "seller_sku": sku.seller_sku, "remote_sku_id": sku.remote_sku_id,
        "variant_id": sku.variant_id, "master_sku": master_sku, "excluded": sku.binding_excluded,
        "version": sku.binding_version,
    }  # fmt: skip


def _attach(session: Session, sku: PlatformListingSku, variant: ProductVariant) -> None:
    """Bind the row (no checks): a fresh binding has no baseline, so the plan pushes what differs."""
    sku.variant_id = variant.id
    sku.base_price = sku.base_stock = None
    listing = session.get_one(PlatformListing, sku.listing_id)
    if listing.product_id is None:
        listing.product_id = variant.product_id


@requires(Permission.CATALOG_WRITE)
def bind_checked(
    actor: Actor | None, session: Session, sku: PlatformListingSku, variant: ProductVariant, version: int
) -> None:
    """Bind after the checks, audited and announced; for `bind_sku` and the CSV bulk binding."""
    _expect(sku, version)
    refusal = bind_refusal(session, sku, variant)
    if refusal is not None:
        raise InvalidInput({"master_sku": refusal})
    before = _binding(sku, None)
    _claim(session, sku, version)
    _attach(session, sku, variant)
    session.flush()
    audit.record(session, actor, "listing_sku.bind", ENTITY, sku.id, before=before, after=_binding(sku, variant.sku))
    outbox.publish(
        session, aggregate_type="product", aggregate_id=variant.product_id, event_type="product.updated",
        payload={"product_id": variant.product_id, "variant_ids": [variant.id], "reason": "sku_bound",
                 "listing_sku_id": sku.id},
    )  # fmt: skip


# --- commands -------------------------------------------------------------------------------


@requires(Permission.CATALOG_WRITE)
def bind_sku(
    actor: Actor | None, session: Session, listing_sku_id: int, master_sku: str, *, expected_version: int
) -> PlatformListingSku:
    """Bind an orphan remote SKU to a master SKU; the worker then pushes the master's values to it."""
    sku = listing_sku(session, listing_sku_id)
    bind_checked(actor, session, sku, find_variant(session, master_sku), expected_version)
    return sku


def _detach(session: Session, sku: PlatformListingSku) -> None:
    listing_id, sku.variant_id = sku.listing_id, None
    sku.base_price = sku.base_stock = None
    if sku.sku_key is None:
        sku.sku_key = _key_of(sku, session.get(PlatformConnection, sku.connection_id))
    session.flush()
    still_bound = session.scalar(
        sa.select(sa.func.count()).where(
            PlatformListingSku.listing_id == listing_id, PlatformListingSku.variant_id.is_not(None)
        )
    )
    if not still_bound:
        session.get_one(PlatformListing, listing_id).product_id = None


def _master_sku(session: Session, sku: PlatformListingSku) -> str | None:
    variant = session.get(ProductVariant, sku.variant_id) if sku.variant_id is not None else None
    return variant.sku if variant else None


@requires(Permission.CATALOG_WRITE)
def unbind_sku(
    actor: Actor | None, session: Session, listing_sku_id: int, *, expected_version: int
) -> PlatformListingSku:
    """Unbind a remote SKU: it becomes an orphan and nothing is pushed to it any more."""
    sku = listing_sku(session, listing_sku_id)
    _expect(sku, expected_version)
    if sku.variant_id is None:
        raise InvalidInput(
            {"listing_sku": msg("seller SKU {seller_sku} is not bound", seller_sku=sku.seller_sku or "(none)")}
        )
    before = _binding(sku, _master_sku(session, sku))
    _claim(session, sku, expected_version)
    _detach(session, sku)
    audit.record(session, actor, "listing_sku.unbind", ENTITY, sku.id, before=before, after=_binding(sku, None))
    return sku


@requires(Permission.CATALOG_WRITE)
def set_excluded(
    actor: Actor | None, session: Session, listing_sku_id: int, excluded: bool, *, expected_version: int
) -> PlatformListingSku:
    """Exclude a remote SKU from the plan (unbinding it when bound), or include it again."""
    sku = listing_sku(session, listing_sku_id)
    _expect(sku, expected_version)
    if sku.binding_excluded == excluded:
        raise InvalidInput(
            {
                "listing_sku": msg(
                    "seller SKU {seller_sku} is already {binding}",
                    seller_sku=sku.seller_sku or "(none)",
                    binding="excluded" if excluded else "included",
                )
            }
        )
    before = _binding(sku, _master_sku(session, sku))
    _claim(session, sku, expected_version)
    if excluded and sku.variant_id is not None:
        _detach(session, sku)
    sku.binding_excluded = excluded
    session.flush()
    action = "listing_sku.exclude" if excluded else "listing_sku.include"
    audit.record(session, actor, action, ENTITY, sku.id, before=before, after=_binding(sku, None))
    return sku


@requires(Permission.CATALOG_WRITE)
def set_shop_affixes(actor: Actor | None, session: Session, connection_id: int, *, prefix: str, suffix: str) -> int:
    """Set a shop's seller-SKU prefix and suffix and recompute its SKU keys; returns the keys rewritten."""
    shop = session.get(PlatformConnection, connection_id)
    if shop is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    prefix, suffix = prefix.strip(), suffix.strip()
    errors = {
        name: "must be at most 50 characters"
        for name, value in (("prefix", prefix), ("suffix", suffix))
        if len(value) > 50
    }
    if errors:
        raise InvalidInput(errors)
    before = {"prefix": shop.sku_prefix, "suffix": shop.sku_suffix}
    shop.sku_prefix, shop.sku_suffix = prefix, suffix
    rows = session.execute(
        sa.select(PlatformListingSku.id, PlatformListingSku.seller_sku, PlatformListingSku.sku_key).where(
            PlatformListingSku.connection_id == connection_id
        )
    ).all()
    changed = [
        {"row_id": row.id, "key": key}
        for row in rows
        if (key := sku_key(row.seller_sku, prefix, suffix)) != row.sku_key
    ]
    statement = (
        sa.update(PlatformListingSku.__table__)  # type: ignore[arg-type]
        .where(PlatformListingSku.__table__.c.id == sa.bindparam("row_id"))
        .values(sku_key=sa.bindparam("key"))
    )
    for start in range(0, len(changed), 1000):
        session.execute(statement, changed[start : start + 1000])
    audit.record(session, actor, "shop.sku_affixes", "connection", connection_id, before=before,
                 after={"prefix": prefix, "suffix": suffix, "keys_rewritten": len(changed)})  # fmt: skip
    session.flush()
    return len(changed)


# --- a master product from a listing --------------------------------------------------------


@dataclass(frozen=True)
class ImportedListing:
    product_id: int
    bound: list[tuple[int, str]]  # (listing SKU id, master SKU)
    notes: list[str] = field(default_factory=list)


def _valid_sku(text: str | None) -> str | None:
    try:
        return _SKU.validate_python(text) if text else None
    except ValidationError:
        return None


def _taken(session: Session, skus: Sequence[str]) -> set[str]:
    if not skus:
        return set()
    lowered = [s.lower() for s in skus]
    return {
        s.lower()
        for s in session.scalars(sa.select(ProductVariant.sku).where(sa.func.lower(ProductVariant.sku).in_(lowered)))
    }


def _master_skus(
    session: Session, listing: PlatformListing, skus: Sequence[PlatformListingSku]
) -> tuple[list[str], list[str]]:
    """A master SKU per remote SKU (its seller SKU, or a generated one when empty, invalid or taken) and notes."""
    wanted = [_valid_sku(sku.seller_sku) for sku in skus]
    taken = _taken(session, [w for w in wanted if w])
    generated_base = [f"{listing.platform[:3].upper()}-{listing.remote_item_id}-{sku.remote_sku_id}" for sku in skus]
    taken |= _taken(session, generated_base)
    chosen: list[str] = []
    notes: list[str] = []
    used: set[str] = set()
    for sku, want, base in zip(skus, wanted, generated_base, strict=True):
        if want and want.lower() not in taken and want.lower() not in used:
            chosen.append(want)
            used.add(want.lower())
            continue
        candidate, n = base, 1
        while candidate.lower() in taken or candidate.lower() in used:
            n += 1
            candidate = f"{base}-{n}"
        chosen.append(candidate)
        used.add(candidate.lower())
        why = "empty" if not sku.seller_sku else "not a valid SKU" if not want else "already a master SKU"
        notes.append(f"seller SKU {sku.seller_sku or '(none)'} is {why}: master SKU {candidate} generated")
    return chosen, notes


@requires(Permission.CATALOG_WRITE)
def create_product_from_listing(actor: Actor | None, session: Session, listing_id: int) -> ImportedListing:
    """Create a master product from a listing's orphan SKUs, then bind each of them to its new variant."""
    listing = session.get(PlatformListing, listing_id)
    if listing is None:
        raise NotFoundError("listing {listing_id} not found", listing_id=listing_id)
    skus = [sku for sku in listing.skus if sku.variant_id is None and not sku.binding_excluded]
    if not skus:
        raise InvalidInput({"listing": "the listing has no orphan SKU to import (every SKU is bound or excluded)"})
    versions = {sku.id: sku.binding_version for sku in skus}
    prices = [sku.remote_price for sku in skus if sku.remote_price is not None and sku.remote_price > 0]
    if not prices:
        raise InvalidInput({"price": "no SKU of the listing has a price to import"})
    base_price = min(prices)
    master_skus, notes = _master_skus(session, listing, skus)
    images = []
    for image in listing.remote_images or []:
        try:
            images.append(_IMAGE.validate_python(image))
        except ValidationError:
            notes.append(f"image {image[:60]} is not a URL: left out")
    data = {
        "title": (listing.remote_title or f"{listing.platform} item {listing.remote_item_id}")[:255],
        "description": listing.remote_description or "",
        "category": f"Imported from {listing.platform}",
        "base_price": base_price,
        "currency": next((sku.currency for sku in skus if sku.currency), None),
        "images": images[:20],
        "variants": [
            {
                "sku": master, "name": (sku.seller_sku or f"Option {index + 1}")[:255],
                "price": None if sku.remote_price in (None, base_price) else sku.remote_price,
                "stock": max(sku.remote_stock or 0, 0),
            }
            for index, (sku, master) in enumerate(zip(skus, master_skus, strict=True))
        ],
    }  # fmt: skip
    product: MasterProduct = create_product(actor, session, data)
    by_sku = {variant.sku.lower(): variant for variant in product.variants}
    bound = []
    for sku, master in zip(skus, master_skus, strict=True):
        variant = by_sku[master.lower()]
        _claim(session, sku, versions[sku.id])  # a second import of the same listing meanwhile: VersionConflict
        sku.variant_id = variant.id
        # The master was made from these values: they are the agreed baseline, nothing to push.
        sku.base_price, sku.base_stock = sku.remote_price, sku.remote_stock
        bound.append((sku.id, variant.sku))
    listing.product_id = product.id
    session.flush()
    audit.record(session, actor, "listing.import", "listing", listing.id,
                 after={"product_id": product.id, "bound": bound, "notes": notes})  # fmt: skip
    return ImportedListing(product.id, bound, notes)
