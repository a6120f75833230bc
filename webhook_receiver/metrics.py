# Receiver metrics in the Prometheus text exposition format: requests, outcomes, rejections, latency, batches.
"""Counters and histograms of one receiver process, rendered for `GET /metrics`.

Written by hand (a few lines of the text format 0.0.4) instead of pulling in a client library.
Everything is touched only from the event loop thread, so no locks. With `--workers K` each worker
process keeps its own numbers (scrape each, or run one worker per container).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

LATENCY_BUCKETS_S: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS: Final = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0)
PREFIX: Final = "syncstore_webhook"


@dataclass
class Histogram:
    buckets: Sequence[float]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.total += value
        self.count += 1
        index = bisect_left(self.buckets, value)  # the first bucket whose bound is >= value
        if index < len(self.counts):
            self.counts[index] += 1

    def lines(self, name: str, labels: str) -> Iterable[str]:
        running = 0
        sep = "," if labels else ""
        for bound, count in zip(self.buckets, self.counts, strict=True):
            running += count
            yield f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {running}'
        yield f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}'
        braces = f"{{{labels}}}" if labels else ""
        yield f"{name}_sum{braces} {self.total:.6f}"
        yield f"{name}_count{braces} {self.count}"


class Metrics:
    """What the receiver counts. Label values come from fixed sets (platforms, reasons), never from input."""

    def __init__(self, platforms: Sequence[str]) -> None:
        self.platforms = tuple(platforms)
        self.received: dict[str, int] = dict.fromkeys(self.platforms, 0)
        self.accepted: dict[str, int] = dict.fromkeys(self.platforms, 0)
        self.duplicates: dict[str, int] = dict.fromkeys(self.platforms, 0)
        self.rejected: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.latency: dict[str, Histogram] = {p: Histogram(LATENCY_BUCKETS_S) for p in self.platforms}
        self.batch_size = Histogram(BATCH_BUCKETS)
        self.batch_failures = 0
        self.redis_errors = 0
        self.nonce_hits = 0

    def count_received(self, platform: str) -> None:
        self.received[platform] += 1

    def count_accepted(self, platform: str, *, duplicate: bool, seconds: float) -> None:
        if duplicate:
            self.duplicates[platform] += 1
        else:
            self.accepted[platform] += 1
        self.latency[platform].observe(seconds)

    def count_rejected(self, platform: str, reason: str) -> None:
        self.rejected[(platform, reason)] += 1

    def render(self) -> str:
        lines: list[str] = []
        self._counter(lines, "received_total", "Webhook requests received.", self.received)
        self._counter(lines, "accepted_total", "New events stored and acknowledged.", self.accepted)
        self._counter(lines, "duplicates_total", "Already stored events acknowledged again.", self.duplicates)
        name = f"{PREFIX}s_rejected_total"
        lines += [f"# HELP {name} Webhook requests refused, by reason.", f"# TYPE {name} counter"]
        for (platform, reason), value in sorted(self.rejected.items()):
            lines.append(f'{name}{{platform="{platform}",reason="{reason}"}} {value}')
        name = f"{PREFIX}_ack_seconds"
        lines += [f"# HELP {name} Time from request to acknowledgement (2xx).", f"# TYPE {name} histogram"]
        for platform in self.platforms:
            lines.extend(self.latency[platform].lines(name, f'platform="{platform}"'))
        name = f"{PREFIX}_commit_batch_size"
        lines += [f"# HELP {name} Events written per group commit.", f"# TYPE {name} histogram"]
        lines.extend(self.batch_size.lines(name, ""))
        for suffix, help_text, value in (
            ("commit_failures_total", "Group commits that failed (their requests got 503).", self.batch_failures),
            ("redis_errors_total", "Redis calls that failed (the fallback took over).", self.redis_errors),
            ("nonce_hits_total", "Duplicates answered from Redis without writing to the database.", self.nonce_hits),
        ):
            name = f"{PREFIX}_{suffix}"
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter", f"{name} {value}"]
        return "\n".join(lines) + "\n"

    def _counter(self, lines: list[str], suffix: str, help_text: str, values: dict[str, int]) -> None:
        name = f"{PREFIX}s_{suffix}"
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
        lines.extend(f'{name}{{platform="{platform}"}} {value}' for platform, value in values.items())
