# The Categories page: per platform, map each master category to a platform category with attribute defaults and brand.
"""Categories.

Per platform (labels from the registry): every master category with its products, the platform
category it maps to, and what still blocks its products (no mapping, attributes not fetched, a
mandatory attribute without a default that a product does not set itself). Choosing a category
opens its mapping: the platform category searched by name in the cached tree
(`syncstore.publishing.cache`), default values of its attributes (mandatory first, allowed values
as choices) and a brand; saved through `syncstore.publishing.mappings.set_category_mapping`, which
checks every value. "Refresh from shop" fetches the platform's tree again (daily on its own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import streamlit as st

from streamlit_app import shop_calls, ui
from streamlit_app.attribute_inputs import attribute_inputs, show_field_errors
from streamlit_app.i18n import t, tn
from streamlit_app.shop_names import shop_title
from syncstore.catalog import reads as catalog_reads
from syncstore.errors import InvalidInput, SyncStoreError
from syncstore.publishing import cache, mappings
from syncstore.publishing.attributes import AttributeValue
from syncstore.publishing.mappings import CategoryMappingView
from syncstore.security.auth import Permission
from syncstore.shops import connections

ERRORS_KEY = "categories_errors"
NO_BRAND = ""


@dataclass(frozen=True)
class CategoryState:
    """One master category on one platform: its mapping and which of its products cannot be listed."""

    category: str
    products: int
    mapping: CategoryMappingView | None
    missing: tuple[str, ...]  # mandatory attributes without a default (names)
    blocked: catalog_reads.BlockedProducts  # products that do not set all of `missing` themselves / not mapped
    attributes_known: bool

    @property
    def status(self) -> str:
        """The state in words, in the user's language."""
        if self.mapping is None:
            return t("not mapped")
        if not self.attributes_known:
            return t("attributes not fetched")
        if self.missing:
            return tn("{n} mandatory without default", "{n} mandatory without default", len(self.missing))
        return t("ready")

    @property
    def colour(self) -> str:
        """The colour of the state's badge: green ready, orange something to do, gray not mapped."""
        if self.mapping is None:
            return "gray"
        return "green" if self.attributes_known and not self.missing else "orange"


def _shops(platform: str) -> list[tuple[int, str]]:
    with ui.session() as session:
        return [(c.id, c.shop_name.strip() or shop_title(c.platform, "", c.shop_id))
                for c in connections.list_connections(session)
                if c.platform == platform]  # fmt: skip


def category_states(platform: str) -> list[CategoryState]:
    """Every master category's state on `platform` (read fresh: it changes with every mapping saved)."""
    with ui.session() as session:
        counts = catalog_reads.product_count_by_category(session)
        mapped = {m.master_category: m for m in mappings.list_category_mappings(session, platform)}
        states: list[CategoryState] = []
        for category, count in sorted(counts.items()):
            mapping = mapped.get(category)
            if mapping is None:
                every = catalog_reads.products_without_values(session, category, platform, ())
                states.append(CategoryState(category, count, None, (), every, False))
                continue
            attributes = cache.platform_category_attributes(session, platform, mapping.remote_category_id)
            mandatory = [a for a in attributes or [] if a.mandatory and a.attribute_id not in mapping.defaults]
            blocked = (
                catalog_reads.products_without_values(session, category, platform, [a.attribute_id for a in mandatory])
                if mandatory else catalog_reads.BlockedProducts(0, ())
            )  # fmt: skip
            states.append(CategoryState(category, count, mapping, tuple(a.name for a in mandatory),
                                        blocked, attributes is not None))  # fmt: skip
    return states


def refresh_from_shop(platform: str) -> None:
    """Fetch the category tree of every shop of the platform again."""
    actor = ui.current_actor()
    shops = _shops(platform)
    if not shops:
        st.warning(
            t("No {platform} shop is connected: connect one on the Connections page.",
              platform=ui.platform_label(platform))
        )  # fmt: skip
        return
    with st.status(t("Fetching the {platform} category tree…", platform=ui.platform_label(platform))) as status:
        for connection_id, name in shops:
            try:
                with shop_calls.connector(connection_id) as connector:
                    report = cache.refresh_categories(actor, ui.engine(), connection_id, connector)
                st.write(ui.plain(tn("{shop}: {n} category", "{shop}: {n} categories", report.categories, shop=name)))
            except SyncStoreError as error:
                ui.show_error(error)
                status.update(state="error")
                return
            except Exception as error:  # a platform or network error: named, never its payload
                st.error(ui.plain(t("{shop}: the category tree could not be fetched ({kind}).", shop=name,
                                    kind=type(error).__name__)))  # fmt: skip
                status.update(state="error")
                return
        status.update(label=t("Category tree refreshed."), state="complete")
    ui.after_write()


