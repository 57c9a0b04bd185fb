"""What a scenario measured: requests per endpoint, statuses, latencies, errors."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[rank]


@dataclass
class Recorder:
    """Thread- and task-safe tally of calls; an error is a 5xx, a transport failure, or a
    status the scenario did not expect for that endpoint."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, int] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, status: int | str, seconds: float, expected: set[int],
               detail: str = "") -> bool:
        """Tally one call; True when it is an error."""
        error = not isinstance(status, int) or status >= 500 or status not in expected
        with self._lock:
            self.latencies[endpoint].append(seconds)
            self.statuses[endpoint][str(status)] += 1
            if error:
                self.errors[endpoint] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{endpoint} -> {status} {detail[:200]}")
        return error

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def endpoints(self) -> dict[str, dict]:
        table = {}
        for endpoint in sorted(self.latencies):
            values = sorted(self.latencies[endpoint])
            table[endpoint] = {
                "requests": len(values), "errors": self.errors.get(endpoint, 0),
                "statuses": dict(sorted(self.statuses[endpoint].items())),
                "p50_ms": round(percentile(values, 50) * 1000, 1),
                "p95_ms": round(percentile(values, 95) * 1000, 1),
                "p99_ms": round(percentile(values, 99) * 1000, 1),
            }
        return table

    def as_dict(self) -> dict:
        return {"requests": self.requests, "errors": self.error_count, "endpoints": self.endpoints(),
                "error_examples": self.examples}
