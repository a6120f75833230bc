# OIDC bearer tokens: a local provider (discovery + JWKS over HTTP) signs ID tokens; only valid, verified ones pass.
"""The API accepts the app's OIDC provider's ID tokens when configured, and nothing else that looks like one."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from joserfc import jwk, jwt

from api.app import create_app
from syncstore.settings import Settings
from tests.api.conftest import make_keys

AUDIENCE = "syncstore-app"


class Provider:
    """A minimal OIDC provider: /.well-known/openid-configuration and /jwks on loopback."""

    def __init__(self) -> None:
        self.key = jwk.RSAKey.generate_key(2048, parameters={"kid": "k1"})
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                documents = {
                    "/.well-known/openid-configuration": {
                        "issuer": provider.issuer,
                        "jwks_uri": f"{provider.issuer}/jwks",
                    },
                    "/jwks": {"keys": [provider.key.as_dict(private=False)]},
                }
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, email: str, *, key: Any = None, **claims: Any) -> str:
        payload = {"iss": self.issuer, "aud": AUDIENCE, "exp": int(time.time()) + 300, "email": email,
                   "email_verified": True, **claims}  # fmt: skip
        return jwt.encode({"alg": "RS256", "kid": "k1"}, payload, key or self.key)


@pytest.fixture
def provider() -> Iterator[Provider]:
    started = Provider()
    yield started
    started.server.shutdown()


def test_an_id_token_of_the_configured_provider_acts_as_its_user(sqlite_engine: sa.Engine, provider: Provider) -> None:
    make_keys(sqlite_engine)
    settings = Settings(api_rate_limit=0, api_key_cache_seconds=0,
                        api_oidc_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
                        api_oidc_audience=AUDIENCE)  # fmt: skip
    client = TestClient(create_app(sqlite_engine, settings))

    def status(token: str, method: str = "GET", path: str = "/v1/rules") -> int:
        body = {"name": "by oidc"} if method == "POST" else None
        return client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"}).status_code

    assert status(provider.token("editor@example.com")) == 200
    assert status(provider.token("Editor@Example.com"), "POST") == 201
    assert status(provider.token("viewer@example.com"), "POST") == 403
    assert status(provider.token("nobody@example.com")) == 401
    assert status(provider.token("editor@example.com", email_verified=False)) == 401
    assert status(provider.token("editor@example.com", aud="another-app")) == 401
    assert status(provider.token("editor@example.com", iss="https://evil.example")) == 401
    assert status(provider.token("editor@example.com", exp=int(time.time()) - 3600)) == 401
    forged = jwk.RSAKey.generate_key(2048, parameters={"kid": "k1"})
    assert status(provider.token("editor@example.com", key=forged)) == 401
    unsigned = provider.token("editor@example.com").rsplit(".", 1)[0] + "."
    assert status(unsigned) == 401


def test_without_oidc_configured_tokens_are_refused(sqlite_engine: sa.Engine, provider: Provider) -> None:
    make_keys(sqlite_engine)
    client = TestClient(create_app(sqlite_engine, Settings(api_rate_limit=0)))
    response = client.get("/v1/rules", headers={"Authorization": f"Bearer {provider.token('admin@example.com')}"})
    assert response.status_code == 401
