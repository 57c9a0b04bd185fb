"""Measurements after the half year: rows and latency per booking, then — with the series
table bulk-loaded to `big_series` rows — the horizon tick, the week view and free slots.

Bulk series are written straight into Therabee's database with INSERT … SELECT
generate_series (this is about the tick's cost with that many rows, not about booking
them): weekly, in UTC, started 1–26 weeks earlier, cursor at last week's occurrence,
spread over 80 half-hour slots a week (Mon–Fri 08:30–23:30 UTC), 20 per therapist.
Half-hour slots never meet the simulated population's on-the-hour sessions.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, time as clock_time, timedelta

import sqlalchemy as sa

from bench.report import percentiles
from bench.workload import SLOTS, ZONES, _first_local
from therabee.db.engine import get_engine
from therabee.scheduling.timezones import to_instant, to_local, zone
from therabee.services import clock

PROBE_SERIES = 40
BULK_SLOTS = 80
REPEATS = 3


def run_all(sim, config: dict, step) -> dict:
    found = {}
    step("booking probe: therapists filled to 40 series each, through the HTTP API")
    found.update(_bookings(sim, config["probe_therapists"]))
    big = config["big_series"]
    step(f"bulk-loading series and timing the horizon tick (up to {big:,} series)")
    found["tick"] = _ticks(sim, big)
    step("week view and free-slot search")
    found.update(_reads(sim, config["samples"]))
    return found


def _bookings(sim, n_therapists: int) -> dict:
    intent, eager = sim.intent, sim.eager
    now = clock.now()
    zones = [ZONES[i % len(ZONES)] for i in range(n_therapists)]
    therapists = intent.add_users([("therapist", z, f"probe-therapist-{i}") for i, z in enumerate(zones)])
    clients = intent.add_users([("client", zones[i // PROBE_SERIES], f"probe-client-{i}")
                                for i in range(n_therapists * PROBE_SERIES)])
    for therapist_id, z in zip(therapists, zones):
        intent.set_hours(therapist_id, z)
        eager.add_therapist(therapist_id, z, [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)])
    plans = []
    for t, (therapist_id, z) in enumerate(zip(therapists, zones)):
        tz = zone(z)
        for j in range(PROBE_SERIES):
            # 20 weekly series, then 10 slots shared by two fortnightly series each: 30 of 40 slots held
            weekday, hour = SLOTS[j] if j < 20 else SLOTS[20 + (j - 20) // 2]
            rrule = "FREQ=WEEKLY" if j < 20 else "FREQ=WEEKLY;INTERVAL=2"
            not_before = to_local(now + timedelta(hours=25 + (168 if j >= 20 and j % 2 else 0)), tz)
            start = to_instant(_first_local("weekly", weekday, hour, 1, not_before, tz), tz)
            plans.append((clients[t * PROBE_SERIES + j], therapist_id, start, z, rrule))
    before = {name: sim.writes(name) for name in ("intent", "eager")}
    intent_seconds, eager_seconds = [], []
    for client_id, therapist_id, start, z, rrule in plans:
        intent_seconds.append(intent.book(client_id, therapist_id, start, rrule)[1])
        began = time.perf_counter()
        eager.book(therapist_id, client_id, start, z, rrule, now)
        eager_seconds.append(time.perf_counter() - began)
    after = {name: sim.writes(name) for name in ("intent", "eager")}
    n = len(plans)
    sim.probe_therapists = therapists
    sim.probe_clients = clients
    return {
        "booking_rows": {name: round((after[name] - before[name]) / n, 2) for name in after},
        "booking_latency": {
            "intent": percentiles(intent_seconds + sim.sides["intent"].booking_seconds),
            "eager": percentiles(eager_seconds + sim.sides["eager"].booking_seconds),
            "probe_only": {"intent": percentiles(intent_seconds), "eager": percentiles(eager_seconds)},
            "how": "intent: POST /api/v1/series over HTTP to granian in this process (auth, validation, "
                   "52-week conflict check, commit); eager: its booking function in-process "
                   "(26-week slot check, 3 rows and one Zoom create per occurrence), no HTTP layer",
        },
    }


# -- the horizon tick with many series ---------------------------------------------------------

def _monday_after(instant: datetime, weeks: int) -> datetime:
    day = instant.date() + timedelta(days=7 * weeks - instant.weekday())
    return datetime.combine(day, clock_time(0), tzinfo=instant.tzinfo)


def _load(db, first: int, last: int, monday: datetime) -> None:
    """Bulk series first..last-1 (and their therapists and clients)."""
    params = {"a": first, "b": last - 1, "m": monday}
    # slot of series g: j = g % 20 within therapist g / 20, spread so a therapist never overlaps
    slot = "(((g % 20) * 4 + g / 20) % 80)"
    offset = f"(({slot} / 16) * interval '1 day' + (8 + {slot} % 16) * interval '1 hour' + interval '30 minutes')"
    db.execute(sa.text(
        "INSERT INTO users (id, email, name, role, timezone, password_hash, created_at)"
        " SELECT 'bt-' || t, 'bt-' || t || '@bulk.test', 'Bulk therapist', 'therapist', 'UTC', '-', now()"
        " FROM generate_series(CAST(:a AS int) / 20, CAST(:b AS int) / 20) t ON CONFLICT DO NOTHING"), params)
    db.execute(sa.text(
        "INSERT INTO users (id, email, name, role, timezone, password_hash, created_at)"
        " SELECT 'bc-' || g, 'bc-' || g || '@bulk.test', 'Bulk client', 'client', 'UTC', '-', now()"
        " FROM generate_series(CAST(:a AS int), CAST(:b AS int)) g"), params)
    db.execute(sa.text(
        "INSERT INTO series (id, therapist_id, client_id, start, timezone, duration_minutes, rrule, status,"
        " cursor_start, cursor_index, next_due_at, created_at)"
        f" SELECT 'bs-' || g, 'bt-' || (g / 20), 'bc-' || g, :m + {offset} - (1 + g % 26) * interval '7 days',"
        f" 'UTC', 50, 'FREQ=WEEKLY', 'active', :m + {offset}, 1 + g % 26, :m + interval '7 days' + {offset}, now()"
        " FROM generate_series(CAST(:a AS int), CAST(:b AS int)) g"), params)
    db.execute(sa.text(
        "INSERT INTO bench_bulk_state SELECT id, cursor_start, cursor_index, next_due_at FROM series"
        " WHERE id = ANY(SELECT 'bs-' || g FROM generate_series(CAST(:a AS int), CAST(:b AS int)) g)"), params)


def _reset(db) -> None:
    db.execute(sa.text("DELETE FROM sessions WHERE series_id LIKE 'bs-%'"))
    db.execute(sa.text(
        "UPDATE series s SET cursor_start = b.cursor_start, cursor_index = b.cursor_index,"
        " next_due_at = b.next_due_at FROM bench_bulk_state b WHERE s.id = b.id"
        " AND s.next_due_at IS DISTINCT FROM b.next_due_at"))


def _timed_tick(sim, due: int, due_minute: datetime) -> float:
    """One horizon tick with exactly `due` bulk series due (median of REPEATS)."""
    engine = get_engine()
    seconds = []
    for _ in range(REPEATS):
        with engine.begin() as db:
            _reset(db)
            # keep `due` of the minute's series due; move the rest a week on (still real occurrences)
            db.execute(sa.text(
                "UPDATE series SET next_due_at = next_due_at + interval '7 days' WHERE id IN ("
                " SELECT id FROM series WHERE next_due_at = :x AND id LIKE 'bs-%' ORDER BY id OFFSET :d)"),
                {"x": due_minute, "d": due})
        engine.dispose()
        clock.set_clock(lambda: due_minute - timedelta(hours=72) + timedelta(minutes=1))
        began = time.perf_counter()
        report = sim.intent.tick()
        seconds.append(time.perf_counter() - began)
        sim.intent.queue.clear()  # the meeting jobs are the workers' part, not the tick's
        if report["sessions_created"] != due:
            raise RuntimeError(f"tick made {report['sessions_created']} sessions, expected {due}")
    return round(statistics.median(seconds), 4)


def _ticks(sim, big: int) -> dict:
    engine = get_engine()
    monday = _monday_after(clock.now(), 3)
    due_minute = monday + timedelta(days=7, hours=8, minutes=30)  # slot 0 of the following week
    with engine.begin() as db:
        db.execute(sa.text("CREATE TABLE bench_bulk_state (id varchar(36) PRIMARY KEY, cursor_start timestamptz,"
                           " cursor_index int, next_due_at timestamptz)"))
    # catch the simulated population up to just before the measured minute (not measured)
    clock.set_clock(lambda: due_minute - timedelta(hours=72) - timedelta(minutes=1))
    sim.intent.tick()
    sim.intent.queue.clear()
    existing = _count_series()
    levels = sorted({max(1, big // 10 - existing), big // 2 - existing, big - existing})
    by_total, by_due = [], []
    fixed_due = max(1, levels[0] // BULK_SLOTS)
    loaded = 0
    for level in levels:
        with engine.begin() as db:
            _load(db, loaded, level, monday)
        loaded = level
        with engine.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE series"))
        by_total.append((_count_series(), _timed_tick(sim, fixed_due, due_minute)))
    with engine.connect() as c:
        minute_set = c.execute(sa.text("SELECT count(*) FROM bench_bulk_state WHERE next_due_at = :x"),
                               {"x": due_minute}).scalar_one()
    for due in sorted({fixed_due, max(1, minute_set // 4), minute_set // 2, minute_set}):
        by_due.append((due, _timed_tick(sim, due, due_minute)))
    with engine.begin() as db:
        _reset(db)
    sides = sim.sides
    topups = sim.topups or [0.0]
    n_series = len(sim.w.series)
    total = _count_series()
    return {
        "total_series": total,
        "active_series": total,
        "population_series_before_bulk": existing,
        "minute_due_set": minute_set,
        "minute_seconds": by_due[-1][1],
        "by_due": by_due,
        "by_total": by_total,
        "fixed_due_for_by_total": fixed_due,
        "repeats_median_of": REPEATS,
        "eager_top_up_mean_seconds": round(statistics.fmean(topups), 2),
        "eager_top_up_projected_seconds": round(statistics.fmean(topups) * total / max(1, n_series), 0),
        "eager_top_up_note": "eager's periodic job is the weekly top-up (one week of rows for every active "
                             "series, one Zoom create each); measured on the simulated population and scaled "
                             "linearly to the same number of series",
        "what": "the beat task therabee.horizon.tick (horizon.tick + the lost-meeting sweep) in-process; "
                "meeting creation is the workers' part and not included",
        "_sides": list(sides),
    }


def _count_series() -> int:
    with get_engine().connect() as c:
        # series neither ended nor split (series.status is no longer stored: services/series_status.py)
        return c.execute(sa.text("SELECT count(*) FROM series WHERE ends_before IS NULL")).scalar_one()


# -- reads with many series in the database ------------------------------------------------------

def _reads(sim, samples: int) -> dict:
    intent, eager = sim.intent, sim.eager
    therapist = sim.probe_therapists[0]
    client = sim.probe_clients[0]
    now = clock.now()
    monday = _monday_after(now, 1)
    week = (monday, monday + timedelta(days=7))
    auth_t = {"Authorization": f"Bearer {intent.tokens[therapist]}"}
    auth_c = {"Authorization": f"Bearer {intent.tokens[client]}"}
    params = {"from": week[0].isoformat(), "to": week[1].isoformat(), "therapist_id": therapist}
    slot_params = {"from": now.isoformat(), "to": (now + timedelta(weeks=4)).isoformat(), "duration_minutes": 50}

    def timed(fn) -> list[float]:
        fn()  # warm
        out = []
        for _ in range(samples):
            began = time.perf_counter()
            fn()
            out.append(time.perf_counter() - began)
        return out

    def week_view():
        response = intent.http.get("/occurrences", params=params, headers=auth_t)
        assert response.status_code == 200, response.text
        return response

    def slots():
        response = intent.http.get(f"/therapists/{therapist}/slots", params=slot_params, headers=auth_c)
        assert response.status_code == 200, response.text
        return response

    seen = len(week_view().json()["items"])
    free = len(slots().json()["items"])
    return {
        "week_view": {"intent": percentiles(timed(week_view)),
                      "eager": percentiles(timed(lambda: eager.week(therapist, *week))),
                      "occurrences_in_week": seen,
                      "how": "GET /api/v1/occurrences for one week as the therapist (40 active series), "
                             "over HTTP; eager: its SQL over session + meeting rows, in-process"},
        "free_slots": {"intent": percentiles(timed(slots)),
                       "eager": percentiles(timed(lambda: eager.free_slots(therapist, now,
                                                                           now + timedelta(weeks=4)))),
                       "slots_found": free,
                       "how": "GET /api/v1/therapists/{id}/slots, 4 weeks, 50 min, over HTTP; "
                              "eager: slot rows + the same pure free-slot search, in-process"},
        "series_in_database": _count_series(),
    }