def overview(states: Sequence[CategoryState]) -> None:
    st.dataframe(
        {
            "category": [s.category for s in states],
            "products": [s.products for s in states],
            "platform category": [
                "" if s.mapping is None
                else f"{s.mapping.remote_category_name or ''} ({s.mapping.remote_category_id})".strip()
                for s in states
            ],
            "status": [s.status for s in states],
            "blocked products": [s.blocked.count for s in states],
        },
        hide_index=True, width="stretch",
        column_config={
            "category": st.column_config.TextColumn(t("Category")),
            "products": st.column_config.NumberColumn(t("Products")),
            "platform category": st.column_config.TextColumn(t("Platform category")),
            "status": st.column_config.TextColumn(t("Status")),
            "blocked products": st.column_config.NumberColumn(t("Blocked products")),
        },
    )  # fmt: skip
    blocked = [s for s in states if s.blocked.count]
    if blocked:
        total = sum(s.blocked.count for s in blocked)
        with st.expander(tn("{n} product cannot be listed yet", "{n} products cannot be listed yet", total),
                         icon=":material/block:"):  # fmt: skip
            for state in blocked:
                reason = (t("category not mapped") if state.mapping is None
                          else t("no value for {attributes}", attributes=", ".join(state.missing)))  # fmt: skip
                titles = ", ".join(f"#{pid} {title}" for pid, title in state.blocked.first)
                hidden = state.blocked.count - len(state.blocked.first)
                more = " " + t("and {n} more", n=hidden) if hidden > 0 else ""
                st.markdown(f"- **{ui.plain(state.category)}** ({ui.plain(reason)}): {ui.plain(titles + more)}")


def _ensure_attributes(platform: str, remote_id: str) -> list[cache.AttributeView] | None:
    """The platform category's attributes, fetched from the first shop when not cached yet."""
    with ui.session() as session:
        known = cache.platform_category_attributes(session, platform, remote_id)
    if known is not None:
        return known
    shops = _shops(platform)
    if not shops:
        return None
    try:
        with shop_calls.connector(shops[0][0]) as connector:
            return cache.ensure_category_details(ui.engine(), shops[0][0], connector, remote_id)
    except SyncStoreError as error:
        ui.show_error(error)
    except Exception as error:
        st.error(t("The attributes could not be fetched ({kind}); try again.", kind=type(error).__name__))
    return None


def _brands(platform: str, remote_id: str) -> dict[str, str]:
    shops = _shops(platform)
    if not shops:
        return {}
    with ui.session() as session:
        return {b.brand_id: b.name for b in cache.category_brands(session, shops[0][0], remote_id)}


@ui.cached_read()
def _paths(url: str, platform: str) -> dict[str, str]:
    """Every cached category of the platform as its path ("Fashion > Watches"), by id."""
    with ui.session() as session:
        tree = cache.list_remote_categories(session, platform=platform, limit=100_000)
    by_id = {c.category_id: c for c in tree}
    paths: dict[str, str] = {}
    for category in tree:
        names, node, seen = [category.name], category, {category.category_id}
        while node.parent_id and node.parent_id in by_id and node.parent_id not in seen:
            node = by_id[node.parent_id]
            seen.add(node.category_id)
            names.append(node.name)
        paths[category.category_id] = " > ".join(reversed(names))
    return paths


def choose_remote(platform: str, state: CategoryState) -> str | None:
    """The platform category chosen: searched by name in the cached tree (leaves only)."""
    current = state.mapping.remote_category_id if state.mapping else None
    search = st.text_input(t("Search the platform's categories"), key=f"cat_search_{platform}_{state.category}",
                           placeholder=t("e.g. mug, shirt"))  # fmt: skip
    with ui.session() as session:
        found = cache.list_remote_categories(session, platform=platform, search=search, leaves_only=True, limit=100)
        current_name = cache.category_name(session, platform, current) if current else None
    paths = _paths(ui.database_url(), platform)
    options = {c.category_id: paths.get(c.category_id, c.name) for c in found}
    if current and current not in options:
        options = {current: current_name or current, **options}
    if not options:
        st.info(t("No platform category matches (or the tree is not fetched yet: use Refresh from shop)."))
        return None
    ids = list(options)
    return st.selectbox(t("Platform category"), ids, index=ids.index(current) if current in ids else 0,
                        format_func=lambda cid: f"{options[cid]} ({cid})",
                        key=f"cat_remote_{platform}_{state.category}")  # fmt: skip


