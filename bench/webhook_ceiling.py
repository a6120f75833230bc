# Benchmark (diagnostic): how high bench.webhooks' ratio can go on this machine, and where the CPU goes.
"""`python -m bench.webhook_ceiling [--events 20000] [--concurrency 64] [--workers 2] [--rounds 4] [--commit-ms 1]`

bench.webhooks compares the receiver with a no-op Starlette endpoint. This benchmark puts two
stand-ins between them, to show what limits that ratio: the same load (bench.webhook_load) goes to
four servers, in alternating blocks so drift on a shared machine hits all of them alike:

- `receiver`: the real receiver on PostgreSQL and Redis, exactly as in bench.webhooks;
- `free_database`: the same receiver process (verification, parsing, per-IP limit, group commit,
  Redis nonces) whose group commit is answered by a stand-in that costs no CPU and takes
  `--commit-ms` per batch (default 1 ms: what PostgreSQL takes here to commit a batch of about 30
  events when nothing else runs). With the receiver's group commit (one batch in flight per worker),
  no database can do better than this;
- `no_database`: the stand-in answers at once (nothing is stored: the receiver's own work only),
  the bound for any database and any way of batching;
- `noop`: the no-op endpoint, as in bench.webhooks.

The stand-ins exist only here (`standin_app`); they store nothing and are never a way to run the
receiver. Prints ONE JSON object: for each server `acked`, `per_s` (acknowledged events per second) and
`ratio` (to the no-op), and the CPU each process group spent per acknowledged event, in
microseconds (`cpu_us_per_event`: the server's processes, PostgreSQL, Redis, and the load client
while it sent; PostgreSQL counts only the backends serving the benchmark's scratch database, found
in `pg_stat_activity`, so other clients of a shared server do not count), read from /proc: the
scheduler's nanosecond counters where the kernel has them, else clock ticks (so PostgreSQL and Redis
figures need them on this machine; they are null otherwise);
`idle_share`: the part of the machine's CPU time nobody used during the blocks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench import webhook_load as load
from bench.webhooks import add_load_arguments, run_load, scratch_database
from connectors.simulator.common import free_port

COMMIT_MS_VARIABLE: Final = "SYNCSTORE_BENCH_STANDIN_COMMIT_MS"
STANDIN_APP: Final = "bench.webhook_ceiling:standin_app"
_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


# --- the stand-in (runs inside uvicorn's workers) ---------------------------------------------


def standin_app() -> Any:
    """The receiver app, its group commit answered by a stand-in that stores nothing (see the docstring)."""
    from syncstore.events.webhooks import EventRecord, StoreOutcome
    from webhook_receiver.app import create_app
    from webhook_receiver.receiver import Receiver
    from webhook_receiver.storage import GroupCommitWriter

    app = create_app()
    receiver: Receiver = app.state.receiver
    commit_s = float(os.environ.get(COMMIT_MS_VARIABLE, "0")) / 1000

    async def acknowledge(records: Sequence[EventRecord]) -> list[StoreOutcome]:
        if commit_s:
            await asyncio.sleep(commit_s)
        return [StoreOutcome.STORED] * len(records)

    # The writer has not started yet (it starts on the first event): this one takes its place.
    receiver.writer = GroupCommitWriter(acknowledge, nonces=receiver.nonces, metrics=receiver.metrics)
    return app


class StandInProcess(load.ReceiverProcess):
    """uvicorn serving `standin_app`, with the flags `syncstore receiver run` gives the receiver."""

    @property
    def command(self) -> list[str]:
        command = [sys.executable, "-m", "uvicorn", STANDIN_APP, "--factory", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        return [*command, "--log-level", "warning", "--no-access-log"]


# --- CPU accounting from /proc ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Process:
    pid: int
    parent: int
    comm: str
    cpu_s: float


def _processes() -> list[_Process]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is the parent pid; fields[11] and [12] are user and system time in clock ticks.
        ticks_cpu_s = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        scheduler_cpu_s = _scheduler_cpu_s(entry)
        cpu_s = ticks_cpu_s if scheduler_cpu_s is None else scheduler_cpu_s
        found.append(_Process(int(entry), int(fields[1]), comm, cpu_s))
    return found


def _scheduler_cpu_s(pid: str) -> float | None:
    """The process's CPU seconds from the scheduler's nanosecond counters (over its threads), if the kernel has them.

    Clock ticks (10 ms) are too coarse for short runs: PostgreSQL's share of a few hundred events is
    a tick or none, which would read as no work at all. (Threads that ended are not counted; the
    processes measured here keep theirs for the whole run.)"""
    total_ns = 0
    try:
        for thread in os.listdir(f"/proc/{pid}/task"):
            total_ns += int(Path(f"/proc/{pid}/task/{thread}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total_ns / 1e9


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _tree_cpu_s(processes: Sequence[_Process], is_root: Callable[[_Process], bool]) -> float:
    """CPU seconds of every process matching `is_root` and of all their descendants."""
    children: dict[int, list[_Process]] = {}
    for process in processes:
        children.setdefault(process.parent, []).append(process)
    total, stack = 0.0, [process for process in processes if is_root(process)]
    while stack:
        process = stack.pop()
        total += process.cpu_s
        stack.extend(children.get(process.pid, []))
    return total


def _backend_pids(admin: sa.Engine, database: str) -> set[int]:
    """The PostgreSQL backends serving the scratch `database`: the connections this benchmark's servers opened."""
    with admin.connect() as conn:
        rows = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": database})
        return {int(row[0]) for row in rows}


