# The TikTok Shop simulator's persistence: saving its state to a file.
"""`PersistenceMixin` writes the state as JSON (atomically); `TikTokShopSimulator.load` builds a simulator
from such a file."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.tiktokshop.simulator.core import SimulatorCore


class PersistenceMixin(SimulatorCore):
    """Saving the state of `TikTokShopSimulator`."""

    def save(self, path: Path) -> None:
        with self._lock:
            text = json.dumps(self.state.to_dict(), indent=1)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
