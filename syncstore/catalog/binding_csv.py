# Bulk SKU binding by CSV: `seller_sku,master_sku[,shop]` lines, previewed line by line, then applied all or nothing.
"""Bulk binding.

The file has the columns `seller_sku,master_sku[,shop]` (a header row with these names is optional).
`shop` is a shop's name (or `<platform>-<shop_id>`); empty means every shop where the seller SKU is
found. Seller SKUs match case-insensitively, surrounding blanks ignored.

`preview_csv` says per line (and per shop) what would bind and what is refused and why: unknown
master SKU or shop, no such seller SKU, a seller SKU found twice in one shop, an excluded SKU, a
SKU bound to another master SKU, a master SKU already bound in that shop (naming the other SKU),
two lines claiming the same SKU or the same master SKU in one shop. A line already bound as asked
is `unchanged`. `apply_csv` binds every `bind` line through `bindings.bind_checked` (audited,
announced), or nothing at all when one line is refused (InvalidInput naming each refused line).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.catalog import bindings
from syncstore.db.models import PlatformListing, PlatformListingSku, ProductVariant
from syncstore.errors import InvalidInput, Message, msg
from syncstore.security.auth import Actor, Permission, requires

HEADER: Final = ("seller_sku", "master_sku", "shop")
MAX_LINES: Final = 20_000
Outcome = Literal["bind", "unchanged", "refused"]


@dataclass(frozen=True)
class CsvLine:
    line: int
    seller_sku: str
    master_sku: str
    shop: str  # the shop the line resolved to (or as given, when refused before that)
    outcome: Outcome
    reason: str  # English text (the CLI and the API show it)
    listing_sku_id: int | None = None
    variant_id: int | None = None
    version: int | None = None
    why: Message = field(default_factory=lambda: Message(""), compare=False, repr=False)  # reason as a template


def _line(
    row: _Row, shop: str, outcome: Outcome, why: Message, ids: tuple[int, int, int | None] | None = None
) -> CsvLine:
    """A line's outcome, its reason as English text and as a template; `ids` (listing SKU, variant, version)."""
    listing_sku_id, variant_id, version = ids if ids is not None else (None, None, None)
    return CsvLine(row.line, row.seller_sku, row.master_sku, shop, outcome, str(why), listing_sku_id, variant_id,
                   version, why)  # fmt: skip


@dataclass(frozen=True)
class BulkPreview:
    lines: list[CsvLine]

    @property
    def refused(self) -> list[CsvLine]:
        return [line for line in self.lines if line.outcome == "refused"]

    @property
    def to_bind(self) -> list[CsvLine]:
        return [line for line in self.lines if line.outcome == "bind"]


@dataclass(frozen=True)
class _Row:
    line: int
    seller_sku: str
    master_sku: str
    shop: str


def parse(text: str) -> list[_Row]:
    """The data rows of the file; InvalidInput for a file that is not this CSV at all."""
    rows: list[_Row] = []
    for number, fields in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        cells = [cell.strip() for cell in fields]
        if not any(cells):
            continue
        if number == 1 and tuple(c.lower() for c in cells[:2]) == HEADER[:2]:
            continue
        if len(cells) < 2 or len(cells) > 3:
            raise InvalidInput({f"line {number}": "expected seller_sku,master_sku[,shop]"})
        rows.append(_Row(number, cells[0], cells[1], cells[2] if len(cells) == 3 else ""))
    if not rows:
        raise InvalidInput({"file": "no line to bind (expected seller_sku,master_sku[,shop])"})
    if len(rows) > MAX_LINES:
        raise InvalidInput({"file": msg("at most {limit} lines at a time", limit=MAX_LINES)})
    return rows


def _shop_names(session: Session) -> dict[int, str]:
    return {shop.connection_id: shop.label for shop in bindings.shop_options(session)}


def _shops_matching(session: Session, given: str) -> set[int]:
    wanted = given.strip().lower()
    return {
        shop.connection_id
        for shop in bindings.shop_options(session)
        if wanted in (shop.name.lower(), f"{shop.platform}-{shop.shop_id}".lower())
    }