def _cpu_by_group(marker: str, backends: set[int]) -> tuple[dict[str, float | None], dict[int, float]]:
    """CPU seconds so far of the server whose command line holds `marker` (with its workers) and Redis;
    and of each of the PostgreSQL `backends` found on this machine (pid -> seconds).

    Only the backends of the benchmark's own database count: other clients of the same PostgreSQL
    server (a test suite, another benchmark) spend CPU in their own backends, never in these.
    """
    processes = _processes()
    servers = [p for p in processes if marker in _command_line(p.pid)]
    roots = {p.pid for p in servers if not any(q.pid == p.parent for q in servers)}
    redis = [p for p in processes if p.comm.startswith("redis-server")]
    groups: dict[str, float | None] = {
        "server": _tree_cpu_s(processes, lambda p: p.pid in roots),
        "redis": sum(p.cpu_s for p in redis) if redis else None,
    }
    return groups, {p.pid: p.cpu_s for p in processes if p.pid in backends and p.comm == "postgres"}


def _backends_delta(before: Mapping[int, float], after: Mapping[int, float]) -> float | None:
    """CPU the backends spent between the two readings (a backend born in between counts from zero)."""
    if not after and not before:
        return None  # PostgreSQL runs elsewhere (another host or container): no figure
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --- the benchmark ----------------------------------------------------------------------------


@dataclass
class _Totals:
    """One server's blocks, pooled."""

    acked: int = 0
    elapsed_s: float = 0.0
    idle_s: float | None = 0.0
    cpu_s: dict[str, float | None] = field(default_factory=dict)

    def add(self, acked: int, elapsed_s: float, idle_s: float | None, cpu_s: Mapping[str, float | None]) -> None:
        self.acked += acked
        self.elapsed_s += elapsed_s
        self.idle_s = None if idle_s is None or self.idle_s is None else self.idle_s + idle_s
        for group, seconds in cpu_s.items():
            before = self.cpu_s.get(group, 0.0)
            self.cpu_s[group] = None if seconds is None or before is None else before + seconds

    def figures(self, noop_per_s: float) -> dict[str, Any]:
        per_s = self.acked / self.elapsed_s if self.elapsed_s else 0.0
        return {
            "acked": self.acked,
            "per_s": round(per_s, 1),
            "ratio": round(per_s / noop_per_s, 3) if noop_per_s else 0.0,
            "cpu_us_per_event": {
                group: None if seconds is None or not self.acked else round(seconds / self.acked * 1e6, 1)
                for group, seconds in self.cpu_s.items()
            },
            "idle_share": (
                round(self.idle_s / (self.elapsed_s * (os.cpu_count() or 1)), 3)
                if self.idle_s is not None and self.elapsed_s
                else None
            ),
        }


