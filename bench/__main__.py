"""`python -m bench [--quick] [--scale S] [--seed N] [--out DIR]`: the WORKLOAD.md run."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import db
from therabee.progress import progress
from therabee.testing.databases import drop_database, migrate, recreate_database

DEFAULTS = {  # full: the standard population; quick: a tenth of it, smaller probes
    "full": dict(scale=1.0, probe_therapists=5, big_series=100_000, samples=200),
    "quick": dict(scale=0.1, probe_therapists=2, big_series=10_000, samples=40),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small scale that runs in about a minute")
    parser.add_argument("--scale", type=float, help="multiplies therapists and clients (default 1, quick 0.1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--big-series", type=int, help="series in the database for the latency probes")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--tag", help="database name suffix (default: full or quick)")
    parser.add_argument("--keep-db", action="store_true", help="leave the two bench databases in place")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    config = dict(DEFAULTS[mode])
    if args.scale is not None:
        config["scale"] = args.scale
    if args.big_series is not None:
        config["big_series"] = args.big_series
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from therabee.testing.fake_zoom import start_fake_zoom

    fake = start_fake_zoom()
    suffix = args.tag or mode
    urls = {"intent": db.url(f"therabee_bench_intent_{suffix}"), "eager": db.url(f"therabee_bench_eager_{suffix}")}
    # settings are read once: point Therabee at its bench database and the fake Zoom first
    os.environ["THERABEE_DATABASE_URL"] = urls["intent"]
    os.environ.setdefault("THERABEE_JWT_SECRET", "bench-secret-" + "x" * 40)
    os.environ.pop("THERABEE_REDIS_URL", None)
    for key, value in fake.settings_overrides().items():
        os.environ[f"THERABEE_{key.upper()}"] = value
    for url in urls.values():
        recreate_database(url)
    migrate(urls["intent"])

    from bench import probes, report
    from bench.eager import Eager
    from bench.intent import HttpServer, Intent
    from bench.simulate import Simulation
    from bench.workload import build, floor_rows
    from therabee.video.zoom.client import ZoomClient

    began = time.perf_counter()
    workload = build(config["scale"], args.seed)
    server = HttpServer(_free_port())
    http = server.start()
    intent = Intent(http)
    o = fake.settings_overrides()
    eager = Eager(urls["eager"], ZoomClient(account_id=o["zoom_account_id"], client_id=o["zoom_client_id"],
                                            client_secret=o["zoom_client_secret"], oauth_url=o["zoom_oauth_url"],
                                            api_url=o["zoom_api_url"]))
    eager.create_schema()
    sim = Simulation(workload, intent, eager, fake, urls)
    try:
        with progress("setting up therapists and clients"):
            sim.setup()
        with progress("simulating the half year (events)", len(workload.events)) as advance:
            sim.run(advance)
        results = report.results(sim, floor_rows(workload), config, args, mode)
        with progress("latency probes"):
            results["probes"] = probes.run_all(sim, config, report.step)
        results["wall_seconds"] = round(time.perf_counter() - began, 1)
        results["machine"] = _machine()
        results["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
        report.chart(results, out / "writes.png")
        report.table(results)
        print(f"wrote {out / 'results.json'} and {out / 'writes.png'}")
    finally:
        server.stop()
        fake.stop()
        if not args.keep_db:
            from therabee.db.engine import get_engine

            get_engine().dispose()
            eager.engine.dispose()
            for url in urls.values():
                drop_database(url)
    return 0


def _machine() -> dict:
    memory = 0
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        pass
    return {"cores": os.cpu_count(), "memory_gb": round(memory / 2**30, 1), "python": sys.version.split()[0],
            "platform": platform.platform()}


if __name__ == "__main__":
    sys.exit(main())
