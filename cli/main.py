# The `syncstore` command line: database, demo data, users, keys and catalog import/export.
"""`syncstore ...` commands.

Commands run as the operator at the shell (`cli:<user>`, Admin): shell access to the server is
already admin access. Every change they make is audited like a change made in the app.
"""

from __future__ import annotations

import os
import secrets
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors import registry
from syncstore.db import migrate
from syncstore.db.engine import get_engine, transaction
from syncstore.errors import SyncStoreError
from syncstore.ops.logging_setup import configure_logging
from syncstore.security.auth import Actor, Role
from syncstore.settings import get_settings

app = typer.Typer(help="SyncStore: catalog and inventory sync for Shopee and TikTok Shop.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo: sample catalog and local shops.", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys for stored platform tokens.", no_args_is_help=True)
catalog_app = typer.Typer(help="Import and export the master catalog.", no_args_is_help=True)
simulator_app = typer.Typer(help="Local marketplace simulators (no internet, no real shop).", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (demo_app, "demo"),
    (user_app, "user"),
    (keys_app, "keys"),
    (catalog_app, "catalog"),
    (simulator_app, "simulator"),
):
    app.add_typer(sub, name=name)

# The reserved .example domain: a valid address that can never reach anyone.
DEMO_ADMIN_EMAIL = "admin@syncstore.example"

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=errors
    )


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _database_label() -> str:
    return get_engine().url.render_as_string(hide_password=True)


# --- db -------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    engine = get_engine()
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    console.print(f"database {_database_label()}: revision {before or 'empty'} -> {after}")


@app.command("doctor")
def doctor() -> None:
    """Check the database and Redis; exit 1 if something SyncStore needs is down."""
    from syncstore.ops import health

    settings = get_settings()
    results = [health.check_database(get_engine()), health.check_redis(settings.redis_url)]
    for result in results:
        mark = "[green]ok[/green]" if result.ok else "[red]FAIL[/red]"
        latency = f" ({result.latency_ms:.1f} ms)" if result.latency_ms is not None else ""
        console.print(f"{mark} {result.name}: {result.detail}{latency}")
    if not all(result.ok for result in results):
        raise typer.Exit(code=1)


# --- demo -----------------------------------------------------------------------------------


def _seed(actor: Actor) -> dict[str, int]:
    """Migrate and import the sample catalog unless products already exist; returns table counts."""
    from syncstore.catalog.importer import import_csv
    from syncstore.data import sample_catalog_path
    from syncstore.db.models import MasterProduct, OutboxEvent, ProductVariant

    engine = get_engine()
    migrate.upgrade(engine)
    with transaction(engine) as session:
        existing = session.scalar(sa.select(sa.func.count()).select_from(MasterProduct)) or 0
    if existing == 0:
        with _progress() as progress:
            task = progress.add_task("importing sample catalog", total=None)
            report = import_csv(
                actor,
                engine,
                sample_catalog_path(),
                strict=True,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        if report.errors:
            raise _fail(f"the sample catalog has {len(report.errors)} invalid rows: {report.errors[:3]}")
    with transaction(engine) as session:

        def total(model: type) -> int:
            return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0

        return {
            "products": total(MasterProduct),
            "variants": total(ProductVariant),
            "outbox_events": total(OutboxEvent),
            "already_seeded": int(existing > 0),
        }


def _ensure_admin(actor: Actor) -> tuple[str, str] | None:
    """Create the demo admin when no user exists; returns (e-mail, password) when created."""
    from syncstore.db.models import User
    from syncstore.security import auth

    with transaction(get_engine()) as session:
        if session.scalar(sa.select(sa.func.count()).select_from(User)):
            return None
        password = secrets.token_urlsafe(12)
        auth.create_user(actor, session, email=DEMO_ADMIN_EMAIL, role=Role.ADMIN, password=password)
        return DEMO_ADMIN_EMAIL, password


@demo_app.command("seed")
def demo_seed() -> None:
    """Migrate, import the sample catalog (once) and create the demo admin; starts nothing (`demo run` does)."""
    actor = Actor.command_line()
    counts = _seed(actor)
    seeded_before = counts.pop("already_seeded")
    table = Table(title=f"SyncStore demo database: {_database_label()}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, value in counts.items():
        table.add_row(name, str(value))
    console.print(table)
    console.print("sample catalog: " + ("already present, left as it was" if seeded_before else "imported now"))
    created = _ensure_admin(actor)
    if created:
        console.print(f"admin user created: [bold]{created[0]}[/bold] / password [bold]{created[1]}[/bold]")
        console.print("(shown once; add more with `syncstore user add EMAIL --role editor`)")
    else:
        console.print("users exist already; add one with `syncstore user add EMAIL --role admin`")


@demo_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def demo_run(ctx: typer.Context) -> None:
    """Everything `make demo` does: simulators, receiver, Dagster and the app, shops connected; Ctrl-C stops all.

    Options (`syncstore demo run --help-demo` lists them): --without PART, --orders-every N,
    --conflicting-edits N. SYNCSTORE_DATABASE_URL and SYNCSTORE_REDIS_URL are used when set.
    """
    # The demo is a face of its own (package `demo/`): the core never imports it, so run it as a program.
    arguments = ["--help" if arg == "--help-demo" else arg for arg in ctx.args]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "demo", *arguments])  # noqa: S606 (our interpreter, no shell)