def preview_csv(session: Session, text: str) -> BulkPreview:
    """What each line would do; reads only."""
    rows = parse(text)
    names = _shop_names(session)
    lowered = sorted({row.seller_sku.lower() for row in rows if row.seller_sku})
    found: dict[str, dict[int, list[PlatformListingSku]]] = defaultdict(lambda: defaultdict(list))
    for start in range(0, len(lowered), 500):
        query = (
            sa.select(PlatformListingSku)
            .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
            .where(
                sa.func.lower(sa.func.trim(PlatformListingSku.seller_sku)).in_(lowered[start : start + 500]),
                PlatformListing.remote_status != bindings.DELETED,
            )
        )
        for sku in session.scalars(query):
            found[(sku.seller_sku or "").strip().lower()][sku.connection_id].append(sku)
    masters = {
        variant.sku.lower(): variant
        for variant in session.scalars(
            sa.select(ProductVariant).where(sa.func.lower(ProductVariant.sku).in_({r.master_sku.lower() for r in rows}))
        )
    }
    claimed_skus: dict[int, int] = {}
    claimed_variants: dict[tuple[int, int], int] = {}
    lines: list[CsvLine] = []
    for row in rows:

        def refuse(reason: Message, shop: str | None = None, row: _Row = row) -> None:
            lines.append(_line(row, shop or row.shop, "refused", reason))

        variant = masters.get(row.master_sku.lower())
        if not row.seller_sku or not row.master_sku:
            refuse(msg("seller_sku and master_sku are both required"))
            continue
        if variant is None:
            refuse(msg("no master SKU {sku}", sku=row.master_sku))
            continue
        per_shop = found.get(row.seller_sku.lower(), {})
        if row.shop:
            shops = _shops_matching(session, row.shop)
            if not shops:
                refuse(msg("no shop named {shop}", shop=row.shop))
                continue
            per_shop = {cid: skus for cid, skus in per_shop.items() if cid in shops}
        if not per_shop:
            refuse(
                msg(
                    "no listing SKU has the seller SKU {seller_sku} in {shop}", seller_sku=row.seller_sku, shop=row.shop
                )
                if row.shop
                else msg("no listing SKU has the seller SKU {seller_sku}", seller_sku=row.seller_sku)
            )
            continue
        for connection_id, skus in sorted(per_shop.items()):
            shop = names.get(connection_id, str(connection_id))
            if len(skus) > 1:
                why = msg(
                    "ambiguous: {n} SKUs of {shop} have the seller SKU {seller_sku}",
                    n=len(skus),
                    shop=shop,
                    seller_sku=row.seller_sku,
                )
                refuse(why, shop)
                continue
            sku = skus[0]
            refusal = bindings.bind_refusal(session, sku, variant)
            if sku.variant_id == variant.id:
                lines.append(_line(row, shop, "unchanged", msg("already bound")))
                continue
            if refusal is None and sku.id in claimed_skus:
                refusal = msg("line {line} already binds this SKU", line=claimed_skus[sku.id])
            if refusal is None and (connection_id, variant.id) in claimed_variants:
                refusal = msg(
                    "line {line} already binds {sku} in {shop}",
                    line=claimed_variants[(connection_id, variant.id)],
                    sku=variant.sku,
                    shop=shop,
                )
            if refusal is not None:
                refuse(refusal, shop)
                continue
            claimed_skus[sku.id] = row.line
            claimed_variants[(connection_id, variant.id)] = row.line
            binds = msg("binds to {sku}", sku=variant.sku)
            lines.append(_line(row, shop, "bind", binds, (sku.id, variant.id, sku.binding_version)))
    return BulkPreview(lines)


@requires(Permission.CATALOG_WRITE)
def apply_csv(actor: Actor | None, session: Session, text: str) -> BulkPreview:
    """Bind every line, or nothing when a line is refused; returns the preview it applied."""
    preview = preview_csv(session, text)
    if preview.refused:
        raise InvalidInput({f"line {line.line} ({line.shop})": line.why for line in preview.refused})
    for line in preview.to_bind:
        assert line.listing_sku_id is not None and line.variant_id is not None and line.version is not None
        sku = session.get_one(PlatformListingSku, line.listing_sku_id)
        variant = session.get_one(ProductVariant, line.variant_id)
        bindings.bind_checked(actor, session, sku, variant, line.version)
    return preview
