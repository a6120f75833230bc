# The Shopee simulator's persistence: saving its state to a file, now or every few seconds.
"""`PersistenceMixin` writes the state as JSON (atomically), now or every few seconds; `ShopeeSimulator.load`
builds a simulator from such a file."""

from __future__ import annotations

from pathlib import Path

from connectors.shopee.simulator.core import SimulatorCore
from connectors.simulator.common import Ticker


class PersistenceMixin(SimulatorCore):
    """Save and load of `ShopeeSimulator`."""

    def autosave(self, path: Path, every_s: float = 5.0) -> None:
        """Save the state to `path` every `every_s` seconds until stopped."""
        self._tickers.append(Ticker(every_s, lambda: self.save(path)).start())

    def save(self, path: Path) -> None:
        with self._lock:
            text = self.state.model_dump_json(indent=1)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
