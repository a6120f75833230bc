# Errors raised by the core reach the user in their language: templates in the catalogue, translated on the page.
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from streamlit_app import i18n
from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied, SyncStoreError, VersionConflict, msg
from tests.streamlit_app.conftest import AppAs

LISTED = 1  # the conftest binds products 1-5 to both shops


def _language(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    # The user's language (AppTest also formats options outside the page's run, so it is set for both).
    monkeypatch.setattr(i18n, "_session_value", lambda key: language if key == i18n.LANGUAGE_KEY else None)


@pytest.fixture
def malay(monkeypatch: pytest.MonkeyPatch) -> None:
    _language(monkeypatch, "ms")


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    _language(monkeypatch, "en")


def errors(at: AppTest) -> str:
    return " ".join(str(e.value) for e in at.error).replace("\\", "")


def price_field(at: AppTest):  # type: ignore[no-untyped-def]
    return next(w for w in at.text_input if w.key == f"base_price-{LISTED}-1")


def save(at: AppTest) -> None:
    at.button[[b.label for b in at.button].index(i18n.t("Save"))].click().run()


def test_every_core_error_template_has_a_malay_translation() -> None:
    problems = i18n.check(i18n.core_files())
    assert not problems, "\n".join(str(problem) for problem in problems[:40]) + f"\n({len(problems)} in all)"


def test_the_check_finds_untranslated_core_templates_and_messages_built_at_run_time(tmp_path: Path) -> None:
    core = tmp_path / "commands.py"
    core.write_text(
        "from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied, msg\n"
        "def f(x: int) -> None:\n"
        "    if x == 1:\n"
        "        raise NotFoundError('widget {widget_id} went missing in a way nobody translated', widget_id=x)\n"
        "    if x == 2:\n"
        "        raise NotFoundError(f'widget {x} not found')\n"
        "    if x == 3:\n"
        "        raise InvalidInput({'size': msg('a size nobody translated: {size}', size=x)})\n"
        "    raise PermissionDenied('sign in first')\n"
    )
    found = [problem.text for problem in i18n.check([core], core=[core])]
    assert "no ms translation of 'widget {widget_id} went missing in a way nobody translated'" in found
    assert "no ms translation of 'a size nobody translated: {size}'" in found
    assert "an error message needs a literal template (placeholders, no f-string)" in found
    assert not any("sign in first" in text for text in found)  # translated in the fragment
    assert len(found) == 3


@pytest.mark.usefixtures("malay")
def test_core_errors_are_translated_with_their_parameters() -> None:
    assert i18n.translate(NotFoundError("product {product_id} not found", product_id=5)) == "produk 5 tidak dijumpai"
    assert i18n.translate(PermissionDenied("sign in first")) == "log masuk dahulu"
    # A vocabulary parameter (the entity) is translated too; ids are not.
    assert i18n.translate(VersionConflict("product", 7, 1, 2)).startswith("produk 7 telah diubah oleh orang lain")
    refused = InvalidInput({"limit": msg("must be between 1 and {limit}", limit=50), "name": "cannot be empty"})
    assert i18n.translate(refused) == (
        "input tidak sah (2 medan): limit: mestilah antara 1 dan 50; name: tidak boleh kosong"
    )
    # No translation: the English text, never a crash.
    assert i18n.translate(SyncStoreError("a message nobody translated {x}", x=1)) == "a message nobody translated 1"
    assert i18n.translate(RuntimeError("plain")) == "plain"


@pytest.mark.usefixtures("malay")
def test_a_malay_user_sees_a_bad_price_refused_in_malay(app_as: AppAs) -> None:
    at = app_as("editor", "product_editor", query_params={"product": str(LISTED)})
    price_field(at).input("-5")
    save(at)
    assert not at.exception
    said = errors(at)
    assert "Nilai mesti lebih besar daripada 0" in said
    assert "greater than" not in said


@pytest.mark.usefixtures("english")
def test_an_english_user_sees_a_bad_price_refused_in_english(app_as: AppAs) -> None:
    at = app_as("editor", "product_editor", query_params={"product": str(LISTED)})
    price_field(at).input("-5")
    save(at)
    assert not at.exception
    said = errors(at)
    assert "Input should be greater than 0" in said
    assert "lebih besar" not in said


@pytest.mark.usefixtures("malay")
def test_a_malay_user_sees_a_missing_product_in_malay(app_as: AppAs) -> None:
    at = app_as("editor", "product_editor", query_params={"product": "999999"})
    assert not at.exception
    said = errors(at)
    assert "produk 999999 tidak dijumpai" in said
    assert "not found" not in said


@pytest.mark.usefixtures("english")
def test_an_english_user_sees_a_missing_product_in_english(app_as: AppAs) -> None:
    at = app_as("editor", "product_editor", query_params={"product": "999999"})
    assert not at.exception
    assert "product 999999 not found" in errors(at)


@pytest.mark.usefixtures("malay")
def test_a_refused_permission_names_the_role_in_malay(app_as: AppAs, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit_app import ui

    # The page is tricked into showing the edit controls; syncstore refuses, and says so in Malay.
    monkeypatch.setattr(ui, "can", lambda permission: True)
    at = app_as("viewer", "product_editor", query_params={"product": str(LISTED)})
    next(w for w in at.text_input if w.key == f"title-{LISTED}-1").input("Hacked title")
    save(at)
    assert not at.exception
    assert "pemerhati tidak dibenarkan catalog.write" in errors(at)
