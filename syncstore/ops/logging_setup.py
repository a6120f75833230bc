# Logging for every face: SYNCSTORE_LOG_LEVEL sets SyncStore's loggers, one stderr handler, libraries kept quiet.
"""`configure_logging(settings)`: call it once at the start of each process (the CLI, the receiver,
the events worker, the Dagster definitions).

- SyncStore's own loggers (`OUR_LOGGERS`: syncstore, connectors, webhook_receiver, pipelines, assets,
  streamlit_app, demo) take `SYNCSTORE_LOG_LEVEL` (DEBUG, INFO, WARNING, ERROR, CRITICAL; any case).
  An unknown level fails loudly (InvalidInput naming the setting) rather than logging nothing.
- The root logger gets one stderr handler (`%(asctime)s %(levelname)s %(name)s: %(message)s`) unless
  it already has handlers (Dagster, uvicorn and pytest install their own); calling again adds none.
- Libraries stay at WARNING: SQLAlchemy in particular logs statements with their parameters at INFO,
  and parameters may be ciphertexts or other values that have no place in a log.
"""

from __future__ import annotations

import logging
import sys
from typing import Final

from syncstore.errors import InvalidInput, msg
from syncstore.settings import Settings, get_settings

OUR_LOGGERS: Final = ("syncstore", "connectors", "webhook_receiver", "pipelines", "assets", "streamlit_app", "demo")
QUIET_LIBRARIES: Final = ("sqlalchemy", "httpx", "httpcore", "alembic")
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_LEVELS: Final = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING,
                  "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL}  # fmt: skip
_MARK: Final = "_syncstore_handler"


def parse_level(text: str) -> int:
    """The numeric level named by `text`; InvalidInput naming SYNCSTORE_LOG_LEVEL otherwise."""
    level = _LEVELS.get(text.strip().upper())
    if level is None:
        allowed = ", ".join(_LEVELS)
        raise InvalidInput(
            {"SYNCSTORE_LOG_LEVEL": msg("{text!r} is no log level; use one of {allowed}", text=text, allowed=allowed)}
        )
    return level


def configure_logging(settings: Settings | None = None) -> int:
    """Apply SYNCSTORE_LOG_LEVEL to SyncStore's loggers and make sure their records reach stderr.

    Returns the level set. Safe to call more than once (one handler; the level follows the last call).
    """
    level = parse_level((settings or get_settings()).log_level)
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in QUIET_LIBRARIES:
        library = logging.getLogger(name)
        if library.level == logging.NOTSET or library.level < logging.WARNING:
            library.setLevel(logging.WARNING)
    root = logging.getLogger()
    ours: list[logging.Handler] = [handler for handler in root.handlers if getattr(handler, _MARK, False)]
    if not root.handlers:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter(FORMAT))
        setattr(stream, _MARK, True)
        root.addHandler(stream)
        ours = [stream]
    for handler in ours:
        handler.setLevel(level)
    return level
