# The Language and time zone page: each user chooses the app's language and the time zone times are shown in.
"""A user's own preferences. "Browser" (the default) follows the browser's language and time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from streamlit_app import i18n, ui
from streamlit_app.i18n import t
from syncstore.security import preferences

BROWSER = ""  # the option meaning "follow the browser"


def _language_label(code: str) -> str:
    if code == BROWSER:
        return t("Browser's language ({language})", language=preferences.LANGUAGES[i18n.language_of(_browser_locale())])
    return preferences.LANGUAGES[code]


def _browser_locale() -> str | None:
    try:
        locale = st.context.locale
    except Exception:  # no browser connection
        return None
    return locale if isinstance(locale, str) else None


def _browser_time_zone() -> str:
    try:
        zone = st.context.timezone
    except Exception:  # no browser connection
        zone = None
    return zone if isinstance(zone, str) and i18n.valid_time_zone(zone) else i18n.DEFAULT_TIME_ZONE


def page() -> None:
    actor = ui.current_actor()
    st.title(t("Language and time zone"))
    if actor.user_id is None:
        st.info(t("Only a signed-in user has preferences."))
        return
    with ui.session() as session:
        chosen = preferences.get(session, actor.user_id)
    languages = [BROWSER, *preferences.LANGUAGES]
    zones = [BROWSER, *i18n.time_zone_names()]
    with st.form("preferences"):
        language = st.selectbox(
            t("Language"),
            languages,
            index=languages.index(chosen.language) if chosen.language in languages else 0,
            format_func=_language_label,
        )
        zone = st.selectbox(
            t("Time zone"),
            zones,
            index=zones.index(chosen.time_zone) if chosen.time_zone in zones else 0,
            format_func=lambda name: (
                t("Browser's time zone ({zone})", zone=_browser_time_zone()) if name == BROWSER else name
            ),
            help=t("Every time in the app is shown in this time zone."),
        )
        saved = st.form_submit_button(t("Save"), type="primary")
    st.caption(t("Now: {time}", time=ui.local_time(datetime.now(UTC))))
    if not saved:
        return
    try:
        with ui.session() as session:
            preferences.change(session, actor, language or None, zone or None)
    except Exception as error:
        ui.show_error(error)
        return
    # The new language and time zone apply to this tab at once (and to every new sign-in).
    for key, value in ((i18n.LANGUAGE_KEY, language), (i18n.TIME_ZONE_KEY, zone)):
        if value:
            st.session_state[key] = value
        else:
            st.session_state.pop(key, None)
    ui.after_write(t("Preferences saved."))
    st.rerun()


page()
