"""POST /api/v1/webhooks/zoom: signed, fresh, de-duplicated, order-safe."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.factories import API
from tests.integration.test_meetings import (FROZEN, book_daily, frozen_clock, recorded_jobs,  # noqa: F401
                                             session_rows, set_session)

SECRET = "whsec-therabee-example"  # the ZOOM.md test vector's secret
URL = f"{API}/webhooks/zoom"


@pytest.fixture
def webhook_secret():
    from therabee.settings import get_settings

    before = os.environ.get("THERABEE_ZOOM_WEBHOOK_SECRET")
    os.environ["THERABEE_ZOOM_WEBHOOK_SECRET"] = SECRET
    get_settings.cache_clear()
    yield SECRET
    if before is None:
        os.environ.pop("THERABEE_ZOOM_WEBHOOK_SECRET")
    else:
        os.environ["THERABEE_ZOOM_WEBHOOK_SECRET"] = before
    get_settings.cache_clear()


@pytest.fixture
def meeting(api, frozen_clock, recorded_jobs, webhook_secret):
    """A materialized session whose meeting is Zoom meeting 85746065432."""
    from therabee.services import horizon

    _, _, series_id = book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    row = session_rows(series_id)[0]
    set_session(row.id, meeting_state="created", meeting_id="85746065432", join_url="https://z/j/1")
    recorded_jobs.clear()
    return row.id


def post(api, event: str | dict, meeting_id="85746065432", *, event_ts: int | None = None,
         age_seconds: int = 0, secret: str = SECRET, headers: dict | None = None):
    body = event if isinstance(event, dict) else {
        "event": event, "event_ts": event_ts or 1767225600123,
        "payload": {"account_id": "acc", "object": {"id": meeting_id, "uuid": "u1", "type": 2}}}
    raw = json.dumps(body, separators=(",", ":")).encode()
    timestamp = str(int(FROZEN.timestamp()) - age_seconds)
    from therabee.video.zoom.webhooks import compute_signature

    signed = {"content-type": "application/json", "x-zm-request-timestamp": timestamp,
              "x-zm-signature": compute_signature(secret, timestamp, raw)}
    return api.post(URL, content=raw, headers=signed if headers is None else headers)


def state(session_id: str) -> tuple:
    row = next(r for r in session_rows() if r.id == session_id)
    return row.status, row.meeting_state, row.meeting_id, row.updated_at


def deliveries() -> int:
    from therabee.db.engine import get_engine

    with get_engine().connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM webhook_deliveries")).scalar_one()


def test_the_zoom_md_signature_vector_is_accepted(api, meeting, frozen_clock):
    raw = (b'{"event":"meeting.started","event_ts":1767225600123,"payload":{"account_id":"acc","object":'
           b'{"id":85746065432,"uuid":"u1","host_id":"h1","topic":"Therapy session","type":2}}}')
    frozen_clock[0] = datetime.fromtimestamp(1767225600 + 30, timezone.utc)
    response = api.post(URL, content=raw, headers={
        "x-zm-request-timestamp": "1767225600",
        "x-zm-signature": "v0=8c45d24f15c6d3bea7f83b87248a84a8d5e32e8cb2479e14506b729835db3192"})
    assert response.status_code == 200, response.text
    assert state(meeting)[0] == "in_progress"


def test_url_validation_is_answered_with_the_zoom_md_vector(api, frozen_clock, webhook_secret):
    response = post(api, {"event": "endpoint.url_validation", "event_ts": 1767225600123,
                          "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})
    assert response.status_code == 200
    assert response.json() == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": "4e6f5f0fba87bca4b312edec87307a0b3202610649e54a5f0d239a22d8e1f093"}


@pytest.mark.parametrize("case", ["bad signature", "no timestamp", "no signature", "six minutes old",
                                  "from the future"])
def test_a_refused_delivery_is_401_and_changes_nothing(api, meeting, case):
    before = state(meeting)
    if case == "bad signature":
        response = post(api, "meeting.started", secret="not-the-secret")
    elif case == "six minutes old":
        response = post(api, "meeting.started", age_seconds=360)
    elif case == "from the future":
        response = post(api, "meeting.started", age_seconds=-360)
    else:
        raw = b'{"event":"meeting.started","event_ts":1,"payload":{"object":{"id":85746065432}}}'
        ts = str(int(FROZEN.timestamp()))
        headers = {"x-zm-request-timestamp": ts} if case == "no signature" else {"x-zm-signature": "v0=00"}
        response = api.post(URL, content=raw, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert state(meeting) == before and deliveries() == 0


def test_without_a_configured_secret_deliveries_are_refused_clearly(api, frozen_clock):
    response = post(api, "meeting.started")
    assert response.status_code == 503
    assert "THERABEE_ZOOM_WEBHOOK_SECRET" in response.json()["detail"]


def test_the_same_delivery_twice_changes_state_once(api, meeting):
    first = post(api, "meeting.ended", event_ts=1767225600500)
    after_first = state(meeting)
    second = post(api, "meeting.ended", event_ts=1767225600500)
    assert (first.json(), second.json()) == ({"status": "applied"}, {"status": "duplicate"})
    assert after_first[0] == "completed" and state(meeting) == after_first and deliveries() == 1


def test_events_out_of_order_never_go_back(api, meeting):
    post(api, "meeting.started", event_ts=1767225600100)
    assert state(meeting)[0] == "in_progress"
    post(api, "meeting.ended", event_ts=1767225600300)
    post(api, "meeting.started", event_ts=1767225600200)  # a late redelivery
    assert state(meeting)[0] == "completed"


def test_ended_before_started_stays_completed_and_no_show_is_kept(api, meeting):
    post(api, "meeting.ended", event_ts=1767225600300)
    post(api, "meeting.started", event_ts=1767225600100)
    assert state(meeting)[0] == "completed"
    set_session(meeting, status="no_show")
    post(api, "meeting.ended", event_ts=1767225600900)
    assert state(meeting)[0] == "no_show"


@pytest.mark.parametrize("meeting_id", [85746065432, "85746065432", "085746065432"])
def test_meeting_ids_come_as_numbers_or_strings(api, meeting, meeting_id):
    assert post(api, "meeting.started", meeting_id=meeting_id).json() == {"status": "applied"}
    assert state(meeting)[0] == "in_progress"


def test_a_meeting_deleted_in_zoom_is_made_again_for_a_scheduled_session(api, meeting, recorded_jobs):
    assert post(api, "meeting.deleted").json() == {"status": "applied"}
    assert state(meeting)[1:3] == ("none", None)
    assert recorded_jobs == [("meetings.ensure", {"session_id": meeting})]


def test_our_own_delete_of_a_cancelled_session_changes_nothing(api, meeting, recorded_jobs):
    set_session(meeting, status="cancelled")
    before = state(meeting)
    assert post(api, "meeting.deleted").json() == {"status": "no change"}
    assert state(meeting) == before and recorded_jobs == []


def test_unknown_meetings_and_other_events_are_acknowledged(api, meeting):
    assert post(api, "meeting.started", meeting_id=123).json() == {"status": "unknown meeting"}
    assert post(api, "meeting.participant_joined").json() == {"status": "ignored"}
    assert post(api, {"event": "meeting.started", "payload": {}}).status_code == 400
    assert state(meeting)[0] == "scheduled"


def test_the_hourly_prune_forgets_deliveries_older_than_a_week(api, frozen_clock):
    from tasks.celery_app import app
    from therabee.db.engine import get_engine
    from therabee.db.models import WebhookDelivery

    name = "therabee.webhooks.prune_deliveries"
    assert name in {entry["task"] for entry in app.conf.beat_schedule.values()}
    with get_engine().begin() as connection:
        for key, age in (("old", timedelta(days=7, minutes=1)), ("recent", timedelta(days=6)),
                         ("new", timedelta(0))):
            connection.execute(sa.insert(WebhookDelivery.__table__).values(
                delivery_key=key, event="e", received_at=FROZEN - age))
    assert app.tasks[name]() == {"pruned": 1}  # run in this process, as the embedded ticker does
    assert app.tasks[name]() == {"pruned": 0}
    with get_engine().connect() as connection:
        keys = connection.execute(sa.text("SELECT delivery_key FROM webhook_deliveries")).scalars()
        assert sorted(keys) == ["new", "recent"]
