# Each user's own settings for the app: language and time zone (NULL: follow the browser).
"""Read and change a user's preferences. Anyone may change their own; nobody another's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from syncstore.db.models import User
from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied, msg
from syncstore.security import audit
from syncstore.security.auth import Actor

# The languages the app's message catalogue is complete in (code -> the language's own name).
LANGUAGES: Final[dict[str, str]] = {"en": "English", "ms": "Bahasa Malaysia"}


@dataclass(frozen=True)
class Preferences:
    language: str | None  # None: the browser's
    time_zone: str | None  # None: the browser's


def get(session: Session, user_id: int) -> Preferences:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("user {user_id} not found", user_id=user_id)
    return Preferences(language=user.language, time_zone=user.time_zone)


def _valid_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def change(session: Session, actor: Actor, language: str | None, time_zone: str | None) -> Preferences:
    """Set the signed-in user's language and time zone (None: follow the browser); audited."""
    if actor.user_id is None:
        raise PermissionDenied("only a signed-in user has preferences")
    errors = {}
    if language is not None and language not in LANGUAGES:
        errors["language"] = msg(
            "unsupported language {language!r}: one of {choices}", language=language, choices=", ".join(LANGUAGES)
        )
    if time_zone is not None and not _valid_time_zone(time_zone):
        errors["time_zone"] = msg(
            "unknown time zone {time_zone!r}: an IANA name such as Asia/Kuala_Lumpur", time_zone=time_zone
        )
    if errors:
        raise InvalidInput(errors)
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFoundError("user {user_id} not found", user_id=actor.user_id)
    before = {"language": user.language, "time_zone": user.time_zone}
    user.language, user.time_zone = language, time_zone
    session.flush()
    audit.record(session, actor, "user.preferences", "user", user.id, before=before,
                 after={"language": language, "time_zone": time_zone})  # fmt: skip
    return Preferences(language=language, time_zone=time_zone)
