# Serves the API with uvicorn: `syncstore api run --port N --workers K`.
"""The API server. Workers are separate processes (uvicorn's --workers), each building its own app."""

from __future__ import annotations

import uvicorn

from syncstore.settings import get_settings


def app_factory() -> object:
    """uvicorn's factory (each worker process builds its app and its own database pool)."""
    from api.app import create_app

    return create_app()


def run(host: str = "127.0.0.1", port: int = 8200, workers: int = 1) -> None:
    uvicorn.run(
        "api.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=get_settings().log_level.lower(),
        proxy_headers=False,
        server_header=False,
    )
