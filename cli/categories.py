# `syncstore categories ...`: the platforms' category cache and the category map, from the shell.
"""`syncstore categories refresh|list|attributes|map|unmap|show`.

Commands run as the operator (`Actor.command_line()`, Admin), audited like the app. A platform
category's attributes are fetched from the first connected shop of the platform that has it in its
cached tree (`refresh` first); not-found and refusals are one clear line (exit 1). `map ... --attr
ID=VALUE` takes an allowed value by id or name (several joined with "|"), or free text where the
attribute takes it; the values are checked before saving.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from connectors.base import Connector
from syncstore.db.engine import get_engine, transaction
from syncstore.db.models import PlatformConnection
from syncstore.errors import InvalidInput
from syncstore.publishing import cache, mappings
from syncstore.publishing.attributes import AttributeValue
from syncstore.security.auth import Actor

categories_app = typer.Typer(help="Platform categories, their attributes, and the category map.", no_args_is_help=True)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _shops(platform: str | None = None, shop: int | None = None) -> list[tuple[int, str, str]]:
    with transaction(get_engine()) as session:
        query = sa.select(PlatformConnection.id, PlatformConnection.platform, PlatformConnection.shop_name).order_by(
            PlatformConnection.id
        )
        if shop is not None:
            query = query.where(PlatformConnection.id == shop)
        else:
            query = query.where(PlatformConnection.status == "connected")
        if platform is not None:
            query = query.where(PlatformConnection.platform == platform)
        return [(int(i), str(p), str(n)) for i, p, n in session.execute(query).all()]


@categories_app.command("refresh")
def refresh(shop: Annotated[int | None, typer.Option(help="Only this connection id")] = None) -> None:
    """Fetch each connected shop's category tree (and the attributes of the categories in use)."""
    from syncstore.shops import marketplaces

    engine = get_engine()
    targets = _shops(shop=shop)
    if not targets:
        raise _fail("no connected shop" if shop is None else f"connection {shop} not found")
    failed = False
    for connection_id, platform, name in targets:
        try:
            report = cache.refresh_categories(Actor.command_line(), engine, connection_id,
                                              marketplaces.connector_for(engine, connection_id))  # fmt: skip
            console.print(f"{platform} {name} (#{connection_id}): {report.categories} categories, "
                          f"{report.attributes} attributes of categories in use")  # fmt: skip
        except Exception as error:  # one shop's failure (refused, unreachable) never hides the others'
            failed = True
            errors.print(f"[red]error:[/red] {platform} {name} (#{connection_id}): {type(error).__name__}: {error}")
    if failed:
        raise typer.Exit(code=1)


