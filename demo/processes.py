# A child process of the demo: its own process group, its log file, a console prefix, readiness and a clean stop.
"""Child processes, each in its own process group.

Each child runs in a new session (so the terminal's Ctrl-C reaches only the supervisor, which stops
the children in order) and, on Linux, is told to receive SIGTERM if the supervisor dies without
stopping it. Its output goes to `<logs>/<name>.log`; lines that look like warnings or errors are
echoed on the console behind a short prefix (`[shopee]`, `[dagster]`...). Stopping sends SIGTERM to
the leader, then the whole group, waits until no process of the group is left, and SIGKILLs what
remains after the grace period: `dagster dev` and uvicorn workers have children of their own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Final

import httpx

from syncstore.errors import SyncStoreError

_NOTEWORTHY: Final = re.compile(r"\b(ERROR|CRITICAL|WARNING|Traceback|Error:|Exception)\b")
# Warnings every child logs that the supervisor has already said once on the console (kept in the logs).
_SAID_ONCE: Final = re.compile(r"encrypted with the local key file")
_PR_SET_PDEATHSIG: Final = 1
TAIL_LINES: Final = 40


class DemoError(SyncStoreError):
    """The demo cannot go on (a child failed to start or died, a shop did not connect...)."""


def _die_with_parent() -> None:
    """In the child before exec: a new session, and SIGTERM when the supervisor's thread dies (Linux).

    SIGTERM and SIGINT are put back to their defaults and unblocked: an ignored or blocked signal is
    inherited across exec, and a child that ignored the supervisor's SIGTERM would cost its whole grace.
    """
    os.setsid()
    _default_stop_signals()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _default_stop_signals() -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    if not Path("/proc").is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


class Child:
    """One supervised process."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_dir: Path,
        console: bool = True,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.cwd = cwd
        self.log_file = log_dir / f"{name}.log"
        self.console = console
        self._echo = echo or (lambda line: print(line, file=sys.stderr, flush=True))
        self.process: subprocess.Popen[bytes] | None = None
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._relay: threading.Thread | None = None
        self.stopping = False

    # --- running -----------------------------------------------------------------------------

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(self.command)}\n".encode())
        log.flush()
        self.process = subprocess.Popen(  # noqa: S603 (our own commands, argument lists, no shell)
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        assert self.process.stdout is not None
        self._relay = threading.Thread(
            target=self._copy, args=(self.process.stdout, log), daemon=True, name=f"relay-{self.name}"
        )
        self._relay.start()

    def _copy(self, source: IO[bytes], log: IO[bytes]) -> None:
        with log:
            for raw in iter(source.readline, b""):
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip()
                self.tail.append(line)
                if self.console and not self.stopping and _NOTEWORTHY.search(line) and not _SAID_ONCE.search(line):
                    self._echo(f"[{self.name}] {line}")

    @property
    def pid(self) -> int:
        if self.process is None:
            raise DemoError(f"{self.name} was not started")
        return self.process.pid

    def exit_code(self) -> int | None:
        """None while running; the exit code once it ended."""
        return None if self.process is None else self.process.poll()

    def describe_exit(self) -> str:
        code = self.exit_code()
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        lines = "\n".join(f"    {line}" for line in list(self.tail)[-15:])
        return f"{self.name} {how}; its log is {self.log_file}; last lines:\n{lines}"

    def wait_http(self, url: str, timeout_s: float) -> None:
        """Block until GET `url` answers below 500; DemoError if the child exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=3) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(url).status_code < 500:
                        return
                if self.exit_code() is not None:
                    raise DemoError(self.describe_exit())
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"{self.name} did not answer at {url} within {timeout_s:.0f} s (log: {self.log_file})"
                    )
                time.sleep(0.2)

    # --- stopping ------------------------------------------------------------------------------

    def stop(self, grace_s: float = 15.0) -> list[int]:
        """SIGTERM the leader, then the group, wait for it to empty, SIGKILL leftovers; the pids killed.

        The leader goes first so a parent (`dagster dev`) can stop its own children in order; what is
        left of the group when the leader has gone gets SIGTERM, and SIGKILL after `grace_s`.
        """
        if self.process is None:
            return []
        self.stopping = True
        pgid = self.process.pid  # the child leads its own group (setsid)
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace_s / 2)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        while time.monotonic() < deadline and group_members(pgid):
            time.sleep(0.1)
        killed = group_members(pgid)
        if killed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        if self._relay is not None:
            self._relay.join(timeout=2)
        return killed
