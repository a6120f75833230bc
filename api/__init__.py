# The public HTTP API (FastAPI): products, stock, rules, listings, conflicts, sync, orders and alerts, by API key.
"""The public HTTP API, a face like the app and the CLI: it calls the same `syncstore` functions
with the same permission checks. `api.app.create_app()` builds the ASGI app; `api.server.run`
serves it with uvicorn (`syncstore api run`)."""
