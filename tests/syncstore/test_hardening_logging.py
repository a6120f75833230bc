# SYNCSTORE_LOG_LEVEL is read: configure_logging sets SyncStore's loggers to it and gives them a handler.
from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from syncstore.errors import InvalidInput
from syncstore.ops.logging_setup import OUR_LOGGERS, configure_logging
from syncstore.settings import Settings


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    names = (*OUR_LOGGERS, "sqlalchemy")
    saved = (list(root.handlers), root.level, {name: logging.getLogger(name).level for name in names})
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_the_configured_level_governs_syncstores_loggers(capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger().handlers[:] = []  # as in a fresh process (pytest puts its capture handlers back after)
    assert configure_logging(Settings(_env_file=None, log_level="debug")) == logging.DEBUG  # type: ignore[call-arg]
    assert logging.getLogger("syncstore.workers.dispatch").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("webhook_receiver.app").isEnabledFor(logging.DEBUG)
    logging.getLogger("syncstore.workers.dispatch").debug("worker idle")
    assert "DEBUG syncstore.workers.dispatch: worker idle" in capsys.readouterr().err
    # Libraries stay quiet: SQL statements (with their parameters) are never logged by this.
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)

    assert configure_logging(Settings(_env_file=None, log_level="WARNING")) == logging.WARNING  # type: ignore[call-arg]
    assert not logging.getLogger("syncstore.sync.engine").isEnabledFor(logging.INFO)
    logging.getLogger("syncstore.sync.engine").warning("shop paused")
    err = capsys.readouterr().err
    assert err.count("shop paused") == 1  # one handler, however often it is called


def test_the_environment_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCSTORE_LOG_LEVEL", "ERROR")
    assert configure_logging(Settings(_env_file=None)) == logging.ERROR  # type: ignore[call-arg]
    assert not logging.getLogger("pipelines.sensors").isEnabledFor(logging.WARNING)


def test_an_unknown_level_fails_loudly_naming_the_setting() -> None:
    with pytest.raises(InvalidInput, match="SYNCSTORE_LOG_LEVEL"):
        configure_logging(Settings(_env_file=None, log_level="LOUD"))  # type: ignore[call-arg]
