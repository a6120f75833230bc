# The platform registry: every spec complete, names unique, labels, unknown names, a fake platform added and removed.
"""`connectors.registry` is the one list of marketplaces; these tests hold it to that."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from connectors import registry
from connectors.base import (
    Connector,
    GrantedShop,
    MarketplaceEvent,
    PlatformSpec,
    ShopCredentials,
    TokenGrant,
)


def test_the_shipped_platforms_are_registered_in_display_order() -> None:
    assert registry.names() == ("shopee", "tiktokshop", "lazada")
    assert [spec.name for spec in registry.platforms()] == ["shopee", "tiktokshop", "lazada"]


@pytest.mark.parametrize("spec", registry.platforms(), ids=lambda spec: spec.name)
def test_every_registered_spec_is_complete(spec: PlatformSpec) -> None:
    assert spec.name and spec.name == spec.name.strip().lower() and spec.name.isidentifier()
    assert spec.label and spec.label != spec.name
    assert spec.required_settings and all(name.startswith("SYNCSTORE_") for name in spec.required_settings)
    assert spec.webhook_settings.startswith("SYNCSTORE_")
    assert spec.webhook_key_names
    for function in (spec.is_configured, spec.connector, spec.app, spec.verify_webhook, spec.parse_webhook):
        assert callable(function)
    assert spec.revoked_event_types and spec.expiring_event_types
    assert not spec.revoked_event_types & spec.expiring_event_types
    assert registry.spec(spec.name) is spec
    # What the core takes from the spec instead of comparing the platform's name.
    from syncstore.settings import Settings

    settings = Settings()
    assert (spec.rules.platform, spec.rules.label) == (spec.name, spec.label)
    per_minute, per_day = spec.rate_limits(settings)
    assert 0 < per_minute <= per_day
    assert set(spec.webhook_key_names) <= set(spec.webhook_keys(settings, f"https://x/webhooks/{spec.name}"))
    assert spec.webhook_signature_header == spec.webhook_signature_header.lower()
    assert spec.run_simulator is not None


def test_names_and_labels_are_unique() -> None:
    specs = registry.platforms()
    assert len({spec.name for spec in specs}) == len(specs)
    assert len({spec.label for spec in specs}) == len(specs)


def test_label_is_what_people_read_and_an_unknown_name_is_shown_as_it_is() -> None:
    assert registry.label("shopee") == "Shopee"
    assert registry.label("tiktokshop") == "TikTok Shop"
    assert registry.label("nowhere") == "nowhere"


def test_an_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(registry.UnknownPlatform, match=r"unknown platform 'nowhere'.*shopee, tiktokshop"):
        registry.spec("nowhere")
    assert not registry.is_platform("nowhere")
    assert not registry.is_platform(None)


# --- a fake third marketplace -----------------------------------------------------------------


class _FakeApp:
    def __init__(self, settings: Any, client: Any = None) -> None:
        self.closed = False

    def authorization_url(self, callback_url: str, state: str) -> str:
        return f"https://fake.example/authorize?state={state}"

    def exchange_code(self, code: str, params: Mapping[str, str]) -> tuple[TokenGrant, list[GrantedShop]]:
        raise NotImplementedError

    def refresh(self, refresh_token: str, shop_id: str) -> TokenGrant:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True


def _no_connector(settings: Any, credentials: ShopCredentials, **options: Any) -> Connector:
    raise NotImplementedError


def _no_event(text: str) -> MarketplaceEvent:
    raise ValueError("the fake platform sends no webhooks")


FAKE = PlatformSpec(
    name="fakemart",
    label="Fake Mart",
    required_settings=("SYNCSTORE_FAKEMART_KEY",),
    is_configured=lambda settings: True,
    connector=_no_connector,
    app=_FakeApp,
    token_per_seller=False,
    cross_border_refusal=None,
    webhook_key_names=("key",),
    webhook_settings="SYNCSTORE_FAKEMART_KEY",
    verify_webhook=lambda keys, body, authorization: authorization == "ok",
    parse_webhook=_no_event,
    revoked_event_types=frozenset({"revoked"}),
    expiring_event_types=frozenset({"expiring"}),
)


@pytest.fixture
def fake_platform() -> Iterator[PlatformSpec]:
    unregister = registry.register(FAKE)
    try:
        yield FAKE
    finally:
        unregister()


def test_a_registered_platform_is_listed_looked_up_and_labelled(fake_platform: PlatformSpec) -> None:
    assert registry.names() == ("shopee", "tiktokshop", "lazada", "fakemart")
    assert registry.spec("fakemart") is fake_platform
    assert registry.label("fakemart") == "Fake Mart"
    assert registry.is_platform("fakemart")


def test_unregistering_takes_the_platform_away_again() -> None:
    unregister = registry.register(FAKE)
    unregister()
    assert registry.names() == ("shopee", "tiktokshop", "lazada")
    with pytest.raises(registry.UnknownPlatform):
        registry.spec("fakemart")
    unregister()  # a second call changes nothing
    assert registry.names() == ("shopee", "tiktokshop", "lazada")


def test_a_taken_name_cannot_be_registered_twice(fake_platform: PlatformSpec) -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register(dataclasses.replace(FAKE, label="Another"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(dataclasses.replace(registry.spec("shopee")))
    assert registry.spec("fakemart") is fake_platform and registry.label("shopee") == "Shopee"


def test_the_core_takes_a_registered_platform_from_the_registry(fake_platform: PlatformSpec) -> None:
    """Name checks in the core ask the registry: a platform registered at run time is accepted."""
    from syncstore.events.webhook_verification import WebhookKeys, verify
    from syncstore.events.webhooks import UnknownPlatform
    from syncstore.settings import Settings
    from syncstore.shops import marketplaces, oauth

    oauth._check_platform("fakemart")  # no InvalidInput
    app = marketplaces.platform_app("fakemart", Settings())
    assert app.authorization_url("https://x/cb", "s1") == "https://fake.example/authorize?state=s1"
    app.close()
    with pytest.raises(UnknownPlatform):
        verify("nowhere", b"{}", "ok", WebhookKeys.of(shopee={"callback_url": "https://x/webhooks/shopee"}))