def mapping_editor(platform: str, state: CategoryState, can_write: bool) -> None:
    st.subheader(ui.plain(state.category))
    products = tn("{n} product", "{n} products", state.products)
    st.markdown(
        f"{ui.badge(state.status, state.colour)} {ui.plain(products)} · {ui.plain(ui.platform_label(platform))}"
    )
    if not can_write:
        ui.read_only_note(Permission.CATALOG_WRITE)
        return
    remote = choose_remote(platform, state)
    if remote is None:
        return
    attributes = _ensure_attributes(platform, remote) or []
    same = state.mapping is not None and state.mapping.remote_category_id == remote
    current: Mapping[str, AttributeValue] = state.mapping.defaults if same and state.mapping else {}
    key = f"cat_{platform}_{state.category}_{remote}"
    defaults: dict[str, AttributeValue | None] = {}
    if attributes:
        st.markdown(
            "**" + t("Default attribute values") + "** "
            + ui.plain(t("(mandatory ones marked *; a product may set its own)"))
        )  # fmt: skip
        defaults = attribute_inputs(attributes, current, key=key)
    else:
        st.caption(t("This platform category has no attributes (or they could not be fetched)."))
    brands = _brands(platform, remote)
    brand_labels = {NO_BRAND: t("No brand"), **brands}
    brand_ids = list(brand_labels)
    current_brand = (state.mapping.brand_id if same and state.mapping else None) or NO_BRAND
    brand = st.selectbox(t("Brand"), brand_ids,
                         index=brand_ids.index(current_brand) if current_brand in brand_ids else 0,
                         format_func=brand_labels.__getitem__, key=f"{key}_brand")  # fmt: skip
    errors = st.session_state.get(ERRORS_KEY) or {}
    if errors.get("key") == key:
        show_field_errors(errors["errors"], attributes)
    save_col, delete_col, _ = st.columns([2, 2, 6])
    if save_col.button(t("Save mapping"), type="primary", key=f"{key}_save"):
        chosen = {attribute_id: value for attribute_id, value in defaults.items() if value is not None}
        save(platform, state.category, remote, chosen, brand or None, key)
    if state.mapping is not None and delete_col.button(t("Remove mapping"), key=f"{key}_delete"):
        mapping_id = state.mapping.id
        ui.write(lambda actor, session: mappings.delete_category_mapping(actor, session, mapping_id),
                 t("Mapping removed."))  # fmt: skip


def save(platform: str, category: str, remote: str, defaults: dict[str, AttributeValue], brand: str | None,
         key: str) -> None:  # fmt: skip
    actor = ui.current_actor()
    try:
        with ui.session() as session:
            mappings.set_category_mapping(actor, session, platform, category, remote, defaults=defaults,
                                          brand_id=brand)  # fmt: skip
    except InvalidInput as error:
        st.session_state[ERRORS_KEY] = {"key": key, "errors": ui.field_errors(error)}
        st.rerun()
    except Exception as error:
        ui.show_error(error)
        return
    st.session_state.pop(ERRORS_KEY, None)
    ui.after_write(t("{category} mapped.", category=category))
    st.rerun()


def main() -> None:
    ui.current_actor()
    st.title(t("Categories"))
    st.caption(t("A product can be listed on a platform once its category is mapped and every mandatory attribute "
                 "has a value (a default here, or the product's own in the Product editor)."))  # fmt: skip
    platforms = list(ui.platform_names())
    platform_col, refresh_col = st.columns([3, 1])
    platform = platform_col.segmented_control(t("Platform"), platforms, default=platforms[0],
                                              format_func=ui.platform_label, key="categories_platform")  # fmt: skip
    platform = platform or platforms[0]
    can_write = ui.can(Permission.CATALOG_WRITE)
    if can_write and refresh_col.button(t("Refresh from shop"), icon=":material/refresh:", key="categories_refresh"):
        refresh_from_shop(platform)
    try:
        states = category_states(platform)
    except Exception as error:
        ui.show_error(error)
        return
    if not states:
        st.info(t("The catalog has no product yet."))
        return
    overview(states)
    names = [s.category for s in states]
    chosen = st.selectbox(t("Map a category"), names, index=None, placeholder=t("Choose a master category"),
                          key=f"categories_pick_{platform}")  # fmt: skip
    if chosen is not None:
        mapping_editor(platform, states[names.index(chosen)], can_write)


main()
