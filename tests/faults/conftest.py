# Fault-run helpers: receivers and load clients in their own process groups, throwaway PostgreSQL clusters.
"""Fixtures for the whole-system fault runs (J1, J2, and any other test here that needs them).

Every process a fault test starts is registered with a fixture whose finalizer ends it, even when
the test fails: receivers and load clients run in their own process group and are ended by
group (SIGTERM, then SIGKILL); a throwaway PostgreSQL cluster is stopped with `pg_ctl -m
immediate` (its postmaster SIGKILLed if that fails) and its directory removed.

The usual shape of a receiver fault run:

    receiver = start_receiver(database_url, redis_url)     # migrated, started, healthy, stopped afterwards
    run = start_load(receiver, events=10_000)              # retrying client in its own process
    run.wait_for_acked(3_000, timeout_s=90)                # ... then break something, repair it ...
    report = run.finish(timeout_s=240)
    check_run(report, stored_rows(database_url), 10_000)   # nothing acknowledged lost, nothing twice

A failed wait names what happened: the tails of the receiver log (and of any other log given to
`start_load`) and the client's progress.

A throwaway cluster is initdb'd into a fresh temporary directory, listens on 127.0.0.1 on a free
port and keeps its socket in its own directory: it never touches the shared server. PostgreSQL
refuses to run as root, so as root its commands run as the `postgres` OS user (`runuser`) and the
directory is handed to that user.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import sqlalchemy as sa

from bench import webhook_load as load

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_OS_USER = os.environ.get("SYNCSTORE_TEST_PG_OS_USER", "postgres")


# --- the receiver and the load client ---------------------------------------------------------


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a fault run (a CI timeout, say): unwind so every finalizer still runs."""


@pytest.fixture(autouse=True)
def _finalizers_run_on_sigterm() -> Iterator[None]:
    """Fault runs start processes the test must end; SIGTERM's default (die at once) would orphan them."""

    def unwind(signum: int, frame: object) -> None:
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def fault_dir() -> Iterator[Path]:
    """A scratch directory for logs, reports and the receiver's data dir; removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="syncstore-faults-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def receivers() -> Iterator[list[load.ReceiverProcess]]:
    """Receivers the test starts: append them here and they are stopped (by process group) at the end."""
    started: list[load.ReceiverProcess] = []
    yield started
    for receiver in started:
        receiver.stop()


@pytest.fixture
def load_clients() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Load-client processes: append them here and they are ended (by process group) at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        load.stop_group(process, grace_s=2)


class StartReceiver(Protocol):
    def __call__(
        self,
        database_url: str,
        redis_url: str | None,
        *,
        workers: int = ...,
        migrate: bool = ...,
        extra_env: Mapping[str, str] | None = ...,
    ) -> load.ReceiverProcess: ...


DEFAULT_WORKERS = 2


@pytest.fixture
def start_receiver(fault_dir: Path, receivers: list[load.ReceiverProcess]) -> StartReceiver:
    """Start a webhook receiver (`syncstore receiver run`) on a free port; it is stopped at the end.

    The database is migrated first unless `migrate=False`; the call returns once /healthz answers
    200. Each receiver logs to its own file in `fault_dir`; `extra_env` adds SYNCSTORE_* settings.
    """

    def start(
        database_url: str,
        redis_url: str | None,
        *,
        workers: int = DEFAULT_WORKERS,
        migrate: bool = True,
        extra_env: Mapping[str, str] | None = None,
    ) -> load.ReceiverProcess:
        port = load.free_port()
        env = load.receiver_environment(database_url, redis_url, port, fault_dir / "data", extra_env)
        if migrate:
            load.run_migrations(env)
        receiver = load.ReceiverProcess(env, port, workers, fault_dir / f"receiver-{len(receivers) + 1}.log")
        receivers.append(receiver)  # registered before it starts: a failed start is still cleaned up
        receiver.start()
        return receiver

    return start


@dataclass
class LoadRun:
    """A retrying load client sending signed webhooks to a receiver, in its own process."""

    client: subprocess.Popen[bytes]
    events: int
    out: Path
    progress_file: Path
    describe: Callable[[], str]

    def progress(self) -> dict[str, Any]:
        """The client's counts so far: acked, finished, statuses (answers and errors by kind)."""
        return load.read_progress(self.progress_file)

    def wait_for_acked(self, at_least: int, timeout_s: float) -> dict[str, Any]:
        """Block until `at_least` events are acknowledged; fail (with the logs) if the client stops or stalls."""
        return wait_for_acked(self.progress_file, at_least, self.client, timeout_s, self.describe)

    def finish(self, timeout_s: float) -> load.LoadReport:
        """Wait for the client to end (every event acknowledged or given up) and read its report."""
        report: load.LoadReport = finish_load(self.client, self.out, timeout_s, self.describe)
        return report