@categories_app.command("list")
def list_categories(
    platform: str,
    search: Annotated[str, typer.Option(help="Part of the name, any case")] = "",
    shop: Annotated[int | None, typer.Option(help="Only this connection id")] = None,
    leaves: Annotated[bool, typer.Option(help="Only categories a listing can be created in")] = False,
    limit: Annotated[int, typer.Option(min=1, max=5000)] = 50,
) -> None:
    """Cached categories of a platform's shops, by name."""
    with transaction(get_engine()) as session:
        found = cache.list_remote_categories(session, connection_id=shop, platform=platform, search=search,
                                             leaves_only=leaves, limit=limit)  # fmt: skip
    if not found:
        raise _fail(f"no cached {platform} category matches {search!r}: run `syncstore categories refresh` first")
    table = Table("category id", "name", "parent", "leaf", "fetched")
    for category in found:
        table.add_row(category.category_id, category.name, category.parent_id or "", "yes" if category.is_leaf else "",
                      category.fetched_at.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    console.print(table)


def _attribute_table(attributes: list[cache.AttributeView]) -> Table:
    table = Table("attribute id", "name", "mandatory", "type", "values", "free text")
    for attribute in attributes:
        values = ", ".join(f"{name} ({value_id})" for value_id, name in attribute.values[:8])
        more = f" +{len(attribute.values) - 8} more" if len(attribute.values) > 8 else ""
        table.add_row(attribute.attribute_id, attribute.name, "yes" if attribute.mandatory else "",
                      attribute.input_type, values + more, "yes" if attribute.custom_allowed else "")  # fmt: skip
    return table


@categories_app.command("attributes")
def attributes(
    platform: str,
    category_id: str,
    refresh: Annotated[bool, typer.Option(help="Fetch again even when cached today")] = False,
) -> None:
    """A platform category's attributes (fetched when not cached today): mandatory ones first."""
    from syncstore.shops import marketplaces

    engine = get_engine()

    def connectors(shop: int) -> Connector:
        return marketplaces.connector_for(engine, shop)

    found = cache.attributes_for_platform(engine, platform, category_id, connectors, force=refresh)
    if not found:
        console.print(f"{platform} category {category_id} has no attributes")
        return
    console.print(_attribute_table(found))


def _parse_values(given: list[str], known: list[cache.AttributeView] | None) -> dict[str, AttributeValue]:
    values: dict[str, AttributeValue] = {}
    by_id = {attribute.attribute_id: attribute for attribute in known or []}
    for item in given:
        attribute_id, sep, raw = item.partition("=")
        if not sep or not attribute_id.strip():
            raise _fail(f"--attr {item!r}: write ATTRIBUTE_ID=VALUE (values joined with '|')")
        attribute = by_id.get(attribute_id.strip())
        ids: list[str] = []
        texts: list[str] = []
        for part in (p.strip() for p in raw.split("|") if p.strip()):
            match = None
            if attribute is not None:
                match = next((vid for vid, name in attribute.values if part == vid or part.lower() == name.lower()),
                             None)  # fmt: skip
            (ids if match is not None else texts).append(match if match is not None else part)
        values[attribute_id.strip()] = AttributeValue(tuple(ids), " ".join(texts) or None)
    return values


@categories_app.command("map")
def map_category(
    platform: str,
    master_category: str,
    category_id: str,
    attr: Annotated[list[str] | None, typer.Option(help="Default value: ATTRIBUTE_ID=VALUE (repeat)")] = None,
    brand: Annotated[str | None, typer.Option(help="Brand id listings are created with")] = None,
) -> None:
    """Map a master category to a platform category, with default attribute values and a brand."""
    engine = get_engine()
    given = list(attr or [])
    with transaction(engine) as session:
        known = cache.platform_category_attributes(session, platform, category_id)
    if given and known is None:
        from syncstore.shops import marketplaces

        known = cache.attributes_for_platform(engine, platform, category_id,
                                              lambda shop: marketplaces.connector_for(engine, shop))  # fmt: skip
    defaults = _parse_values(given, known) if given else None
    try:
        with transaction(engine) as session:
            view = mappings.set_category_mapping(Actor.command_line(), session, platform, master_category,
                                                 category_id, defaults=defaults, brand_id=brand)  # fmt: skip
    except InvalidInput as error:
        raise _fail("; ".join(f"{field}: {message}" for field, message in error.errors.items())) from None
    name = f" ({view.remote_category_name})" if view.remote_category_name else ""
    console.print(f"{platform}: {view.master_category!r} -> {view.remote_category_id}{name}, "
                  f"{len(view.defaults)} default attribute values, brand {view.brand_id or 'none'}")  # fmt: skip
    if known:
        missing = [a.name for a in known if a.mandatory and a.attribute_id not in view.defaults]
        if missing:
            console.print(f"[yellow]still missing mandatory attributes:[/yellow] {', '.join(missing)} "
                          "(set them here with --attr, or on each product)")  # fmt: skip


@categories_app.command("unmap")
def unmap(platform: str, master_category: str) -> None:
    """Remove a master category's mapping on a platform (its products can no longer be listed there)."""
    with transaction(get_engine()) as session:
        view = mappings.get_category_mapping(session, platform, master_category)
        if view is None:
            raise _fail(f"{master_category!r} is not mapped on {platform}")
        mappings.delete_category_mapping(Actor.command_line(), session, view.id)
    console.print(f"{platform}: {master_category!r} unmapped")


@categories_app.command("show")
def show(platform: Annotated[str | None, typer.Argument()] = None) -> None:
    """The category map: master category -> platform category, default attribute values, brand."""
    with transaction(get_engine()) as session:
        views = mappings.list_category_mappings(session, platform)
        table = Table("platform", "master category", "platform category", "default attributes", "brand")
        for view in views:
            attributes = {a.attribute_id: a for a in cache.platform_category_attributes(
                session, view.platform, view.remote_category_id) or []}  # fmt: skip
            defaults = "; ".join(
                f"{attributes[k].name if k in attributes else k}={v.describe(attributes.get(k))}"
                for k, v in sorted(view.defaults.items())
            )
            category = view.remote_category_id + (f" {view.remote_category_name}" if view.remote_category_name else "")
            table.add_row(view.platform, view.master_category, category, defaults, view.brand_id or "")
    if not views:
        raise _fail("no category is mapped" + (f" on {platform}" if platform else ""))
    console.print(table)
