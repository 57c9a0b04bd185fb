"""Faults, each followed by the invariant check once the system has had time to recover.

Goal everywhere: 0 bookings lost, 0 duplicate sessions or meetings, 0 orphaned
meetings, and the service answering again without a restart.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import httpx
import sqlalchemy as sa

from reliability.env import API_APP_NAME, CLAIM_SECONDS, TICK, WORKER_APP_NAME
from reliability.load import Load, make_people
from reliability.metrics import Recorder
from reliability.stack import wait_for
from tests.integration.factories import API, book, register, therapist_with_hours

ALL_DAY = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
PROBLEM = "application/problem+json"


def _claim_seconds() -> int:
    from therabee.settings import Settings

    return CLAIM_SECONDS if "meeting_claim_seconds" in Settings.model_fields else 180


def book_near(env, how_many: int, rrule: str | None = "FREQ=DAILY;COUNT=3") -> list[str]:
    """`how_many` series of a new therapist (booked by the therapist), starting within hours."""
    with env.http() as http:
        therapist = therapist_with_hours(http, "UTC", ALL_DAY)
        start = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(second=0, microsecond=0)
        ids = []
        for _ in range(how_many):
            if (start + timedelta(minutes=30)).date() != start.date():
                start = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), timezone.utc)
            client = register(http, "client", "UTC")
            response = book(http, therapist, therapist, start, rrule=rrule, duration=30, client_id=client.id)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
            env.ledger.booked.append(ids[-1])
            start += timedelta(minutes=40)
    return ids


def _sessions_of(env, series_ids: list[str]) -> int:
    with env.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM sessions WHERE series_id = ANY(:ids)"),
                                  {"ids": series_ids}).scalar_one()


def _terminate(env, pids: list[int]) -> None:
    with env.engine.connect() as connection:
        for pid in pids:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _blocked(env, app_name: str) -> list[int]:
    with env.engine.connect() as connection:
        return [pid for (pid,) in connection.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = :name AND wait_event_type = 'Lock'"
            " AND datname = current_database()"), {"name": app_name})]


def _result(env, figures: dict, ok: bool = True, settle_timeout: float = 150) -> dict:
    verdict, seconds = env.settle(timeout=settle_timeout)
    figures["settle_seconds"] = seconds
    return {"figures": figures, "invariants": verdict.as_dict(), "ok": ok and verdict.ok}


def worker_killed_in_horizon_job(env) -> dict:
    """SIGKILL the worker while its horizon tick is inside its transaction (held on a lock)."""
    series = book_near(env, 8)
    connection = env.engine.connect()
    transaction = connection.begin()
    connection.execute(sa.text("LOCK TABLE sessions IN SHARE ROW EXCLUSIVE MODE"))
    try:
        env.producer.send_task(TICK)
        pids = wait_for(lambda: _blocked(env, WORKER_APP_NAME), 60, "the tick to block on sessions")
        env.worker.kill()
        _terminate(env, pids)  # PostgreSQL notices a dead client only when it next talks to it
    finally:
        transaction.rollback()
        connection.close()
    rolled_back = _sessions_of(env, series) == 0
    env.start_worker()
    env.tick()
    made = _sessions_of(env, series)
    return _result(env, {"series": len(series), "sessions_after_kill": 0 if rolled_back else "some",
                         "sessions_after_recovery": made, "expected_sessions": 3 * len(series)},
                   ok=rolled_back and made == 3 * len(series))


def worker_killed_in_meeting_create(env) -> dict:
    """SIGKILL the worker while Zoom is creating a meeting (the create still lands on Zoom):
    after the claim runs out, the next worker adopts that meeting by its marker."""
    fake = env.fake
    series = book_near(env, 1, rrule=None)
    before_creates, before_meetings = fake.calls["create"], len(fake.meetings)
    fake.delay_next(1, seconds=6, kind="create")
    env.producer.send_task(TICK)
    wait_for(lambda: fake.calls["create"] > before_creates, 60, "the worker to call create")
    time.sleep(1)
    env.worker.kill()
    wait_for(lambda: len(fake.meetings) > before_meetings, 15, "the delayed create to land on the fake")
    env.start_worker()
    claim = _claim_seconds()
    result = _result(env, {"claim_seconds": claim, "creates_before_kill": fake.calls["create"] - before_creates},
                     settle_timeout=claim + 120)
    with env.engine.connect() as connection:
        state = connection.execute(sa.text("SELECT meeting_state, meeting_id FROM sessions WHERE series_id = :s"),
                                   {"s": series[0]}).one()
    result["figures"].update({"session_meeting_state": state[0],
                              "adopted": state[1] is not None and state[1] in fake.meetings,
                              "creates_total": fake.calls["create"] - before_creates})
    result["ok"] = result["ok"] and result["figures"]["adopted"]
    return result


def _load_while(env, users: int, seconds: float, during) -> Recorder:
    """A small load for `seconds`; `during()` runs in a thread alongside it."""
    people = make_people(env, users - 2, 2, seed=11)
    recorder = Recorder()
    load = Load(env, people, recorder, duration=seconds, max_requests=2000, seed=11)
    thread = threading.Thread(target=during, daemon=True)
    thread.start()
    asyncio.run(load.run())
    thread.join(timeout=60)
    return recorder


def redis_restart(env) -> dict:
    """Redis killed (its queues lost) and started again while users keep booking."""
    worker = env.worker

    def outage():
        time.sleep(4)
        env.redis.stop()
        time.sleep(4)
        env.redis.start()

    booked_before = len(env.ledger.booked)
    recorder = _load_while(env, 12, 15, outage)
    env.wait_healthy()
    survived = worker.alive()
    if not survived:
        env.start_worker()
    result = _result(env, {**recorder.as_dict(), "booked_during": len(env.ledger.booked) - booked_before,
                           "worker_survived": survived}, ok=recorder.error_count == 0)
    return result


def _problem(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith(PROBLEM)


def _unavailable(response: httpx.Response) -> bool:
    """A request cut from PostgreSQL: 503 problem+json saying when to retry."""
    return response.status_code == 503 and _problem(response) and "retry-after" in response.headers


def postgres_connections_dropped(env) -> dict:
    """pg_terminate_backend of the API's connections: in the middle of requests (held on a
    lock so they are certainly in flight), and idle in its pool before the next ones."""
    with env.http() as http:
        therapist = therapist_with_hours(http, "UTC", ALL_DAY)
        clients = [register(http, "client", "UTC") for _ in range(3)]
    with env.engine.connect() as connection:
        series_before = connection.execute(sa.text("SELECT count(*) FROM series")).scalar_one()
    start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)

    def request(i: int) -> httpx.Response:
        with env.http() as http:
            if i < 3:
                return book(http, therapist, therapist, start + timedelta(hours=i), rrule="FREQ=WEEKLY",
                            client_id=clients[i].id)
            return http.get(f"{API}/occurrences", headers=therapist.auth, params={
                "from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()})

    connection = env.engine.connect()
    transaction = connection.begin()
    connection.execute(sa.text("LOCK TABLE series IN ACCESS EXCLUSIVE MODE"))
    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(request, i) for i in range(5)]
        try:
            wait_for(lambda: len(_blocked(env, API_APP_NAME)) >= 2, 30, "requests to wait on the lock")
            time.sleep(1)  # let every request that will touch series get there
            pids = _blocked(env, API_APP_NAME)
            _terminate(env, pids)
        finally:
            transaction.rollback()
            connection.close()
        in_flight = [f.result(timeout=60) for f in futures]
    clean = [r for r in in_flight if _unavailable(r) or r.status_code < 300]
    acknowledged = [r.json()["id"] for r in in_flight if r.status_code == 201]
    env.ledger.booked.extend(acknowledged)

    _terminate(env, env.app_backends(API_APP_NAME))  # now every pooled connection is dead
    with env.http() as http:
        after = [http.get(f"{API}/series", headers=therapist.auth) for _ in range(10)]
        after += [http.get(f"{API}/health") for _ in range(5)]
    recovered = sum(r.status_code == 200 for r in after)
    with env.engine.connect() as connection:
        series_after = connection.execute(sa.text("SELECT count(*) FROM series")).scalar_one()
    figures = {"in_flight": len(in_flight), "cut_mid_request": len(pids), "in_flight_statuses": sorted(r.status_code for r in in_flight),
               "failed_cleanly": len(clean), "non_problem_errors": len(in_flight) - len(clean),
               "after_requests": len(after), "after_ok": recovered,
               "series_written": series_after - series_before, "series_acknowledged": len(acknowledged)}
    ok = (len(clean) == len(in_flight) and recovered == len(after)
          and series_after - series_before == len(acknowledged))
    return _result(env, figures, ok=ok)


def zoom_errors(env) -> dict:
    """Zoom answers 429, then 500, then times out, then drops a create's answer, for a while."""
    fake = env.fake
    fake.fail_next(4, status=429, retry_after="1")
    fake.fail_next(4, status=500)
    fake.delay_next(2, seconds=11, kind="create")  # past the client's 10 s read timeout
    fake.drop_connection_after_create_next(1)
    calls_before = dict(fake.calls)
    series = book_near(env, 6, rrule=None)
    env.producer.send_task(TICK)
    result = _result(env, {"series": len(series)}, settle_timeout=240)
    result["figures"]["zoom_calls"] = {k: v - calls_before.get(k, 0) for k, v in fake.calls.items()}
    return result


