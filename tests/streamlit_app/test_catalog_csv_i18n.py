# CSV problems in the user's language (catalog import, bindings CSV); the CLI text stays English.
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from streamlit_app import i18n
from syncstore.catalog.importer import RowError
from syncstore.errors import msg
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with
from tests.streamlit_app.test_catalog_csv import upload
from tests.streamlit_app.test_core_errors_i18n import _language
from tests.streamlit_app.test_listings import SELLER, add_orphan
from tests.syncstore.test_importer import csv_text, product

# Line 2: an option name with no value; line 3: a price that is no number; line 4: line 2's SKU again.
BAD = csv_text(
    product("i18n-lamp", "I18N-LAMP-1", option1_name="Colour"),
    product("i18n-chair", "I18N-CHAIR-1", base_price="free"),
    product("i18n-table", "I18N-LAMP-1"),
)


@pytest.fixture
def malay(monkeypatch: pytest.MonkeyPatch) -> None:
    _language(monkeypatch, "ms")


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    _language(monkeypatch, "en")


def check_the_file(at: AppTest) -> AppTest:
    label = i18n.t("Check the file")
    return at.button[[b.label for b in at.button].index(label)].click().run()


def problems(at: AppTest) -> dict[tuple[int, str], str]:
    frame = frame_with(at, "problem")
    return {
        (int(line), column): problem
        for line, column, problem in zip(frame["line"], frame["column"], frame["problem"], strict=True)
    }


def listed(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in at.markdown).replace("\\", "")


@pytest.mark.usefixtures("malay")
def test_a_malay_user_sees_the_line_problems_of_a_bad_csv_in_malay(app_as: AppAs) -> None:
    at = check_the_file(upload(app_as("editor", "catalog_csv"), BAD))
    assert not at.exception, at.exception
    found = problems(at)
    # The column stays the CSV column's name; the problem is in Malay, its values as written.
    assert found[(2, "option1_value")] == "wajib diisi apabila option1_name diberi"
    assert found[(3, "base_price")] == "Nilai mesti nombor perpuluhan yang sah (diberi 'free')"
    assert found[(4, "sku")] == "SKU I18N-LAMP-1 sudah ada pada baris 2"
    text = listed(at)
    assert "baris 2, option1_value: wajib diisi apabila option1_name diberi" in text
    assert "required when" not in text and "already appears" not in text and "valid decimal" not in text
    # The one-line outcome too, with its counts (the core's summary() is the CLI's English).
    summary = [info.value for info in at.info]
    assert any("akan mengimport" in line and "3 ralat" in line for line in summary), summary
    assert not any("would import" in line for line in summary), summary


@pytest.mark.usefixtures("english")
def test_an_english_user_sees_the_same_problems_in_english(app_as: AppAs) -> None:
    at = check_the_file(upload(app_as("editor", "catalog_csv"), BAD))
    assert not at.exception, at.exception
    found = problems(at)
    assert found[(2, "option1_value")] == "required when option1_name is given"
    assert found[(3, "base_price")] == "Input should be a valid decimal (got 'free')"
    assert found[(4, "sku")] == "SKU I18N-LAMP-1 already appears on line 2"
    assert "line 2, option1_value: required when option1_name is given" in listed(at)
    summary = [info.value for info in at.info]
    assert any("would import" in line and "3 errors" in line for line in summary), summary


def test_a_row_error_keeps_its_english_text_for_the_cli_and_its_template_for_the_app() -> None:
    error = RowError(2, "option1_value", msg("required when {column} is given", column="option1_name"))
    assert str(error) == "line 2, option1_value: required when option1_name is given"
    assert error.message == "required when option1_name is given"
    assert error.problem.template == "required when {column} is given"
    assert error.to_dict() == {"line": 2, "field": "option1_value", "message": "required when option1_name is given"}
    assert error == RowError(2, "option1_value", "required when option1_name is given")
    assert str(RowError(0, "file", "has a header but no product rows")) == "file: has a header but no product rows"


def test_the_check_finds_a_row_error_built_at_run_time_and_untranslated_row_templates(tmp_path: Path) -> None:
    core = tmp_path / "rows.py"
    core.write_text(
        "from syncstore.catalog.importer import RowError\n"
        "from syncstore.errors import msg\n"
        "def f(line: int, name: str) -> list[RowError]:\n"
        "    return [\n"
        "        RowError(line, 'sku', f'SKU {name} is odd'),\n"
        "        RowError(line, 'sku', 'a row problem nobody translated'),\n"
        "        RowError(line, 'sku', msg('required when {column} is given', column=name)),\n"
        "    ]\n"
    )
    found = [problem.text for problem in i18n.check([core], core=[core])]
    assert "an error message needs a literal template (placeholders, no f-string)" in found
    assert "no ms translation of 'a row problem nobody translated'" in found
    assert len(found) == 2  # the msg() template is translated in the rowmsg fragment


@pytest.mark.usefixtures("malay")
def test_a_malay_user_sees_why_each_bindings_csv_line_would_bind_or_is_refused_in_malay(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    _, variant = add_orphan(seeded_db)
    at = app_as("editor", "listings")
    at.text_area(key="listings_csv_text").input(f"seller_sku,master_sku,shop\n{SELLER},{variant.sku},\nNOPE,X,\n").run()
    at.button(key="listings_csv_preview_button").click().run()
    assert not at.exception, at.exception
    table = next(e.value for e in at.dataframe if i18n.t("Would push") in e.value.columns)
    why = list(table[i18n.t("Why")])
    assert why == [f"diikat kepada {variant.sku}", "tiada SKU induk X"]
