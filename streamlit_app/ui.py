# Shared helpers for every page of the Streamlit app: engine, signed-in actor, permissions, errors.
"""What each page script in `streamlit_app/views/` starts with.

    actor = ui.current_actor()      # stops the page when nobody is signed in
    engine = ui.engine()            # one cached engine per database URL
    with ui.session() as session:   # one transaction, committed on success
        ...

Pages never run SQL; they call syncstore functions and hand any SyncStoreError to
`ui.show_error`, which shows its message (and per-field problems) in the user's language instead of
raising; `ui.error_text(error)` is that text for a page that places it itself.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.orm import Session

from connectors import registry
from streamlit_app.i18n import N_, current_time_zone, t, tn, translate, tv
from syncstore.db.engine import create_engine, transaction
from syncstore.errors import InvalidInput, SyncStoreError, VersionConflict
from syncstore.inventory import ledger as inventory
from syncstore.security import audit, auth
from syncstore.security.auth import Actor, Permission
from syncstore.settings import get_settings

ACTOR_KEY = "actor"
PRODUCT_KEY = "product_id"
# Short-lived read cache: fresh enough for a merchant, cleared by every write through `after_write`.
READ_TTL_SECONDS = 30

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def database_url() -> str:
    """The configured database URL, read each run so a test can point the app at its own database."""
    return os.environ.get("SYNCSTORE_DATABASE_URL") or get_settings().resolved_database_url


def _dispose(engine: sa.Engine) -> None:
    engine.dispose()


# One engine (and its connection pool) per URL, disposed when the cache is cleared.
@st.cache_resource(show_spinner=False, on_release=_dispose)
def _engine_for(url: str) -> sa.Engine:
    return create_engine(url)


def engine() -> sa.Engine:
    """The process-wide engine for the configured database (cached across reruns and sessions)."""
    return _engine_for(database_url())


@contextmanager
def session() -> Iterator[Session]:
    """One transaction on the app's engine: committed on success, rolled back on any error."""
    with transaction(engine()) as db_session:
        yield db_session


def signed_in_actor() -> Actor | None:
    """The actor of this browser session, or None."""
    actor = st.session_state.get(ACTOR_KEY)
    return actor if isinstance(actor, Actor) else None


def sign_in(actor: Actor) -> None:
    st.session_state[ACTOR_KEY] = actor


def sign_out() -> None:
    st.session_state.pop(ACTOR_KEY, None)
    st.session_state.pop(PRODUCT_KEY, None)


def current_actor() -> Actor:
    """The signed-in actor; a page run without one shows a note and stops."""
    actor = signed_in_actor()
    if actor is None:
        st.info(t("Sign in to use SyncStore."))
        st.stop()
    return actor


def can(permission: Permission) -> bool:
    """Whether the signed-in actor holds `permission` (for showing controls; syncstore enforces it)."""
    return auth.can(signed_in_actor(), permission)


# What each permission lets someone do, in words (for "may not ...").
PERMISSION_WORDS: Mapping[Permission, str] = {
    Permission.CATALOG_WRITE: N_("edit the catalog"),
    Permission.INVENTORY_ADJUST: N_("adjust stock"),
    Permission.SYNC_RUN: N_("run syncs"),
    Permission.CONFLICTS_RESOLVE: N_("resolve conflicts"),
    Permission.RULES_WRITE: N_("change rules"),
    Permission.CONNECTIONS_MANAGE: N_("manage shop connections"),
    Permission.USERS_MANAGE: N_("manage users"),
    Permission.KEYS_MANAGE: N_("manage API keys"),
    Permission.SETTINGS_MANAGE: N_("change settings"),
}
ROLE_WORDS = (N_("admin"), N_("editor"), N_("viewer"))


def read_only_note(permission: Permission) -> None:
    """Say why the page shows no edit controls."""
    actor = signed_in_actor()
    role = tv(actor.role.value) if actor else t("anonymous")
    st.caption(
        t(
            "Read only: your role ({role}) may not {permission}.",
            role=role,
            permission=tv(PERMISSION_WORDS.get(permission, permission.value)),
        )
    )


# What can start Markdown or HTML inside a line (CommonMark, GitHub's extensions, Streamlit's own):
# escapes, code, emphasis, links and images (`[`), HTML and entities, strikethrough, math, and
# `:word` (colour directives, icons, emoji). An underscore inside a word is literal already.
_INLINE_SPECIAL = re.compile(r"([\\`*\[\]<>&~$]|:(?=[\w/-])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# What starts a block at the beginning of a line: a heading, quote, list item or setext underline.
_BLOCK_START = re.compile(r"^(\s*)([#>+=-])|^(\s*\d+)([.)])")
# GitHub-flavoured Markdown links bare URLs after escapes are read: a zero-width space keeps them text.
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|www|mailto)(?=\\?[:.])")


