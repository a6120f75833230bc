# The app's server: Streamlit's ASGI app serving app.py, plus the same-origin session-cookie routes.
"""`streamlit run streamlit_app/syncstore_app.py` (the demo and production run the app this way).

Streamlit finds `app` below and serves it with uvicorn: the pages of `streamlit_app/app.py` and,
on the same origin, the routes of `streamlit_app.session_cookie` that set and clear the HttpOnly
session cookie. Running `streamlit run streamlit_app/app.py` instead still works, but a reload then
signs the user out (no route can set the cookie).
"""

from __future__ import annotations

import streamlit as st

from streamlit_app.session_cookie import routes

# The app's pages and sign-in (a script path, beside this file).
APP_SCRIPT = "app.py"

app = st.App(APP_SCRIPT, routes=routes)
