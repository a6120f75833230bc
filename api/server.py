# The uvicorn entry point of the API: `syncstore api run` serves `api.server:app_factory` (one app per worker).
"""The API server: uvicorn builds the app in each worker process (its own database pool and limiter)."""

from __future__ import annotations

from fastapi import FastAPI


def app_factory() -> FastAPI:
    """uvicorn's factory (`uvicorn api.server:app_factory --factory`)."""
    from api.app import create_app

    return create_app()