def plain(text: object) -> str:
    """`text` as literal Markdown: a user's words shown as typed, never as links, images, HTML or styling (S3).

    Use it wherever text someone typed (names, titles, SKUs, reasons, notes, values, payloads,
    error messages) goes into st.markdown, st.success/error/warning/info, captions or labels.
    Line breaks become spaces, so the text cannot start a new block (a heading, a list, a table).
    """
    flat = " ".join(str(text).splitlines())
    escaped = _INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), flat)
    escaped = _BLOCK_START.sub(lambda m: "\\".join(m.group(1, 2) if m.group(2) else m.group(3, 4)), escaped)
    return _AUTOLINK.sub("\\1\u200b", escaped)


def code_span(text: object) -> str:
    """`text` as a Markdown code span: shown literally, whatever backticks it holds (CommonMark's longer fence)."""
    flat = " ".join(str(text).splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def changed_by(entity: str, entity_id: int) -> str:
    """Who last changed a record (from the stock ledger or the audit log), for "changed by X"."""
    try:
        with session() as db_session:
            if entity == "variant":
                who = inventory.last_changed_by(db_session, entity_id)
            else:
                rows = audit.recent(db_session, entity_type=entity, entity_id=entity_id, limit=1)
                who = rows[0].actor_label if rows else None
    except Exception:
        log.exception("could not read who changed %s %s", entity, entity_id)
        who = None
    return who or t("someone else")


def show_error(error: BaseException) -> None:
    """Show an error to the user; never raises. SyncStore errors show their own message and fields.

    Anything else shows a generic message (never its text or a traceback) and goes to the server log.
    """
    if isinstance(error, InvalidInput):
        count = len(error.messages)
        st.error(plain(tn("invalid input ({n} field)", "invalid input ({n} fields)", count)))
        for field, message in error.messages.items():
            st.error(f"**{plain(field)}**: {plain(translate(message))}")
    elif isinstance(error, VersionConflict):
        who = changed_by(error.entity, error.entity_id)
        st.error(
            plain(
                t(
                    "This {entity} was changed by {who} since you opened it; nothing was saved. "
                    "Reload it and apply your change again.",
                    entity=tv(error.entity),
                    who=who,
                )
            )
        )
    elif isinstance(error, SyncStoreError):
        st.error(plain(translate(error)))  # in the user's language (its English text when it has no template)
    else:
        # Unexpected: the type only, never its text (it may carry a URL or a secret).
        log.error("unexpected error on a page", exc_info=error)
        st.error(
            t("Something went wrong ({kind}); nothing was changed. See the server log.", kind=type(error).__name__)
        )


def field_errors(error: BaseException | None) -> dict[str, str]:
    """Per-field messages of an InvalidInput in the user's language, for showing next to each widget."""
    return (
        {field: translate(message) for field, message in error.messages.items()}
        if isinstance(error, InvalidInput)
        else {}
    )


def error_text(error: BaseException) -> str:
    """A core error's message in the user's language (plain text, not yet Markdown-escaped)."""
    return translate(error)


def attempt(action: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R | None:
    """Run `action`; on a SyncStoreError show it and return None (the page goes on)."""
    try:
        return action(*args, **kwargs)
    except SyncStoreError as error:
        show_error(error)
        return None


def after_write(message: str | None = None) -> None:
    """Clear cached reads after a change and confirm it with a toast."""
    st.cache_data.clear()
    if message:
        st.toast(plain(message))


def cached_read(ttl: int = READ_TTL_SECONDS) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """st.cache_data for a read function; every argument must be hashable or picklable (not a Session)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        return st.cache_data(ttl=ttl, show_spinner=False)(func)

    return decorate


# --- showing values --------------------------------------------------------------------------

STATUS_COLOURS: Mapping[str, str] = {
    N_("synced"): "green",
    N_("active"): "green",
    N_("succeeded"): "green",
    N_("success"): "green",
    N_("connected"): "green",
    N_("pending"): "orange",
    N_("in_review"): "blue",
    N_("in review"): "blue",
    N_("queued"): "orange",
    N_("running"): "blue",
    N_("conflict"): "violet",
    N_("open"): "orange",
    N_("failed"): "red",
    N_("error"): "red",
    N_("invalid"): "red",
    N_("expired"): "red",
    N_("disconnected"): "gray",
    N_("inactive"): "gray",
    N_("deleted"): "gray",
    N_("not listed"): "gray",
}


def platform_label(platform: str | None) -> str:
    """What people read for a platform ("TikTok Shop"), from the platform registry; unknown names as they are."""
    return registry.label(platform) if platform else ""


def platform_names() -> tuple[str, ...]:
    """Every registered platform's name, in display order."""
    return registry.names()


def badge(text: str, colour: str | None = None) -> str:
    """Markdown for a coloured badge, e.g. st.markdown(ui.badge("synced"))."""
    chosen = colour or STATUS_COLOURS.get(text.lower(), "gray")
    shown = tv(text)  # a status or role word in the user's language; other text as it is
    safe = plain(shown.replace("[", "(").replace("]", ")"))
    return f":{chosen}-badge[{safe}]"


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """A price for display, e.g. "MYR 12.50" (Decimal in, never float)."""
    if amount is None:
        return "—"
    text = f"{amount.quantize(Decimal('0.01')):,}"
    return f"{currency} {text}" if currency else text


def local_time(moment: datetime | None) -> str:
    """A stored (UTC) time in the user's time zone, e.g. "2026-12-08 05:40 +08" (the zone's abbreviation)."""
    if moment is None:
        return t("never")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(current_time_zone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def ago(moment: datetime) -> str:
    """How long ago `moment` was, in words ("3 min ago")."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 0:
        return t("just now")
    if seconds < 90:
        return tn("{n} second ago", "{n} seconds ago", seconds)
    if seconds < 5400:
        return tn("{n} minute ago", "{n} minutes ago", seconds // 60)
    if seconds < 172_800:
        return tn("{n} hour ago", "{n} hours ago", seconds // 3600)
    return tn("{n} day ago", "{n} days ago", seconds // 86_400)


def when(moment: datetime | None) -> str:
    """A time for display in the user's time zone, with how long ago it was."""
    if moment is None:
        return t("never")
    return f"{local_time(moment)} ({ago(moment)})"


def redact_url(url: str | None) -> str:
    """Scheme and host only: a webhook URL's path and query often hold its secret."""
    if not url:
        return t("not set")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.scheme and parts.hostname else t("set (hidden)")


def selected_product_id() -> int | None:
    """The product chosen for the editor: the URL's ?product= first, then this session's choice."""
    raw = st.query_params.get("product")
    if raw is not None and str(raw).isdigit():
        return int(raw)
    value = st.session_state.get(PRODUCT_KEY)
    return value if isinstance(value, int) else None


def select_product(product_id: int) -> None:
    """Remember the product for the editor (session and URL)."""
    st.session_state[PRODUCT_KEY] = product_id
    st.query_params["product"] = str(product_id)


def open_editor(product_id: int) -> None:
    """Go to the Product editor for `product_id`."""
    select_product(product_id)
    st.switch_page("views/product_editor.py", query_params={"product": str(product_id)})


def json_safe(value: Any) -> Any:
    """Decimals and times as strings, for st.json."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


# --- bulk sync progress ----------------------------------------------------------------------

JOB_REFRESH_SECONDS = 2.0
FINISHED_JOB_STATUSES = frozenset({"done", "failed"})


def _read_progress(job_id: int) -> Any:
    from syncstore.sync import engine as sync

    with session() as db_session:
        return sync.bulk_progress(db_session, job_id)


def _show_progress(progress: Any) -> None:
    # `done` counts every processed (product, shop) pair; `failed` is the part of them that failed.
    total, done, failed = max(int(progress.total), 0), int(progress.done), int(progress.failed)
    fraction = min(done / total, 1.0) if total else (1.0 if progress.finished_at else 0.0)
    text = t(
        "Bulk sync job {job}: {status} · {done} of {total} product-shop pairs processed",
        job=progress.job_id,
        status=tv(str(progress.status)),
        done=done,
        total=total,
    )
    if failed:
        text += " · " + t("{failed} failed", failed=failed)
    st.progress(fraction, text=text)
    if progress.finished_at is not None:
        (st.warning if failed or progress.status == "failed" else st.success)(
            t(
                "Job {job} {status} {when}: {synced} synced, {failed} failed. Details on the Sync activity page.",
                job=progress.job_id,
                status=tv(str(progress.status)),
                when=when(progress.finished_at),
                synced=done - failed,
                failed=failed,
            )
        )


@st.fragment(run_every=JOB_REFRESH_SECONDS)
def _live_progress(job_id: int) -> None:
    try:
        progress = _read_progress(job_id)
    except SyncStoreError as error:
        show_error(error)
        return
    _show_progress(progress)
    if progress.finished_at is not None or str(progress.status) in FINISHED_JOB_STATUSES:
        st.rerun()  # the whole page once more, which shows the result without a timer


def job_progress(job_id: int) -> None:
    """A progress bar of a bulk sync job, refreshed from its recorded progress until it finishes."""
    try:
        progress = _read_progress(job_id)
    except SyncStoreError as error:
        show_error(error)
        return
    if progress.finished_at is not None or str(progress.status) in FINISHED_JOB_STATUSES:
        _show_progress(progress)
    else:
        _live_progress(job_id)


def write(action: Callable[[Actor, Session], object], message: str) -> bool:
    """Run a syncstore command as the signed-in actor in one transaction, then refresh the page.

    Errors are shown, never raised (the transaction is rolled back); returns False then. On
    success cached reads are cleared, `message` is toasted and the page reruns.
    """
    actor = current_actor()
    try:
        with session() as db_session:
            action(actor, db_session)
    except Exception as error:
        show_error(error)
        return False
    after_write(message)
    st.rerun()
