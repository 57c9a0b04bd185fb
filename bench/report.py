"""Figures from a finished run: the JSON, the terminal table, the chart."""

from __future__ import annotations

import statistics

from rich.console import Console
from rich.table import Table

console = Console(width=None if Console().is_terminal else 140)


def step(message: str) -> None:
    console.print(f"[dim]· {message}[/dim]")


def percentiles(samples: list[float]) -> dict:
    """p50/p95 in milliseconds (nearest rank) and the sample count."""
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered) + 0.5) - 1))]

    return {"p50_ms": round(rank(0.50) * 1000, 2), "p95_ms": round(rank(0.95) * 1000, 2), "n": len(ordered),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 2)}


def results(sim, floor: int, config: dict, args, mode: str) -> dict:
    w = sim.w
    sides = {}
    for name, side in sim.sides.items():
        total = side.writes[-1][1] if side.writes else 0
        video = {k: v for k, v in side.calls.items() if k != "token"}
        sides[name] = {
            "rows_written_half_year": total,
            "video_api_calls": sum(video.values()),
            "video_api_calls_by_kind": dict(sorted(video.items())),
            "oauth_token_calls": side.calls.get("token", 0),
            "booking_latency_half_year": percentiles(side.booking_seconds),
            "errors": len(side.errors),
            "first_errors": side.errors[:10],
            "writes_over_time": side.writes,
            "scheduler_seconds": round(side.seconds, 1),
        }
    eager_useful, eager_wasted = sim.eager.waste()
    sides["eager"]["wasted_rows"] = eager_wasted
    waste = sim.intent.waste(w.end)
    sides["intent"]["wasted_rows"] = waste["wasted"]
    sides["eager"]["weekly_top_up_seconds"] = [round(s, 2) for s in sim.topups]
    sides["intent"]["horizon_ticks_run"] = sim.ticks
    counts = w.counts
    return {
        "mode": mode,
        "command": "make bench" if mode == "full" else "make bench-quick",
        "config": {**config, "seed": args.seed, "weeks": round((w.end - w.start).days / 7),
                   "horizon_hours": 72, "conflict_window_weeks": 52},
        "population": {"therapists": len(w.therapists), "series": len(w.series)},
        "events": counts,
        "floor_rows": floor,
        "sessions_taken_place": counts.get("complete", 0),
        "checks": sim.checks(),
        "intent": sides["intent"],
        "eager": sides["eager"],
    }


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def derive(r: dict) -> list[tuple[str, str, str, str]]:
    """(figure, intent-driven, eager, eager ÷ intent-driven) rows of the table."""
    i, e, p = r["intent"], r["eager"], r.get("probes", {})
    rows = []

    def ratio(a, b):
        return f"{b / a:,.1f}×" if a and b is not None else "–"

    bi, be = p.get("booking_rows", {}).get("intent"), p.get("booking_rows", {}).get("eager")
    rows.append(("rows written at booking, per series", _fmt(bi, 2), _fmt(be, 1), ratio(bi, be)))
    rows.append(("rows written over the half year", _fmt(i["rows_written_half_year"]),
                 _fmt(e["rows_written_half_year"]), ratio(i["rows_written_half_year"], e["rows_written_half_year"])))
    rows.append(("  of which wasted (occurrences that never took place)", _fmt(i["wasted_rows"]),
                 _fmt(e["wasted_rows"]), ratio(i["wasted_rows"], e["wasted_rows"])))
    rows.append(("the floor (same for both)", _fmt(r["floor_rows"]), _fmt(r["floor_rows"]), ""))
    rows.append(("rows ÷ floor", _fmt(i["rows_written_half_year"] / r["floor_rows"], 2),
                 _fmt(e["rows_written_half_year"] / r["floor_rows"], 2), ""))
    rows.append(("video API calls (create/update/delete/get/list)", _fmt(i["video_api_calls"]),
                 _fmt(e["video_api_calls"]), ratio(i["video_api_calls"], e["video_api_calls"])))
    for key, label in (("booking_latency", "booking latency p50 / p95 ms"),
                       ("week_view", "week-view latency p50 / p95 ms"),
                       ("free_slots", "free-slot search p50 / p95 ms")):
        li, le = p.get(key, {}).get("intent", {}), p.get(key, {}).get("eager", {})
        rows.append((label, f"{_fmt(li.get('p50_ms'), 2)} / {_fmt(li.get('p95_ms'), 2)}",
                     f"{_fmt(le.get('p50_ms'), 2)} / {_fmt(le.get('p95_ms'), 2)}",
                     ratio(li.get("p95_ms"), le.get("p95_ms"))))
    tick = p.get("tick", {})
    if tick:
        rows.append((f"materialization tick, {tick['total_series']:,} series, one minute's due set "
                     f"({tick['minute_due_set']:,})", f"{_fmt(tick['minute_seconds'], 3)} s",
                     f"{_fmt(tick.get('eager_top_up_projected_seconds'), 0)} s (weekly top-up, projected)", ""))
    return rows


def table(r: dict) -> None:
    t = Table(title=f"Therabee (intent-driven) vs eager — {r['mode']} run, {r['population']['series']:,} series, "
                    f"{r['config']['weeks']} weeks")
    for column in ("figure", "intent-driven", "eager", "eager ÷ intent"):
        t.add_column(column, justify="left" if column == "figure" else "right")
    for row in derive(r):
        t.add_row(*row)
    console.print(t)
    tick = r.get("probes", {}).get("tick", {})
    if tick:
        console.print("tick vs due series (all series fixed): "
                      + ", ".join(f"{d:,} due → {s:.3f} s" for d, s in tick["by_due"]))
        console.print("tick vs all series (due fixed): "
                      + ", ".join(f"{n:,} series → {s:.3f} s" for n, s in tick["by_total"]))
    for name in ("intent", "eager"):
        if r[name]["errors"]:
            console.print(f"[red]{name}: {r[name]['errors']} errors[/red], first: {r[name]['first_errors'][:3]}")


def chart(r: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for name, label, style in (("eager", "eager (26 weeks written ahead)", "-"),
                               ("intent", "Therabee (intent-driven)", "-")):
        points = r[name]["writes_over_time"]
        ax.plot([d / 7 for d, _ in points], [n for _, n in points], style, label=label, linewidth=2)
    ax.axhline(r["floor_rows"], color="grey", linestyle=":", label="the floor (whole run)")
    ax.set_xlabel("simulated week")
    ax.set_ylabel("rows written (pg_stat_user_tables, cumulative)")
    ax.set_title(f"Rows written over the half year — {r['population']['series']:,} series, seed {r['config']['seed']}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
