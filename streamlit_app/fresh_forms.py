# Forms that come back empty after a save: a generation number in their widget keys, renewed on success.
"""Fresh forms.

A Streamlit widget keeps what was typed into it for as long as its key lives, so a form saved and
drawn again would still show the last note, quantity or name. Keying a form's widgets with
`key(form, name)` and calling `renew(form)` after a successful save gives the next run new widgets
with their defaults; a refused save keeps what the person typed, so they can correct it.
"""

from __future__ import annotations

import streamlit as st

_PREFIX = "fresh_form_generation_"


def generation(form: str) -> int:
    """How many times `form` was saved in this session (0 at first)."""
    value = st.session_state.get(_PREFIX + form, 0)
    return value if isinstance(value, int) else 0


def key(form: str, name: str) -> str:
    """The key of widget `name` in `form`, new after each `renew(form)`."""
    return f"{form}_{name}_g{generation(form)}"


def renew(form: str) -> None:
    """After a successful save: the next run draws `form` with empty (default) widgets."""
    st.session_state[_PREFIX + form] = generation(form) + 1