class StartLoad(Protocol):
    def __call__(
        self,
        receiver: load.ReceiverProcess,
        *,
        events: int,
        concurrency: int = ...,
        logs: Sequence[tuple[str, Callable[[], str]]] = ...,
    ) -> LoadRun: ...


@pytest.fixture
def start_load(fault_dir: Path, load_clients: list[subprocess.Popen[bytes]]) -> StartLoad:
    """Start the signed-webhook load client (bench.webhook_load) against a receiver; ended at the end.

    The client signs with the receiver's keys and public URL (its environment). `logs` are more
    (title, tail) pairs for failure messages, next to the receiver log and the client's progress.
    """

    def start(
        receiver: load.ReceiverProcess,
        *,
        events: int,
        concurrency: int = 64,
        logs: Sequence[tuple[str, Callable[[], str]]] = (),
    ) -> LoadRun:
        name = f"load-{len(load_clients) + 1}"
        out, progress_file = fault_dir / f"{name}.json", fault_dir / f"{name}-progress.json"
        client = load.load_process(
            receiver.url,
            receiver.env,
            events=events,
            concurrency=concurrency,
            out=out,
            progress_file=progress_file,
            log_file=fault_dir / f"{name}-client.log",
        )
        load_clients.append(client)
        describe = describe_run(
            ("receiver log", receiver.log_tail),
            *logs,
            ("client progress", lambda: progress_summary(progress_file)),
        )
        return LoadRun(client, events, out, progress_file, describe)

    return start


def wait_for_acked(
    progress_file: Path,
    at_least: int,
    client: subprocess.Popen[bytes],
    timeout_s: float,
    describe: Callable[[], str] = lambda: "",
) -> dict[str, Any]:
    """Block until the client reports `at_least` acknowledged events; fail if it stops or stalls."""
    deadline = time.monotonic() + timeout_s
    while True:
        progress = load.read_progress(progress_file)
        if progress["acked"] >= at_least:
            return progress
        if client.poll() is not None:
            pytest.fail(f"the load client exited ({client.returncode}) at {progress}; {describe()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no progress to {at_least} acknowledged events in {timeout_s:.0f} s: {progress}; {describe()}")
        time.sleep(0.05)


def finish_load(client: subprocess.Popen[bytes], out: Path, timeout_s: float, describe: Callable[[], str]) -> Any:
    """Wait for the client to end and read its report."""
    try:
        client.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the load client did not finish within {timeout_s:.0f} s; {describe()}")
    if client.returncode != 0 or not out.exists():
        pytest.fail(f"the load client failed ({client.returncode}); {describe()}")
    return load.read_report(out)


