# What creating a listing in one shop needs beyond the catalog, and the dry-run issue for each thing missing.
"""Create requirements per shop and product (read by `syncstore.plan.inputs.create_extras`).

For each product the plan would create (or add a variant to) in a shop: the brand and the category
attribute values to send (the mapping's defaults merged with the product's own values), the shop's
logistics channels and stock location, and an issue for everything still missing, each saying what
to do: every mandatory attribute without a value (by name), a value the category does not allow, no
logistics channel where the platform needs one, no warehouse chosen in a shop with several.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from syncstore.plan import validation as sync_validation
from syncstore.plan.changes import ChosenAttribute
from syncstore.publishing import cache, logistics, mappings
from syncstore.publishing.attributes import AttributeValue, AttributeValues, merged, product_values

Issue = tuple[str, str]


@dataclass(frozen=True)
class CreateRequirements:
    brand_id: str | None
    brand_name: str | None  # as the shop's cached brand list names it (Shopee sends it beside the id)
    attributes: tuple[ChosenAttribute, ...]
    logistics_channel_ids: tuple[str, ...]
    location_id: str | None
    issues: tuple[Issue, ...]  # attributes, brand and logistics issues (the listing's own are the plan's)
    location_issues: tuple[Issue, ...]  # what an added variant needs too


def shop_issues(shop: logistics.ShopLogistics) -> tuple[list[Issue], list[Issue]]:
    """(logistics channel issues, warehouse issues) of creating a listing in this shop."""
    channel: list[Issue] = []
    location: list[Issue] = []
    where = f"shop {shop.shop_name or shop.connection_id}"
    if shop.needs_channel and not shop.channel_ids:
        if shop.fetched_at is None:
            channel.append(("logistics", f"no logistics channel chosen for {where}: refresh its channels and enable "
                                         "at least one on the Connections page"))  # fmt: skip
        else:
            channel.append(("logistics", f"no logistics channel chosen for {where}: enable at least one on the "
                                         "Connections page"))  # fmt: skip
    if shop.needs_location_choice:
        location.append(("location", f"{where} has {len(shop.locations)} warehouses and none is chosen to receive "
                                     "stock: choose one on the Connections page"))  # fmt: skip
    return channel, location


def _attribute_issues(
    platform: str,
    remote_category: str,
    master_category: str,
    attributes: Sequence[cache.AttributeView] | None,
    values: Mapping[str, AttributeValue],
    tree_cached: bool,
) -> list[Issue]:
    label = sync_validation.rules_for(platform).display_name
    if attributes is None:
        if not tree_cached:
            return []
        return [("attributes", f"the attributes of {label} category {remote_category} are not fetched yet: open "
                               f"{master_category!r} on the Categories page (or run `syncstore categories attributes "
                               f"{platform} {remote_category}`)")]  # fmt: skip
    issues: list[Issue] = []
    known = {attribute.attribute_id: attribute for attribute in attributes}
    for attribute in attributes:
        if attribute.mandatory and attribute.attribute_id not in values:
            issues.append((f"attributes.{attribute.attribute_id}",
                           f"{attribute.name!r} is mandatory in {label} category {remote_category}: set a default "
                           f"for {master_category!r} on the Categories page, or a value on the product"))  # fmt: skip
    for attribute_id, value in values.items():
        found = known.get(attribute_id)
        if found is None:
            issues.append((f"attributes.{attribute_id}", f"{label} category {remote_category} has no attribute "
                                                         f"{attribute_id!r} any more: remove the value"))  # fmt: skip
            continue
        allowed = {value_id for value_id, _ in found.values}
        if any(v not in allowed for v in value.value_ids) or (value.text and found.values and not found.custom_allowed):
            issues.append((f"attributes.{attribute_id}",
                           f"{value.describe(found)!r} is not an allowed value of {found.name!r} any more: "
                           "choose another on the Categories page or the product"))  # fmt: skip
    return issues


def _chosen(values: AttributeValues) -> tuple[ChosenAttribute, ...]:
    return tuple(
        ChosenAttribute(attribute_id, value.value_ids, value.text or None)
        for attribute_id, value in sorted(values.items())
    )


def create_requirements(
    session: Session,
    connection_id: int,
    platform: str,
    product_categories: Mapping[int, str | None],
    categories: Mapping[tuple[str, str], str],
) -> dict[int, CreateRequirements]:
    """Per product (id -> master category): what its listing in this shop is created with, and what is missing."""
    shop = logistics.shop_logistics(session, connection_id)
    channel_issues, location_issues = shop_issues(shop)
    defaults = mappings.mapping_defaults(session)
    own = product_values(session, list(product_categories), platform)
    tree_cached = bool(cache.list_remote_categories(session, platform=platform, limit=1))
    attribute_cache: dict[str, list[cache.AttributeView] | None] = {}
    found: dict[int, CreateRequirements] = {}
    for product_id, category in product_categories.items():
        master = category or ""
        remote = categories.get((platform, master))
        issues: list[Issue] = [*channel_issues, *location_issues]
        values: AttributeValues = {}
        brand: str | None = None
        if remote is not None:
            mapping_defaults, brand = defaults.get((platform, master), ({}, None))
            values = merged(mapping_defaults, own.get(product_id, {}))
            if remote not in attribute_cache:
                attribute_cache[remote] = cache.platform_category_attributes(session, platform, remote)
            if tree_cached and cache.category_name(session, platform, remote) is None:
                label = sync_validation.rules_for(platform).display_name
                issues.append(("category", f"{label} category {remote} no longer exists: map {master!r} again on "
                                           "the Categories page"))  # fmt: skip
            else:
                issues += _attribute_issues(platform, remote, master, attribute_cache[remote], values, tree_cached)
        brand_name = None
        if brand is not None and remote is not None:
            brands = {b.brand_id: b.name for b in cache.category_brands(session, connection_id, remote)}
            brand_name = brands.get(brand)
        found[product_id] = CreateRequirements(
            brand, brand_name, _chosen(values), shop.channel_ids if shop.needs_channel else (), shop.location_id,
            tuple(issues), tuple(location_issues),
        )  # fmt: skip
    return found