@contextmanager
def _servers(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """Every server of the comparison, started: (the environment clients sign with, name -> base URL)."""
    with scratch_database(args.postgres_url) as database_url:
        port = free_port()
        env = load.receiver_environment(database_url, args.redis_url, port, workdir / "data")
        load.run_migrations(env)
        # Every server verifies with the receiver's settings (its public URL included), so one client
        # environment signs for all of them.
        processes = {
            "receiver": load.ReceiverProcess(env, port, args.workers, workdir / "receiver.log"),
            "free_database": StandInProcess(
                {**env, COMMIT_MS_VARIABLE: str(args.commit_ms)}, free_port(), args.workers, workdir / "free.log"
            ),
            "no_database": StandInProcess(
                {**env, COMMIT_MS_VARIABLE: "0"}, free_port(), args.workers, workdir / "none.log"
            ),
        }
        started: list[load.ReceiverProcess] = []
        try:
            for process in processes.values():
                process.start()
                started.append(process)
            with load.noop_server(args.workers, workdir / "noop.log", env) as noop_url:
                yield env, {**{name: process.url for name, process in processes.items()}, "noop": noop_url}
        finally:
            for process in started:
                process.stop()


def _cpu_delta(before: Mapping[str, float | None], after: Mapping[str, float | None]) -> dict[str, float | None]:
    delta: dict[str, float | None] = {}
    for group, seconds in after.items():
        earlier = before.get(group)
        delta[group] = None if seconds is None or earlier is None else seconds - earlier
    return delta


def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    blocks = [args.events // args.rounds + (1 if i < args.events % args.rounds else 0) for i in range(args.rounds)]
    totals: dict[str, _Totals] = {}
    admin = sa.create_engine(args.postgres_url, poolclass=sa.NullPool)
    try:
        with _servers(args, workdir) as (env, servers):
            database = make_url(env["SYNCSTORE_DATABASE_URL"]).database or ""
            names = list(servers)
            for round_index, size in enumerate(blocks):
                for name in names if round_index % 2 == 0 else names[::-1]:
                    url = servers[name]
                    # A server's processes are found by the port on their command line (uvicorn's parent).
                    marker = f"--port {url.rsplit(':', 1)[1]} "
                    before, backends_before = _cpu_by_group(marker, _backend_pids(admin, database))
                    report = run_load(url, env, workdir, f"{name}-{round_index}", size, args.concurrency)
                    after, backends_after = _cpu_by_group(marker, _backend_pids(admin, database) | set(backends_before))
                    cpu = _cpu_delta(before, after)
                    cpu["postgres"] = _backends_delta(backends_before, backends_after)
                    cpu["client"] = report.cpu_s
                    totals.setdefault(name, _Totals()).add(
                        len(report.acked), report.elapsed_s, report.machine_idle_s, cpu
                    )
    finally:
        admin.dispose()
    noop = totals["noop"]
    noop_per_s = noop.acked / noop.elapsed_s if noop.elapsed_s else 0.0
    return {
        "events": args.events,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "commit_ms": args.commit_ms,
        **{name: total.figures(noop_per_s) for name, total in totals.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_ceiling", description=__doc__.split("\n\n")[0])
    add_load_arguments(parser)
    parser.add_argument("--commit-ms", type=float, default=1.0, help="the free database's time per batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syncstore-bench-ceiling-") as scratch:
        figures = bench(args, Path(scratch))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
