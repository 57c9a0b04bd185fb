"""The reliability runner end to end, small: the real stack on 127.0.0.1 (granian, a
private Redis, a Celery worker, the fake Zoom), a short load, the access matrix, hostile
bodies and webhooks — each ending on the invariant check. `make reliability` runs it all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reliability.database import drop_database, sibling_url
from tests.conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = "load,faults.webhooks,hostile.bad_input,hostile.oversized_and_deep,access.matrix,access.brute_force"


def test_a_small_run_passes_every_scenario_and_invariant(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed; the reliability runner needs it")
    database = sibling_url(TEST_DATABASE_URL, "smoke")
    out = tmp_path / "report.json"
    env = {**os.environ, "THERABEE_RELIABILITY_DATABASE_URL": database}
    try:
        process = subprocess.run(
            [sys.executable, "-m", "reliability.run", "--only", SCENARIOS, "--users", "10", "--duration", "5",
             "--max-requests", "300", "--out", str(out)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    finally:
        drop_database(database)
    assert out.exists(), process.stdout[-3000:] + process.stderr[-3000:]
    report = json.loads(out.read_text())
    failed = {name: r for name, r in report["scenarios"].items() if not r["ok"]}
    assert failed == {} and process.returncode == 0, json.dumps(failed, default=str)[:4000]
    assert set(report["scenarios"]) == set(SCENARIOS.split(","))
    assert "load: started" in process.stdout and "load: finished" in process.stdout  # progress in logs
    load = report["scenarios"]["load"]["figures"]
    assert load["requests"] > 50 and load["errors"] == 0
    assert report["scenarios"]["load"]["invariants"]["ok"]
