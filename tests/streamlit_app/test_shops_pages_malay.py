# Connections, Conflicts and Admin read in Bahasa Malaysia: titles, buttons and badges from the catalogue.
from __future__ import annotations

import pytest

from streamlit_app import i18n
from tests.streamlit_app.conftest import AppAs


@pytest.fixture
def malay(monkeypatch: pytest.MonkeyPatch) -> None:
    # The user's language (AppTest also formats options outside the page's run, so it is set for both).
    monkeypatch.setattr(i18n, "_session_value", lambda key: "ms" if key == i18n.LANGUAGE_KEY else None)


@pytest.mark.usefixtures("malay")
def test_connections_in_malay(sqlite_app_as: AppAs) -> None:
    at = sqlite_app_as("admin", "connections")
    assert not at.exception
    labels = {b.label for b in at.button}
    assert {"Perbaharui token", "Putuskan sambungan"} <= labels
    text = " ".join(m.value for m in at.markdown)
    assert "Token akses tamat tempoh" in text and "(dalam 4 jam)" in text
    assert "Access token expires" not in text


@pytest.mark.usefixtures("malay")
def test_admin_in_malay(sqlite_app_as: AppAs) -> None:
    at = sqlite_app_as("admin", "admin")
    assert not at.exception
    assert [tab.label for tab in at.tabs] == ["Pengguna dan peranan", "Log audit", "Amaran"]
    assert "Tambah pengguna" in {b.label for b in at.button}


@pytest.mark.usefixtures("malay")
def test_conflicts_in_malay_with_nothing_pending(sqlite_app_as: AppAs) -> None:
    at = sqlite_app_as("viewer", "conflicts")
    assert not at.exception
    assert at.metric[0].label == "Konflik belum selesai"
    assert any("Tiada konflik" in s.value for s in at.success)