def stored_rows(database_url: str) -> dict[str, Any]:
    """What the database holds after a run: webhook_logs keys (with multiplicity) and platform_events counts."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            keys = [(str(p), str(e)) for p, e in conn.exec_driver_sql("SELECT platform, event_id FROM webhook_logs")]
            effects = None
            if sa.inspect(conn).has_table("platform_events"):
                row = conn.exec_driver_sql(
                    "SELECT count(*), count(DISTINCT (platform, order_id)) FROM platform_events"
                ).one()
                effects = {"rows": int(row[0]), "distinct_orders": int(row[1])}
    finally:
        engine.dispose()
    return {"keys": keys, "effects": effects}


def check_run(report: load.LoadReport, stored: dict[str, object], events: int) -> None:
    """The J1/J2 verdict: nothing acknowledged is lost, everything is stored once, answers are as promised."""
    sent = {(o.platform, o.event_id) for o in report.outcomes}
    assert len(report.outcomes) == events and len(sent) == events, "the client must send distinct events"

    keys = stored["keys"]
    assert isinstance(keys, list)
    stored_keys = set(keys)
    lost = [(o.platform, o.event_id) for o in report.acked if (o.platform, o.event_id) not in stored_keys]
    assert lost == [], f"{len(lost)} acknowledged events are not in webhook_logs, e.g. {lost[:5]}"

    unacked = [(o.platform, o.event_id, o.attempts) for o in report.outcomes if not o.acked]
    assert unacked == [], f"{len(unacked)} events never acknowledged despite retries, e.g. {unacked[:5]}"

    duplicates = {key: n for key, n in Counter(keys).items() if n > 1}
    assert duplicates == {}, f"events stored more than once: {list(duplicates.items())[:5]}"
    assert stored_keys == sent, (
        f"webhook_logs holds {len(stored_keys)} events; missing {len(sent - stored_keys)}, "
        f"unexpected {len(stored_keys - sent)}"
    )
    assert len(keys) == events

    effects = stored["effects"]
    if effects is not None:  # the normalized events the pipelines read: one per stored event, one per order
        assert effects == {"rows": events, "distinct_orders": events}, effects

    answers = {kind: n for kind, n in report.statuses.items() if kind.isdigit()}
    unexpected = {code: n for code, n in answers.items() if not (code.startswith("2") or code == "503")}
    assert unexpected == {}, f"answers other than 2xx and 503 (503 is the only 5xx, no 4xx for valid events): {answers}"
    assert report.shopee_nonempty_2xx == 0, "Shopee needs an EMPTY 2xx body; a JSON body counts as a failure"


# --- a throwaway PostgreSQL cluster -----------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl live: SYNCSTORE_TEST_PG_BIN, the newest /usr/lib/postgresql/*/bin, or PATH."""
    configured = os.environ.get("SYNCSTORE_TEST_PG_BIN")
    if configured:
        return Path(configured)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresCluster:
    """initdb + pg_ctl in a private directory on a free port; stop -m immediate and start again at will."""

    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = port
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", PG_OS_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def init(self) -> None:
        if self.as_postgres:
            shutil.chown(self.root, user=PG_OS_USER, group=None)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "100",
            "shared_buffers": "64MB",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        config = "".join(f"{name} = {value}\n" for name, value in settings.items())
        with (self.data / "postgresql.conf").open("a") as conf:  # appending keeps the file's owner
            conf.write(config)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop_immediate(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        """Stop (immediate; SIGKILL the postmaster if pg_ctl cannot) and remove everything."""
        if self.is_running():
            try:
                self.stop_immediate()
            except Exception:
                with suppress(Exception):
                    pid = int((self.data / "postmaster.pid").read_text().split()[0])
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def log_tail(self, characters: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-characters:]
        except OSError:
            return ""


CLUSTER_PREFIX = "syncstore-pg-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_orphaned_clusters(bin_dir: Path) -> None:
    """Destroy throwaway clusters whose test process died without cleaning up (SIGKILL cannot be caught)."""
    for root in Path(tempfile.gettempdir()).glob(CLUSTER_PREFIX + "*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if not _alive(owner):
            PostgresCluster(bin_dir, root, port=0).destroy()


def _unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires a throwaway cluster", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def throwaway_cluster() -> Iterator[PostgresCluster]:
    """A running PostgreSQL cluster of this test's own (never the shared server), destroyed afterwards."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found; set SYNCSTORE_TEST_PG_BIN")
    assert bin_dir is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("running as root without runuser: PostgreSQL must run as another user")
    sweep_orphaned_clusters(bin_dir)
    cluster = PostgresCluster(bin_dir, Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX)), load.free_port())
    (cluster.root / "owner.pid").write_text(str(os.getpid()))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def create_database(cluster: PostgresCluster, name: str) -> str:
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return cluster.url(name)


def describe_run(*parts: tuple[str, Callable[[], str]]) -> Callable[[], str]:
    """A lazily built failure description: the tails of the given logs."""

    def describe() -> str:
        return "\n".join(f"--- {title} ---\n{tail()}" for title, tail in parts)

    return describe


def progress_summary(progress_file: Path) -> str:
    return json.dumps(load.read_progress(progress_file))