def _zoom_token(fake) -> str:
    response = httpx.post(fake.oauth_url, params={"grant_type": "account_credentials",
                                                  "account_id": fake.account_id},
                          auth=(fake.client_id, fake.client_secret), timeout=10)
    return response.json()["access_token"]


def webhooks(env) -> dict:
    """Zoom's deliveries: twice, out of order, late, replayed, forged, stale, and a deletion."""
    from reliability.hostile import webhook_abuse

    fake = env.fake
    url = f"{env.api.base_url}{API}/webhooks/zoom"
    book_near(env, 2, rrule=None)
    env.tick()  # materializes them; their meetings follow
    env.settle(timeout=90)
    with env.engine.connect() as connection:
        rows = list(connection.execute(sa.text(
            "SELECT id, meeting_id FROM sessions WHERE meeting_state = 'created' AND status = 'scheduled'"
            " AND start > now() ORDER BY start LIMIT 2")))
    (first, meeting), (second, other_meeting) = rows[0], rows[1]

    def status_of(session_id: str) -> str:
        with env.engine.connect() as connection:
            return connection.execute(sa.text("SELECT status FROM sessions WHERE id = :id"),
                                      {"id": session_id}).scalar_one()

    ts = int(time.time())
    outcomes = {}
    started = {"event_ts": ts * 1000 + 100}
    outcomes["started"] = fake.send_webhook(url, "meeting.started", meeting, timestamp=ts,
                                            body_overrides=started).json()
    outcomes["started_again"] = fake.send_webhook(url, "meeting.started", meeting, timestamp=ts,
                                                  body_overrides=started).json()
    outcomes["ended"] = fake.send_webhook(url, "meeting.ended", meeting,
                                          body_overrides={"event_ts": ts * 1000 + 300}).json()
    outcomes["late_started"] = fake.send_webhook(url, "meeting.started", meeting, timestamp=ts - 120,
                                                 body_overrides={"event_ts": ts * 1000 + 200}).json()
    final_status = status_of(first)
    abuse = webhook_abuse(env, url, meeting)
    # Zoom says the other meeting was deleted (someone removed it there): a new one is made
    token = _zoom_token(fake)
    httpx.delete(f"{fake.api_url}/meetings/{other_meeting}", headers={"Authorization": f"Bearer {token}"},
                 timeout=10)
    outcomes["deleted"] = fake.send_webhook(url, "meeting.deleted", other_meeting).json()
    result = _result(env, {"outcomes": outcomes, "first_session_status": final_status, **abuse})
    with env.engine.connect() as connection:
        new_meeting = connection.execute(sa.text("SELECT meeting_id FROM sessions WHERE id = :id"),
                                         {"id": second}).scalar_one()
    expected = {"started": {"status": "applied"}, "started_again": {"status": "duplicate"},
                "ended": {"status": "applied"}, "late_started": {"status": "no change"},
                "deleted": {"status": "applied"}}
    result["figures"]["recreated_meeting"] = new_meeting not in (None, other_meeting)
    result["ok"] = (result["ok"] and outcomes == expected and final_status == "completed"
                    and abuse["refused_correctly"] == abuse["abusive_deliveries"] and abuse["deliveries_unchanged"]
                    and result["figures"]["recreated_meeting"])
    result["figures"]["expected_outcomes"] = json.dumps(expected) == json.dumps(outcomes)
    return result
