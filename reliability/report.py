"""The run's report: a terminal table and JSON (reliability/out/report.json)."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def _summary(result: dict) -> str:
    figures = result.get("figures", {})
    bits = []
    for key in ("requests", "errors", "throughput_rps", "booked", "cancelled", "server_errors",
                "non_problem_errors", "cases", "checked", "leaks", "recovered_after_s", "settle_seconds"):
        if key in figures:
            bits.append(f"{key}={figures[key]}")
    broken = {k: v for k, v in result.get("invariants", {}).get("violations", {}).items() if v}
    if broken:
        bits.append(f"BROKEN={broken}")
    if result.get("error"):
        bits.append(f"error={result['error'][:120]}")
    return ", ".join(bits)


def render(report: dict) -> str:
    lines = [f"Therabee reliability run {report['started']} ({report['seconds']} s) — "
             f"{'PASS' if report['ok'] else 'FAIL'}", ""]
    width = max(len(name) for name in report["scenarios"]) if report["scenarios"] else 10
    lines.append(f"{'scenario':<{width}}  result  figures")
    lines.append("-" * (width + 60))
    for name, result in report["scenarios"].items():
        verdict = "ok" if result.get("ok") else "FAIL"
        lines.append(f"{name:<{width}}  {verdict:<6}  {_summary(result)}")
    load = report["scenarios"].get("load", {}).get("figures", {}).get("endpoints")
    if load:
        lines += ["", "load, per endpoint:",
                  f"  {'endpoint':<32} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"]
        for endpoint, row in load.items():
            lines.append(f"  {endpoint:<32} {row['requests']:>8} {row['errors']:>6} {row['p50_ms']:>8} "
                         f"{row['p95_ms']:>8} {row['p99_ms']:>8}")
    return "\n".join(lines)


def write(scenarios: dict, started: datetime, seconds: float, path: Path | None = None) -> dict:
    report = {
        "started": started.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "ok": all(r.get("ok") for r in scenarios.values()),
        "scenarios": scenarios,
    }
    path = path or OUT / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report


def now() -> datetime:
    return datetime.now(timezone.utc)