# --- users ----------------------------------------------------------------------------------


def _read_new_password() -> str:
    """A new password from the operator: asked twice, hidden, on a terminal; else one line of stdin.

    Never an option: a password on the command line is visible in `ps` and the shell history.
    """
    if sys.stdin.isatty():
        from syncstore.security import auth

        return str(
            typer.prompt(
                f"password ({auth.PASSWORD_MIN_LENGTH} characters or more)", hide_input=True, confirmation_prompt=True
            )
        )
    line = sys.stdin.readline()
    if not line:
        raise _fail("no password on stdin: pipe one line, use --generate, or run on a terminal to be asked")
    return line.rstrip("\r\n")


@user_app.command("add")
def user_add(
    email: str,
    role: Annotated[Role, typer.Option(help="admin, editor or viewer")] = Role.VIEWER,
    name: Annotated[str, typer.Option(help="Display name")] = "",
    generate: Annotated[bool, typer.Option(help="Generate a password and print it once")] = False,
    oidc_only: Annotated[bool, typer.Option(help="No password: the user signs in through OIDC")] = False,
) -> None:
    """Add a user with a role; the password is asked (hidden, twice), read from stdin, or generated."""
    from syncstore.security import auth

    password: str | None = None
    if generate:
        password = secrets.token_urlsafe(12)
    elif not oidc_only:
        password = _read_new_password()
    with transaction(get_engine()) as session:
        user = auth.create_user(Actor.command_line(), session, email=email, role=role, password=password, name=name)
    console.print(f"added {user.email} as {user.role}")
    if generate:
        console.print(f"password: [bold]{password}[/bold] (shown once)")


