# Settings come only from SYNCSTORE_* variables and .env, and work with nothing set.
from __future__ import annotations

from pathlib import Path

import pytest

from syncstore.settings import Settings


def test_defaults_need_nothing_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SYNCSTORE_DATA_DIR", "SYNCSTORE_DATABASE_URL", "SYNCSTORE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / '.syncstore' / 'syncstore.db'}"
    assert settings.redis_url is None and settings.encryption_keys is None
    assert settings.resolved_key_file == Path(".syncstore") / "keys"


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SYNCSTORE_CURRENCY=sgd\nSYNCSTORE_REDIS_URL=redis://127.0.0.1:6379/3\n")
    monkeypatch.setenv("SYNCSTORE_DATABASE_URL", "postgresql+psycopg://shop@db/syncstore")
    monkeypatch.setenv("SYNCSTORE_RETIRED_KEY_IDS", "k1, k2")
    monkeypatch.setenv("SYNCSTORE_ENCRYPTION_KEYS", "k3:c2VjcmV0")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://shop@db/syncstore"
    assert settings.redis_url == "redis://127.0.0.1:6379/3" and settings.currency == "SGD"
    assert settings.retired_key_ids == ["k1", "k2"]
    # Secrets never print.
    assert "c2VjcmV0" not in repr(settings) and "c2VjcmV0" not in str(settings.model_dump())


def test_bad_values_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCSTORE_OUTBOX_MAX_ATTEMPTS", "0")
    with pytest.raises(ValueError, match="outbox_max_attempts"):
        Settings()
