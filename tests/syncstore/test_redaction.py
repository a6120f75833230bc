# One redaction policy: the sync logs and the webhook log hide the same keys and keep the same harmless ones.
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncstore.events import webhook_log
from syncstore.redaction import HARMLESS_KEYS, REDACTED, is_secret_key, redact_text
from syncstore.sync import logs as sync_logs

# The two policies this one replaced, kept here as the definition of "secret": the union of both.
OLD_SYNC_LOGS = re.compile(r"token|secret|sign|passw|authori[sz]ation|partner_key|app_key|api_key|cookie", re.I)
OLD_WEBHOOK_LOG = re.compile(
    r"(token|secret|passw|signature|authori[sz]ation|cookie|credential|(^|[_-])(api[_-]?)?key$|(^|[_-])sign$)", re.I
)
OLD_HARMLESS = {"idempotency_key", "seller_sku", "design_sign"}

# Keys both old policies hid, and keys only one of them did (the disagreement this fixes).
SECRET_KEYS = [
    "access_token", "refresh_token", "app_secret", "password", "Authorization", "Cookie", "x-signature",  # both
    "partner_key", "app_key", "api_key", "sign",  # both
    "sign_method", "signed_at", "timestamp_sign_v2", "partner_key_id", "authorisation_hint",  # only the sync logs'
    "credential", "client_credentials", "x-api-key", "apikey", "key", "shop-key", "private_key",  # only the webhook's
]  # fmt: skip
HARMLESS = [
    "price", "title", "sku_id", "stock", "item_id", "shop_id", "keyword", "monkey", "content-type", "user-agent",
    *sorted(OLD_HARMLESS),
]  # fmt: skip


def old_verdicts(key: str) -> tuple[bool, bool]:
    return (
        bool(OLD_SYNC_LOGS.search(key)) and key not in OLD_HARMLESS,
        bool(OLD_WEBHOOK_LOG.search(key)) and key not in OLD_HARMLESS,
    )


def test_the_key_lists_come_from_the_old_policies() -> None:
    assert all(any(old_verdicts(key)) for key in SECRET_KEYS)
    assert {old_verdicts(key) for key in SECRET_KEYS} == {(True, True), (True, False), (False, True)}
    assert not any(any(old_verdicts(key)) for key in HARMLESS)
    assert set(HARMLESS_KEYS) == OLD_HARMLESS


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_both_paths_hide_every_secret_key(key: str) -> None:
    document = {key: "s3cr3t-value", "nested": [{key: "s3cr3t-value", "price": "1.00"}]}
    expected = {key: REDACTED, "nested": [{key: REDACTED, "price": "1.00"}]}
    assert sync_logs.redact(document) == expected
    assert webhook_log.redact(document) == expected
    assert webhook_log.redact_headers({key: "s3cr3t-value"}) == {key: REDACTED}


@pytest.mark.parametrize("key", HARMLESS)
def test_both_paths_keep_every_harmless_key(key: str) -> None:
    document = {key: "plain", "nested": [{key: 7}]}
    assert sync_logs.redact(document) == document
    assert webhook_log.redact(document) == document
    assert webhook_log.redact_headers({key: "plain"}) == {key: "plain"}


FRAGMENTS = st.sampled_from(
    ["api", "key", "_", "-", "sign", "ature", "token", "x", "de", "cred", "ential", "passw", "auth", "orization",
     "cookie", "partner", "app", "secret", "id", "seller", "sku", "idempotency", "design", "KEY", "Sign"]
)  # fmt: skip


@given(parts=st.lists(FRAGMENTS, min_size=1, max_size=4))
def test_a_key_is_secret_exactly_when_either_old_policy_hid_it(parts: list[str]) -> None:
    key = "".join(parts)
    assert is_secret_key(key) == any(old_verdicts(key))


def test_free_text_loses_bearer_values() -> None:
    text = "GET /x?access_token=abc123&sign=ff00 failed; Authorization: Bearer 0123456789abcdef0123"
    redacted = redact_text(text)
    assert "abc123" not in redacted and "ff00" not in redacted and "0123456789abcdef0123" not in redacted
    assert sync_logs.redact_message(text) == redacted
