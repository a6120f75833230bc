"""Marketplace clients: all wire-format knowledge of one platform lives in one module here."""

import logging

# httpx logs every request URL at INFO; TikTok Shop's token calls carry the app secret and the
# authorization code in the query string (the platform's design), so its request log stays off.
logging.getLogger("httpx").setLevel(logging.WARNING)
