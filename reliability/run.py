"""`python -m reliability.run`: every scenario against the real app, one report.

    python -m reliability.run                      # all scenarios (what `make reliability` runs)
    python -m reliability.run --only load,faults.redis_restart --duration 20

Each scenario ends on the invariant check; the run exits 1 when any scenario fails.
The report goes to reliability/out/report.json (and `--save` copies it to
reliability/results/latest.json). Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from therabee.progress import progress

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _prepare_environment() -> None:
    """This process reads the same database as the app (the checker, the fixtures)."""
    from reliability.env import database_url

    os.environ["THERABEE_DATABASE_URL"] = database_url()
    os.environ.setdefault("THERABEE_JWT_SECRET", "reliability-runner-" + "r" * 32)
    os.environ.pop("THERABEE_REDIS_URL", None)


# name -> "module:function" (a callable(env) -> result dict), in the order they run
SCENARIOS = {
    "load": "load:run_load",
    "faults.worker_killed_in_horizon_job": "faults:worker_killed_in_horizon_job",
    "faults.worker_killed_in_meeting_create": "faults:worker_killed_in_meeting_create",
    "faults.redis_restart": "faults:redis_restart",
    "faults.postgres_connections_dropped": "faults:postgres_connections_dropped",
    "faults.zoom_errors": "faults:zoom_errors",
    "faults.webhooks": "faults:webhooks",
    "hostile.schemathesis": "hostile:schemathesis_run",
    "hostile.bad_input": "hostile:bad_input",
    "hostile.oversized_and_deep": "hostile:oversized_and_deep",
    "access.matrix": "access:matrix",
    "access.feed_token": "access:feed_token",
    "access.brute_force": "access:brute_force",
    "security.headers_and_cors": "access:headers_and_cors",
    "security.ui_csp_chromium": "ui:ui_under_csp",
}


def scenario(name: str, args):
    """The callable(env) -> result of one scenario (its module imported when it runs)."""
    import importlib

    module, function = SCENARIOS[name].split(":")
    run = getattr(importlib.import_module(f"reliability.{module}"), function)
    if name == "load":
        return lambda env: run(env, users=args.users, duration=args.duration, max_requests=args.max_requests)
    if name == "hostile.schemathesis":
        return lambda env: run(env, args.examples, args.fuzz_seconds)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated scenario names (prefixes match)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=6000)
    parser.add_argument("--examples", type=int, default=15, help="schemathesis examples per operation")
    parser.add_argument("--fuzz-seconds", type=int, default=120, help="schemathesis time budget")
    parser.add_argument("--save", action="store_true", help="also write reliability/results/latest.json")
    parser.add_argument("--out", type=Path, help="where the JSON report goes (default reliability/out/report.json)")
    args = parser.parse_args(argv)
    _prepare_environment()

    from reliability import report
    from reliability.env import Env

    chosen = list(SCENARIOS)
    if args.only:
        prefixes = [p.strip() for p in args.only.split(",") if p.strip()]
        chosen = [name for name in SCENARIOS if any(name.startswith(p) for p in prefixes)]
    started, clock = report.now(), time.monotonic()
    results: dict[str, dict] = {}
    workdir = Path(tempfile.mkdtemp(prefix="therabee-reliability-"))
    env = Env(workdir)
    try:
        with progress("starting the app and a worker"):
            env.start()
        for name in chosen:
            print(f"== {name}", flush=True)
            began = time.monotonic()
            try:
                with progress(name):
                    result = scenario(name, args)(env)
            except Exception as exc:  # a scenario that crashes fails, the others still run
                result = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                          "traceback": traceback.format_exc()[-3000:]}
            result["seconds"] = round(time.monotonic() - began, 1)
            results[name] = result
            print(f"   {'ok' if result.get('ok') else 'FAIL'} in {result['seconds']} s", flush=True)
            if not env.api.alive() or not env.worker.alive():
                print("   (restarting a dead API or worker)", flush=True)
                if not env.api.alive():
                    env.api.start()
                if not env.worker.alive():
                    env.start_worker()
    finally:
        env.stop()
    final = report.write(results, started, time.monotonic() - clock, args.out)
    print()
    print(report.render(final))
    print(f"\nreport: {args.out or report.OUT / 'report.json'}")
    if args.save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(final, indent=2, default=str) + "\n")
        print(f"saved: {RESULTS}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if final["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
