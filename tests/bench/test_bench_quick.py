"""`make bench-quick` as a smoke test: the run completes and its figures agree with each
other and with the workload. Never a timing assertion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_completes_with_consistent_figures(tmp_path):
    # captured output is not a terminal (and nothing forces rich to think it is)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("THERABEE_") and k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    run = subprocess.run([sys.executable, "-m", "bench", "--quick", "--tag", f"smoke_{os.getpid()}",
                          "--out", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # progress shows in a log: plain lines from start to end of each long step
    for what in ("simulating the half year (events)", "latency probes"):
        assert f"{what}: started" in run.stdout
        assert f"{what}: finished" in run.stdout
    r = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "writes.png").stat().st_size > 10_000
    intent, eager, checks = r["intent"], r["eager"], r["checks"]
    assert intent["errors"] == 0 and eager["errors"] == 0, (intent["first_errors"], eager["first_errors"])

    # one row per booking against a row triple per occurrence
    assert r["probes"]["booking_rows"]["intent"] == 1.0
    assert r["probes"]["booking_rows"]["eager"] > 20
    # eager writes more than Therabee, and nobody writes less than the floor
    assert eager["rows_written_half_year"] > intent["rows_written_half_year"] >= r["floor_rows"]
    assert eager["wasted_rows"] > intent["wasted_rows"]

    # every session that took place was completed on both sides
    assert checks["intent_completed"] == checks["eager_completed"] == checks["workload_completions"] > 0

    # Zoom's counts match what the databases hold
    states = checks["intent_meeting_states"]
    calls_i, calls_e = intent["video_api_calls_by_kind"], eager["video_api_calls_by_kind"]
    assert calls_i.get("create", 0) == states.get("created", 0) + states.get("deleted", 0)
    assert calls_i.get("delete", 0) == states.get("deleted", 0)
    assert calls_e.get("create", 0) - calls_e.get("delete", 0) == checks["eager_live_meetings"]
    assert checks["fake_zoom_live_meetings"] == states.get("created", 0) + checks["eager_live_meetings"]

    # the tick figures exist for both growth directions
    tick = r["probes"]["tick"]
    assert len(tick["by_due"]) >= 2 and len(tick["by_total"]) >= 2
    for figure in ("booking_latency", "week_view", "free_slots"):
        assert r["probes"][figure]["intent"]["n"] > 0
