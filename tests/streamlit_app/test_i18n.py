# The message catalogue and the user's language and time zone: complete in Bahasa Malaysia, chosen per user.
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from streamlit_app import i18n
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog
from syncstore.errors import InvalidInput
from syncstore.security import preferences
from syncstore.security.auth import Role
from tests.streamlit_app.conftest import AppAs, SeededDatabase


def test_every_string_of_the_app_goes_through_the_catalogue_and_has_a_malay_translation() -> None:
    problems = i18n.check(i18n.app_files())
    assert not problems, "\n".join(str(problem) for problem in problems[:40]) + f"\n({len(problems)} in all)"


def test_the_check_finds_bare_text_runtime_message_ids_and_missing_translations(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "import streamlit as st\n"
        "from streamlit_app.i18n import t, tn\n"
        "st.button('Save changes')\n"
        "st.caption(f'{count} products')\n"
        "st.markdown(f'**{name}**')\n"
        "st.title(t(f'Hello {name}'))\n"
        "st.header(t('A message nobody translated'))\n"
        "st.write(tn('{n} day ago', '{n} days ago', 3))\n"
        "st.form('edit-form')\n"
    )
    found = [problem.text for problem in i18n.check([page])]
    assert "st.button() is given text not passed through t()" in found
    assert "st.caption() is given text not passed through t()" in found
    assert "t() needs literal text (placeholders, no f-string)" in found
    assert "no ms translation of 'A message nobody translated'" in found
    assert not any("markdown" in text or "form" in text for text in found)  # no words, or a key
    assert not any("days ago" in text for text in found)  # translated in the catalogue


def test_messages_follow_the_chosen_language_with_plurals_and_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_session_value", lambda key: "ms" if key == i18n.LANGUAGE_KEY else None)
    assert i18n.t("Products") == "Produk"
    assert i18n.t("Now: {time}", time="10:00") == "Sekarang: 10:00"
    assert i18n.tn("{n} minute ago", "{n} minutes ago", 3) == "3 minit lalu"
    assert i18n.t("A sentence with no translation") == "A sentence with no translation"
    monkeypatch.setattr(i18n, "_session_value", lambda key: "en" if key == i18n.LANGUAGE_KEY else None)
    assert i18n.tn("{n} minute ago", "{n} minutes ago", 1) == "1 minute ago"
    assert i18n.tn("{n} minute ago", "{n} minutes ago", 2) == "2 minutes ago"


def test_times_are_shown_in_the_users_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit_app import ui

    zone = {i18n.TIME_ZONE_KEY: "Asia/Kuala_Lumpur"}
    monkeypatch.setattr(i18n, "_session_value", zone.get)
    assert ui.local_time(datetime(2026, 12, 7, 22, 30, tzinfo=UTC)) == "2026-12-08 06:30 +08"
    zone[i18n.TIME_ZONE_KEY] = "Not/AZone"
    monkeypatch.setattr(i18n, "_browser", lambda attribute: None)
    assert ui.local_time(datetime(2026, 12, 7, 22, 30, tzinfo=UTC)) == "2026-12-07 22:30 UTC"


def test_preferences_are_checked_and_audited(seeded_db: SeededDatabase) -> None:
    editor = seeded_db.actors[Role.EDITOR]
    engine = seeded_db.engine()
    try:
        with pytest.raises(InvalidInput) as refused, transaction(engine) as session:
            preferences.change(session, editor, "xx", "Mars/Olympus")
        assert set(refused.value.errors) == {"language", "time_zone"}
        with transaction(engine) as session:
            preferences.change(session, editor, "ms", "Asia/Kuala_Lumpur")
        with transaction(engine) as session:
            assert preferences.get(session, editor.user_id or 0) == preferences.Preferences("ms", "Asia/Kuala_Lumpur")
            audited = session.scalars(sa.select(AuditLog).where(AuditLog.action == "user.preferences")).all()
            assert [row.after for row in audited] == [{"language": "ms", "time_zone": "Asia/Kuala_Lumpur"}]
    finally:
        engine.dispose()


def test_a_user_who_chooses_bahasa_malaysia_sees_the_app_in_it_at_once_and_after_signing_in_again(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    at = sqlite_app_as("viewer", "preferences")
    assert not at.exception
    at.selectbox[0].set_value("ms")
    at.selectbox[1].set_value("Asia/Kuala_Lumpur")
    at.button[0].click().run()  # the form's Save (the sidebar's button comes after the page's)
    assert not at.exception
    assert at.title[0].value == "Bahasa dan zon waktu"
    assert "+08" in " ".join(caption.value for caption in at.caption)

    again = sqlite_app_as("viewer", "preferences")  # a new tab: the preference comes from the users table
    assert not again.exception
    assert again.title[0].value == "Bahasa dan zon waktu"
    other = sqlite_app_as("editor", "preferences")  # another user keeps the browser's language
    assert other.title[0].value == "Language and time zone"
