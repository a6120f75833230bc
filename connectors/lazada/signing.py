# Lazada's request signature (sorted params behind the API path, HMAC-SHA256, UPPERCASE hex) and push signature.
"""`sign(app_secret, api_path, params)` for requests; `sign_push(app_key, app_secret, body)` for pushes.

Request: HMAC-SHA256(key=app_secret, msg=api_path + concat(name + value for sorted names)), upper hex.
The path has no `/rest` prefix; `sign` and file parameters are left out; values are the raw strings sent.
Push: lower hex HMAC-SHA256(key=app_secret, msg=app_key + raw body).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


class EmptyParameter(ValueError):
    """A parameter with an empty value: the official SDKs disagree on signing it, so none is ever sent."""


def string_to_sign(api_path: str, params: Mapping[str, str]) -> str:
    """The API path, then name + value of every parameter but `sign`, in byte order of the names."""
    names = sorted((name for name in params if name != "sign"), key=lambda name: name.encode("utf-8"))
    for name in names:
        if not isinstance(params[name], str) or params[name] == "":
            raise EmptyParameter(f"parameter {name!r} has no string value")
    return api_path + "".join(f"{name}{params[name]}" for name in names)


def sign(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
    """Upper-case hex HMAC-SHA256 of `string_to_sign` with the app secret."""
    message = string_to_sign(api_path, params).encode("utf-8")
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


def sign_push(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """Lower-case hex HMAC-SHA256(app_secret, app_key + raw body): the push's `Authorization` header."""
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + raw_body, hashlib.sha256).hexdigest()
