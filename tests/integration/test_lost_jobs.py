"""Nothing lost between the database and the workers: a cancellation, a move and time off
whose jobs never reached a worker are brought in step by the next tick's sweep
(DESIGN.md rule 7, services/reconcile.py).

Four one-off sessions of one therapist, each with its meeting on the fake Zoom: A is
cancelled, B moved, time off laid over C, D left alone. Their jobs are lost — at enqueue
with Redis stopped (Celery), or with the web process that held them (in-process runner).
Everything before the tick happens `OUTAGE` earlier than the tick, as after an outage
longer than the sweep's grace for fresh changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, register, therapist_with_hours
from tests.integration.processes import wait_for
from tests.integration.smtp_sink import SmtpSink
from therabee.services import clock
from therabee.settings import get_settings

pytest_plugins = ["tests.integration.conftest_celery", "tests.integration.conftest_zoom"]

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
OUTAGE = timedelta(minutes=3)
TICK = "therabee.horizon.tick"
NOTICE = "Your therapist is away"


@dataclass
class Scenario:
    sessions: dict[str, str]  # "A".."D" -> session id
    meetings: dict[str, str]  # "A".."D" -> the fake's meeting id
    clients: dict[str, str]  # "A".."D" -> the client's address
    moved_to: datetime
    d_meeting: dict  # D's meeting on the fake before anything happened


def _rows() -> dict[str, sa.Row]:
    from therabee.db.engine import get_engine
    from therabee.db.models import Session

    with get_engine().connect() as connection:
        return {row.id: row for row in connection.execute(sa.select(Session.__table__))}


def _starts() -> list[datetime]:
    """Four starts 2 h apart, all on one UTC day (availability ends at 23:59), inside the
    72 h horizon and more than 24 h ahead (no reminder is due: a tick sends nothing else)."""
    first = (clock.now() + timedelta(hours=25)).replace(second=0, microsecond=0)
    if (first + timedelta(hours=7)).date() != first.date():
        first = datetime.combine(first.date() + timedelta(days=1), datetime.min.time(), timezone.utc) \
            + timedelta(hours=1)
    return [first + timedelta(hours=2 * n) for n in range(4)]


def _z(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def before_the_tick():
    """The clock of this process moved `OUTAGE` back until the test calls the fixture's
    value (then it is this process's own clock again, that of the workers)."""
    own = clock.process_clock()
    clock.set_clock(lambda: own() - OUTAGE)
    yield lambda: clock.set_clock(None)
    clock.set_clock(None)


def _prepare(api, zoom, fake_zoom) -> tuple[Scenario, dict]:
    """The four sessions, each with its meeting made on the fake; the set-up's own jobs
    are done here by hand. Returns the scenario and what the changes need."""
    from therabee.services import horizon, meetings

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    clients, series = {}, {}
    for name, start in zip("ABCD", _starts()):
        client = register(api, "client", "UTC")
        response = book(api, therapist, therapist, start, rrule=None, client_id=client.id)
        assert response.status_code == 201, response.text
        clients[name], series[name] = client.email, response.json()["id"]
    assert horizon.tick().sessions_created == 4
    by_series = {row.series_id: row for row in _rows().values()}
    sessions = {name: by_series[series[name]].id for name in "ABCD"}
    assert [meetings.ensure_meeting(sessions[name], zoom) for name in "ABCD"] == ["created"] * 4
    rows = {name: _rows()[sessions[name]] for name in "ABCD"}
    meeting_of = {name: rows[name].meeting_id for name in "ABCD"}
    assert set(fake_zoom.meetings) == set(meeting_of.values())
    fake_zoom.reset_calls()
    moved_to = rows["B"].start + timedelta(minutes=40)
    scenario = Scenario(sessions, meeting_of, clients, moved_to, fake_zoom.meetings[meeting_of["D"]])
    return scenario, {"therapist": therapist, "series": series, "rows": rows}


def _change(api, scenario: Scenario, therapist, series: dict, rows: dict) -> None:
    """Cancel A, move B 40 min later, lay time off over C: each queues its jobs after commit."""
    def occurrence(name: str) -> str:
        return f"{series[name]}:{rows[name].original_start.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"

    cancelled = api.post(f"{API}/occurrences/{occurrence('A')}/cancel", headers=therapist.auth, json={})
    assert cancelled.status_code == 200, cancelled.text
    moved = api.post(f"{API}/occurrences/{occurrence('B')}/move", headers=therapist.auth,
                     json={"start": scenario.moved_to.isoformat()})
    assert moved.status_code == 200, moved.text
    c = rows["C"]
    away = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": (c.start - timedelta(minutes=10)).isoformat(), "end": (c.end + timedelta(minutes=10)).isoformat()})
    assert away.status_code == 201, away.text


def _in_step(s: Scenario, fake_zoom) -> bool:
    rows = _rows()
    return (set(fake_zoom.meetings) == {s.meetings["B"], s.meetings["D"]}
            and fake_zoom.meetings[s.meetings["B"]]["start_time"] == _z(s.moved_to)
            and rows[s.sessions["B"]].meeting_start == s.moved_to
            and rows[s.sessions["A"]].meeting_state == rows[s.sessions["C"]].meeting_state == "deleted")


def _assert_nothing_else_changed(s: Scenario, fake_zoom, notices: list[str]) -> None:
    rows = _rows()
    assert rows[s.sessions["A"]].status in ("cancelled", "late_cancelled")
    assert (rows[s.sessions["C"]].status, rows[s.sessions["D"]].status) == ("hidden", "scheduled")
    assert [rows[s.sessions[n]].meeting_id for n in "BD"] == [s.meetings["B"], s.meetings["D"]]
    assert fake_zoom.meetings[s.meetings["D"]] == s.d_meeting
    assert fake_zoom.meetings[s.meetings["B"]]["duration"] == 50
    assert notices == [s.clients["C"]]  # one notice, to C's client


# -- Celery: the broker stopped at enqueue time -------------------------------------------

@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.mark.postgres(reason="real Celery workers; the default set-up runs jobs in-process")
def test_jobs_lost_at_enqueue_with_redis_stopped_are_done_by_the_next_tick(
        api, workers, producer, redis_server, fake_zoom, make_zoom_client, smtp_sink, before_the_tick,
        monkeypatch, caplog):
    import tasks.jobs
    from tasks.celery_app import app
    from therabee.services import jobs

    zoom_env = {f"THERABEE_{key.upper()}": value for key, value in fake_zoom.settings_overrides().items()}
    worker = workers(**zoom_env, THERABEE_SMTP_HOST="127.0.0.1", THERABEE_SMTP_PORT=str(smtp_sink.port))
    scenario, change = _prepare(api, make_zoom_client(), fake_zoom)
    # this process enqueues as a web process does (tasks.jobs.send, the app's publish
    # policy), to the test's Redis, now stopped
    producer.conf.task_publish_retry_policy = app.conf.task_publish_retry_policy
    monkeypatch.setattr(tasks.jobs, "app", producer)
    redis_server.shutdown_nosave()
    jobs.set_dispatcher(tasks.jobs.send)
    try:
        with caplog.at_level(logging.ERROR, logger="therabee.services.jobs"):
            _change(api, scenario, **change)
    finally:
        jobs.set_dispatcher(None)
    lost = sorted(r.getMessage() for r in caplog.records if r.getMessage().startswith("could not enqueue"))
    assert lost == ["could not enqueue meetings.delete"] * 2 + ["could not enqueue meetings.update",
                                                               "could not enqueue practice.time_off_notices"]
    before_the_tick()
    redis_server.start()
    assert fake_zoom.calls == {**fake_zoom.calls, "create": 0, "update": 0, "delete": 0}

    result = producer.send_task(TICK).get(timeout=60)
    assert result["requeued"] == {"ensure": 0, "update": 1, "delete": 2, "notices": 1}, worker.log()
    wait_for(lambda: _in_step(scenario, fake_zoom) and smtp_sink.received(), 30,
             lambda: "the queued jobs to be done\n" + worker.log())
    assert {k: fake_zoom.calls[k] for k in ("create", "update", "delete", "list", "get")} == {
        "create": 0, "update": 1, "delete": 2, "list": 0, "get": 0}
    notices = [m["To"] for m in smtp_sink.received() if m["Subject"] == NOTICE]
    _assert_nothing_else_changed(scenario, fake_zoom, notices)

    calls = fake_zoom.calls
    assert producer.send_task(TICK).get(timeout=60)["requeued"] == {
        "ensure": 0, "update": 0, "delete": 0, "notices": 0}
    assert fake_zoom.calls == calls and len(smtp_sink.received()) == 1


# -- the default set-up: the in-process runner, its first attempts failing ----------------

@pytest.fixture
def in_process(fake_zoom, monkeypatch):
    """The in-process runner with Zoom (the fake) and a quick retry policy; no ticker."""
    from tasks import embedded

    for key, value in fake_zoom.settings_overrides().items():
        monkeypatch.setenv(f"THERABEE_{key.upper()}", value)
    monkeypatch.setenv("THERABEE_JOB_ATTEMPTS", "3")
    monkeypatch.setenv("THERABEE_JOB_BACKOFF_SECONDS", "0.2")
    monkeypatch.setenv("THERABEE_JOB_BACKOFF_CAP_SECONDS", "1")
    get_settings.cache_clear()
    yield embedded
    embedded.stop_embedded()
    get_settings.cache_clear()


def test_jobs_lost_with_the_web_process_are_done_by_the_next_in_process_tick_despite_failures(
        api, in_process, fake_zoom, make_zoom_client, before_the_tick, monkeypatch, caplog):
    from therabee.services import mail

    scenario, change = _prepare(api, make_zoom_client(), fake_zoom)
    _change(api, scenario, **change)  # the web process died with their jobs: no runner ran them
    before_the_tick()
    mail.outbox.clear()
    # every first attempt fails: Zoom answers 5xx to the two deletes and the update, the
    # mail server is away for the notice
    fake_zoom.fail_next(2, status=500, kind="delete")
    fake_zoom.fail_next(1, status=503, retry_after="0", kind="update")
    real_send, refused = mail.send, []

    def send_after_a_refusal(*args):
        if not refused:
            refused.append(args)
            raise ConnectionRefusedError("mail server away")
        real_send(*args)

    monkeypatch.setattr(mail, "send", send_after_a_refusal)
    caplog.set_level(logging.WARNING, logger="therabee.services.jobs")

    in_process.start_embedded(interval=0)
    in_process.tick()  # one tick of the ticker
    wait_for(lambda: _in_step(scenario, fake_zoom) and len(mail.outbox) == 1, 30, "the jobs to be done")
    assert {k: fake_zoom.calls[k] for k in ("create", "update", "delete", "list", "get")} == {
        "create": 0, "update": 2, "delete": 4, "list": 0, "get": 0}  # each first attempt failed
    retried = sorted(r.getMessage().split(":")[0] for r in caplog.records if "attempt 1 of 3 failed" in r.getMessage())
    assert retried == ["job therabee.meetings.delete"] * 2 + ["job therabee.meetings.update",
                                                             "job therabee.practice.time_off_notices"]
    notices = [m.to for m in mail.outbox if m.subject == NOTICE]
    _assert_nothing_else_changed(scenario, fake_zoom, notices)

    calls = fake_zoom.calls
    in_process.tick()
    assert fake_zoom.calls == calls and len(mail.outbox) == 1
