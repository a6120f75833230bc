# Optional OIDC bearer tokens for the public API: an ID token of the app's provider, checked against its keys.
"""OIDC bearer tokens.

With `SYNCSTORE_API_OIDC_METADATA_URL` (the provider's discovery document, the same provider as
the app's `st.login`) and `SYNCSTORE_API_OIDC_AUDIENCE` (the client id) set, `Authorization: Bearer
<ID token>` is accepted beside API keys. A token counts only when its signature verifies against
the provider's published keys (RS256 or ES256; `none` and HMAC are refused), it was issued by that
provider for that audience and has not expired, and the provider says it verified the e-mail
(`email_verified`), as the app requires; the e-mail must belong to an active SyncStore user, whose
role it acts with. The provider's keys are cached and read again when a token names an unknown key
(at most once a minute).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jwk, jwt
from joserfc.errors import JoseError

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "ES256"]
KEYS_REFRESH_S = 60.0
LEEWAY_S = 60


@dataclass(frozen=True)
class Identity:
    email: str
    expires_at: datetime


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("ssk_")


class OidcVerifier:
    def __init__(self, metadata_url: str, audience: str, *, timeout_s: float = 5.0) -> None:
        self.metadata_url, self.audience = metadata_url, audience
        self._http = httpx.Client(timeout=timeout_s)
        self._lock = threading.Lock()
        self._issuer: str | None = None
        self._jwks_uri: str | None = None
        self._keys: jwk.KeySet | None = None
        self._keys_read_at = 0.0

    def _discover(self) -> tuple[str, str]:
        if self._issuer is None or self._jwks_uri is None:
            metadata: dict[str, Any] = self._http.get(self.metadata_url).raise_for_status().json()
            self._issuer, self._jwks_uri = str(metadata["issuer"]), str(metadata["jwks_uri"])
        return self._issuer, self._jwks_uri

    def _key_set(self, *, refresh: bool) -> jwk.KeySet:
        with self._lock:
            _, jwks_uri = self._discover()
            stale = time.monotonic() - self._keys_read_at > KEYS_REFRESH_S
            if self._keys is None or (refresh and stale):
                self._keys = jwk.KeySet.import_key_set(self._http.get(jwks_uri).raise_for_status().json())
                self._keys_read_at = time.monotonic()
            return self._keys

    def _decode(self, token: str) -> jwt.Token:
        try:
            return jwt.decode(token, self._key_set(refresh=False), algorithms=ALGORITHMS)
        except JoseError:  # perhaps a key the provider rotated in since we read its keys
            return jwt.decode(token, self._key_set(refresh=True), algorithms=ALGORITHMS)

    def verify(self, token: str) -> Identity | None:
        """The verified e-mail behind `token`, or None when the token is not one to trust."""
        try:
            decoded = self._decode(token)
            issuer, _ = self._discover()
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, KeyError) as error:
            logger.info("OIDC token refused: %s", type(error).__name__)
            return None
        except httpx.HTTPError as error:
            logger.warning("OIDC provider unreachable: %s", type(error).__name__)
            return None
        claims = decoded.claims
        email, verified = claims.get("email"), claims.get("email_verified")
        if not isinstance(email, str) or not (verified is True or str(verified).lower() == "true"):
            return None
        return Identity(email, datetime.fromtimestamp(int(claims["exp"]), tz=UTC))

    def close(self) -> None:
        self._http.close()