# --- keys -----------------------------------------------------------------------------------


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new key entry to put first in SYNCSTORE_ENCRYPTION_KEYS."""
    from syncstore.security import crypto

    console.print(crypto.generate_key())


@keys_app.command("status")
def keys_status() -> None:
    """Which key ids the stored tokens use (a key may be retired once none does)."""
    from syncstore.security.crypto import load_keyring
    from syncstore.shops import connections

    keyring = load_keyring()
    with transaction(get_engine()) as session:
        usage = connections.key_usage(session, keyring)
    for kid, used in sorted(usage.items(), key=lambda item: item[0] != keyring.primary_key_id):
        role = " (primary)" if kid == keyring.primary_key_id else ""
        console.print(f"{kid}{role}: {used} stored token{'s' if used != 1 else ''}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored token under the primary key (idempotent, resumable)."""
    from syncstore.shops import connections

    with _progress() as progress:
        task = progress.add_task("re-encrypting tokens", total=None)
        report = connections.rotate_keys(
            Actor.command_line(),
            get_engine(),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    console.print(
        f"{report.rows_total} connections checked: {report.rows_reencrypted} re-encrypted under "
        f"{report.primary_key_id}, {report.rows_current} already current"
    )
    for failure in report.failures:
        errors.print(f"connection {failure.connection_id} {failure.column}: {failure.reason}")
    if not report.ok:
        raise typer.Exit(code=1)


@keys_app.command("retire")
def keys_retire(key_id: str) -> None:
    """Check that no stored token uses KEY_ID any more, then say how to retire it."""
    from syncstore.shops import connections

    with transaction(get_engine()) as session:
        connections.check_retirable(Actor.command_line(), session, key_id)
    console.print(
        f"no stored token uses {key_id}: add it to SYNCSTORE_RETIRED_KEY_IDS, then remove it "
        "from SYNCSTORE_ENCRYPTION_KEYS"
    )


# --- catalog --------------------------------------------------------------------------------


@catalog_app.command("import")
def catalog_import(
    file: Annotated[
        Path, typer.Argument(help="CSV file, one row per variant (format: syncstore/catalog/csv_format.py)")
    ],
    strict: Annotated[bool, typer.Option(help="Import all rows or none")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check every row against the catalog; write nothing")] = False,
) -> None:
    """Import products from a CSV file; bad rows are reported by line and column."""
    from syncstore.catalog.importer import import_csv

    with _progress() as progress:
        task = progress.add_task(f"importing {file.name}", total=None)
        report = import_csv(
            Actor.command_line(),
            get_engine(),
            file,
            strict=strict,
            dry_run=dry_run,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for error in report.errors:
        errors.print(str(error), markup=False)
    console.print(report.summary(), markup=False)
    if report.errors:
        raise typer.Exit(code=1)


@catalog_app.command("export")
def catalog_export(
    output: Annotated[Path | None, typer.Argument(help="CSV file to write; standard output if omitted")] = None,
) -> None:
    """Export the catalog as CSV in the import format."""
    from syncstore.catalog.csv_format import export_csv

    with transaction(get_engine()) as session:
        if output is None:
            written = export_csv(session, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as target:
                written = export_csv(session, target)
    errors.print(f"exported {written} rows")


@catalog_app.command("bind-skus")
def catalog_bind_skus(
    file: Annotated[Path, typer.Argument(help="CSV file: seller_sku,master_sku[,shop] per line")],
    apply: Annotated[bool, typer.Option(help="Bind (all lines or none); without it, only the preview")] = False,
) -> None:
    """Bind shop SKUs to master SKUs from a CSV file: a preview per line, then (with --apply) all or nothing."""
    from syncstore.catalog import binding_csv

    text = file.read_text(encoding="utf-8-sig")
    try:
        with transaction(get_engine()) as session:
            if apply:
                preview = binding_csv.apply_csv(Actor.command_line(), session, text)
            else:
                preview = binding_csv.preview_csv(session, text)
    except SyncStoreError as error:
        raise _fail(str(error)) from None
    for line in preview.lines:
        console.print(f"line {line.line}: {line.seller_sku} -> {line.master_sku} [{line.shop}] "
                      f"{line.outcome}: {line.reason}", markup=False)  # fmt: skip
    verb = "bound" if apply else "would bind"
    errors.print(f"{verb} {len(preview.to_bind)}, refused {len(preview.refused)}")
    if preview.refused:
        raise typer.Exit(code=1)


# --- simulators ----------------------------------------------------------------------------


def _simulated_platform(name: str) -> str:
    """A registered platform that has a simulator (the option's check)."""
    simulated = [spec.name for spec in registry.platforms() if spec.run_simulator is not None]
    if name not in simulated:
        raise typer.BadParameter(f"{name!r} is not one of {', '.join(simulated)}")
    return name


@simulator_app.command("run")
def simulator_run(
    platform: Annotated[str, typer.Option(help="A registered platform with a simulator", callback=_simulated_platform)],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")],
    state_file: Annotated[Path | None, typer.Option(help="Load and save the simulator's state here")] = None,
    orders_every: Annotated[
        float | None, typer.Option(help="Place a random order every N seconds (sends a signed webhook)")
    ] = None,
    redirect_url: Annotated[
        str | None, typer.Option(help="The app's registered OAuth redirect, for platforms that need it")
    ] = None,
) -> None:
    """Serve a marketplace simulator until Ctrl-C: signed API, OAuth pages, webhooks, an order generator."""
    runner = registry.spec(platform).run_simulator
    assert runner is not None  # the option's check
    runner(port, state_file, orders_every_s=orders_every, redirect_url=redirect_url)


# --- webhook receiver ------------------------------------------------------------------------

receiver_app = typer.Typer(help="The webhook receiver: marketplace events and OAuth callbacks.", no_args_is_help=True)
app.add_typer(receiver_app, name="receiver")


class ReceiverLogLevel(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


@receiver_app.command("run")
def receiver_run(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on")] = 8100,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    log_level: Annotated[ReceiverLogLevel, typer.Option(help="uvicorn's log level")] = ReceiverLogLevel.INFO,
) -> None:
    """Serve the webhook receiver with uvicorn until stopped (it never migrates: run `syncstore db upgrade`).

    Settings come from SYNCSTORE_* variables (database, Redis, platform keys, public URL, limits).
    This process becomes the uvicorn server (exec), so a signal sent to it reaches uvicorn directly;
    with --workers above 1 the workers are its children: stop them all by process group.
    """
    # The core imports no web server: the receiver's hardened uvicorn server (header and body deadlines,
    # a connection cap, forwarded headers only from trusted proxies) runs as its own program.
    command = [
        sys.executable,
        "-m",
        "webhook_receiver.server",
        "webhook_receiver.app:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        log_level.value,
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "10",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)  # noqa: S606 (our own interpreter, an argument list: no shell)


# --- the public HTTP API ---------------------------------------------------------------------

api_app = typer.Typer(help="The public HTTP API: products, stock and sync for other systems.", no_args_is_help=True)
app.add_typer(api_app, name="api")


@api_app.command("run")
def api_run(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on")] = 8200,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    log_level: Annotated[ReceiverLogLevel, typer.Option(help="uvicorn's log level")] = ReceiverLogLevel.INFO,
) -> None:
    """Serve the API with uvicorn until stopped: schema /openapi.json, docs /docs (run `syncstore db upgrade` first).

    Keys are created in the app (API keys page). This process becomes the uvicorn server (exec); with
    --workers above 1 the workers are its children: stop them all by process group.
    """
    command = [
        sys.executable, "-m", "uvicorn", "api.server:app_factory", "--factory", "--host", host, "--port", str(port),
        "--workers", str(workers), "--log-level", log_level.value, "--no-access-log", "--no-server-header",
        "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)  # noqa: S606 (our own interpreter, an argument list: no shell)


# --- long-running workers --------------------------------------------------------------------

worker_app = typer.Typer(help="Long-running workers beside Dagster.", no_args_is_help=True)
app.add_typer(worker_app, name="worker")


@worker_app.command("events")
def worker_events(
    poll_interval: Annotated[float, typer.Option(min=0.05, help="Seconds between looks while idle")] = 0.5,
) -> None:
    """Consume both work queues: marketplace events (orders, product changes) and the outbox (edits, stock, bulk syncs).

    The one consumer of both queues in production: it keeps connectors warm and moves stock within
    a second (a Dagster sensor ticks at most every 5 s and each run starts a new process). It records
    a heartbeat every SYNCSTORE_WORKER_HEARTBEAT_SECONDS; while it is fresh Dagster's outbox and
    events sensors start no run (they are the fallback when no worker runs). Every
    SYNCSTORE_ORDER_POLL_SECONDS it also reads lost pushes and polls every shop's orders (W9).
    Stops cleanly on SIGTERM or Ctrl-C (and removes its heartbeat).
    """
    import signal
    import threading

    from syncstore.shops import marketplaces
    from syncstore.workers import dispatch
    from syncstore.workers import heartbeats as workers

    engine = get_engine()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    console.print("events worker: running (Ctrl-C stops)")
    connectors = marketplaces.connector_factory(engine)
    try:
        handled = dispatch.serve_events(
            engine,
            connectors,
            stop=stop,
            poll_interval_s=poll_interval,
            recovery_interval_s=get_settings().order_poll_seconds,
            worker_id=workers.worker_id(),
        )
    finally:
        connectors.close()
    console.print(f"events worker: stopped after {handled} events")


from cli.categories import categories_app  # noqa: E402  (appended: `syncstore categories ...`)

app.add_typer(categories_app, name="categories")


def main() -> None:
    """Entry point: SyncStore errors become one clear line and exit code 1, never a traceback."""
    try:
        configure_logging()
        app()
    except SyncStoreError as error:
        errors.print(f"[red]error:[/red] {error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
