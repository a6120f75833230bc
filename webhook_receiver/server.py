# How the receiver is served: uvicorn with header/body deadlines, a connection cap and no trust in forwarded headers.
"""Serving the receiver (S5, S6): what `syncstore receiver run` execs (`python -m webhook_receiver.server`).

The command line is uvicorn's (``webhook_receiver.app:create_app --factory --host H --port P
--workers K --log-level L --no-access-log --timeout-graceful-shutdown S``); the limits come from
SYNCSTORE_* settings, so every worker process reads the same ones:

- Header deadline (``SYNCSTORE_RECEIVER_HEADER_TIMEOUT_SECONDS``, 10 s): a connection must deliver a
  request's complete headers within this long of opening, or of the end of its previous answer,
  else it is closed. uvicorn has no such deadline (its keep-alive timer starts only after a first
  answer and stops at the first byte of the next request), so a client that connects and sends
  nothing, or a header a byte at a time (slowloris), would hold its socket for ever.
  `GuardedHttpProtocol` adds it to uvicorn's httptools protocol. Headers are also capped at
  `MAX_HEADER_BYTES` (64 KiB; over it: 400 and closed).
- Body deadline (``SYNCSTORE_RECEIVER_BODY_TIMEOUT_SECONDS``, 30 s): in the app, where the body is
  read (`webhook_receiver.body.read_body`): 408 and the connection closed.
- Keep-alive (``SYNCSTORE_RECEIVER_KEEP_ALIVE_SECONDS``, 5 s): uvicorn's ``timeout_keep_alive``.
- Connection cap (``SYNCSTORE_RECEIVER_MAX_CONNECTIONS``, 1000 per worker, and never more than the
  process' open-file limit less `FD_RESERVE` for the database, Redis and logs): past it, the
  OLDEST connection still waiting for its headers is closed to make room (an idle or half-sent
  connection is what a flood is made of; a genuine sender sends its headers at once); if every
  open connection has a request in progress, the new one is closed. So idle sockets can neither
  exhaust the file descriptors nor keep a signed webhook out. Every request in progress holds a
  connection, so the cap is also the cap on concurrent requests.
- Forwarded headers: uvicorn's proxy-headers rewriting is OFF (it trusts loopback by default);
  `webhook_receiver.proxies` believes X-Forwarded-For only from ``SYNCSTORE_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import weakref
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Final

import uvicorn
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from syncstore.settings import Settings, get_settings

APP: Final = "webhook_receiver.app:create_app"
PROTOCOL: Final = "webhook_receiver.server:GuardedHttpProtocol"
# File descriptors kept free for what a worker opens besides client sockets (database, Redis, logs, ...).
FD_RESERVE: Final = 64
MAX_HEADER_BYTES: Final = 65_536
log = logging.getLogger("syncstore.receiver")


def connection_cap(settings: Settings) -> int:
    """Open client connections one worker allows: the setting, kept below the open-file limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return settings.receiver_max_connections
    return max(2, min(settings.receiver_max_connections, soft - FD_RESERVE))


class ConnectionGuard:
    """The open connections of one server (one worker), and those of them waiting for headers, oldest first."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: set[GuardedHttpProtocol] = set()
        self.waiting: dict[GuardedHttpProtocol, None] = {}  # insertion order = oldest first
        self.shed = 0

    def admit(self, protocol: GuardedHttpProtocol) -> None:
        """Count a new connection; over the cap, close the oldest waiting one (perhaps this one)."""
        self.open.add(protocol)
        while len(self.open) > self.cap:
            victim = next(iter(self.waiting), protocol)
            self.shed += 1
            victim.close("the receiver is at its connection cap")
            if victim is protocol:
                return

    def forget(self, protocol: GuardedHttpProtocol) -> None:
        self.open.discard(protocol)
        self.waiting.pop(protocol, None)


_guards: weakref.WeakKeyDictionary[ServerState, ConnectionGuard] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=1)
def _limits() -> tuple[float, int]:
    settings = get_settings()
    return settings.receiver_header_timeout_seconds, connection_cap(settings)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, a header size cap and the connection cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout_s, cap = _limits()
        guard = _guards.get(server_state)
        if guard is None:
            guard = _guards[server_state] = ConnectionGuard(cap)
        self.guard = guard
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()
        self.guard.admit(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self.guard.forget(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._header_deadline is not None and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._stop_waiting()
                self.send_400_response("Request headers are too large")

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # No pipelined request was started: the connection waits for the next request's headers.
        if not self.transport.is_closing() and self.timeout_keep_alive_task is not None:
            self._await_headers()

    def close(self, why: str) -> None:
        """Close this connection (shed or out of time); no answer is owed, none has been asked for."""
        self._stop_waiting()
        self.guard.forget(self)
        if not self.transport.is_closing():
            log.debug("closing a connection from %s: %s", self.client[0] if self.client else "?", why)
            self.transport.close()

    def _await_headers(self) -> None:
        self._stop_waiting()
        self._header_bytes = 0
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_late)
        self.guard.waiting[self] = None

    def _stop_waiting(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        self.guard.waiting.pop(self, None)

    def _headers_too_late(self) -> None:
        self._header_deadline = None
        self.close(f"no complete request headers within {self.header_timeout_s:g} s")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options that bound what a client can hold (see the module doc)."""
    return {
        "http": PROTOCOL,
        "ws": "none",
        "proxy_headers": False,
        "timeout_keep_alive": settings.receiver_keep_alive_seconds,
        "limit_concurrency": None,  # uvicorn's counts idle connections too: GuardedHttpProtocol caps instead
    }


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8100,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = False,
    timeout_graceful_shutdown: int | None = 10,
    app: str = APP,
) -> None:
    """Serve the receiver until stopped (blocks)."""
    uvicorn.run(
        app,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
        **uvicorn_options(get_settings()),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m webhook_receiver.server`, with the command line `syncstore receiver run` gives uvicorn."""
    parser = argparse.ArgumentParser(prog="python -m webhook_receiver.server", description=__doc__.splitlines()[0])
    parser.add_argument("app", nargs="?", default=APP, help=f"the app factory (default {APP})")
    parser.add_argument("--factory", action="store_true", help="accepted for uvicorn's command line; always on")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=10)
    args = parser.parse_args(argv)
    serve(
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        timeout_graceful_shutdown=args.timeout_graceful_shutdown,
        app=args.app,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
