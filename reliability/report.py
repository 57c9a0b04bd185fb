"""The run's report: a terminal table and JSON (reliability/out/report.json)."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


HEADLINES = ("requests", "errors", "throughput_rps", "booked", "cancelled", "booked_during",
             "sessions_after_recovery", "adopted", "creates_total", "worker_survived", "cut_mid_request",
             "failed_cleanly", "non_problem_errors", "after_ok", "series_written", "series_acknowledged",
             "refused_correctly", "recreated_meeting", "operations_tested", "cases", "server_errors",
             "cells_checked", "leaks", "token_bits", "old_link_after_rotation", "account_attempt_first_429",
             "retry_after_s", "responses_checked", "console_errors", "csp_violations", "settle_seconds")


def _compact(value):
    return len(value) if isinstance(value, (list, dict)) else value


def _summary(result: dict) -> str:
    figures = result.get("figures", {})
    bits = [f"{key}={_compact(figures[key])}" for key in HEADLINES if key in figures]
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
