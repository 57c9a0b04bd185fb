"""Practice rules: time off is one row and hides occurrences; buffers, notice and window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from tests.integration.pg_counters import table_writes
from therabee.services import clock

pytestmark = pytest.mark.dated


def _occurrences(api, who, start, end, **params):
    response = api.get(f"{API}/occurrences", headers=who.auth,
                       params={"from": start.isoformat(), "to": end.isoformat(), **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_two_weeks_time_off_over_30_series_is_one_row_and_comes_back(api):
    therapist = therapist_with_hours(api)
    first = next_weekday_at(0, 9, "America/New_York", weeks_ahead=2)
    clients = []
    for i in range(30):  # 30 weekly series: Mon–Fri, 9:00..14:00 local, hourly
        client = register(api, "client")
        clients.append(client)
        start = first + timedelta(days=i % 5, hours=i // 5)
        assert book(api, client, therapist, start).status_code == 201
    off_start, off_end = first - timedelta(hours=12), first + timedelta(days=14) - timedelta(hours=12)
    window = (first - timedelta(days=1), first + timedelta(days=21))
    assert len(_occurrences(api, therapist, *window)) == 90
    before = table_writes()
    response = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": off_start.isoformat(), "end": off_end.isoformat(), "reason": "vacation"})
    assert response.status_code == 201, response.text
    assert table_writes() - before == 1
    assert len(_occurrences(api, therapist, *window)) == 30  # only the third week is left
    assert len(_occurrences(api, clients[0], *window)) == 1
    seen_by_client = api.get(f"{API}/therapists/{therapist.id}/time-off", headers=clients[0].auth,
                             params={"from": window[0].isoformat(), "to": window[1].isoformat()}).json()
    assert "reason" not in seen_by_client["items"][0]  # the reason is the therapist's own
    removed = api.delete(f"{API}/therapists/me/time-off/{response.json()['id']}", headers=therapist.auth)
    assert removed.status_code == 204
    assert len(_occurrences(api, therapist, *window)) == 90


def test_time_off_does_not_count_against_sessions_limit(api):
    therapist = therapist_with_hours(api)
    client = register(api, "client")
    start = next_weekday_at(1, 10, "America/New_York", weeks_ahead=2)
    assert book(api, client, therapist, start, sessions_limit=4).status_code == 201
    api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": (start - timedelta(hours=1)).isoformat(), "end": (start + timedelta(days=8)).isoformat()})
    items = _occurrences(api, client, start - timedelta(days=1), start + timedelta(weeks=10))
    assert len(items) == 4
    assert items[0]["start"] > (start + timedelta(days=8)).isoformat()[:19]


def test_buffer_after_keeps_free_time_between_sessions(api):
    therapist = therapist_with_hours(api)
    first, second = register(api, "client"), register(api, "client")
    start = next_weekday_at(2, 10, "America/New_York", weeks_ahead=2)
    assert book(api, first, therapist, start, rrule=None).status_code == 201
    # 50 min session + default 10 min buffer: 10:55 collides, 11:00 is fine
    assert book(api, second, therapist, start + timedelta(minutes=55), rrule=None, duration=30).status_code == 409
    assert book(api, second, therapist, start + timedelta(minutes=60), rrule=None, duration=30).status_code == 201
    rules = api.put(f"{API}/therapists/me/rules", headers=therapist.auth, json={
        "buffer_before_minutes": 0, "buffer_after_minutes": 30, "min_notice_hours": 24,
        "booking_window_weeks": 26})
    assert rules.status_code == 200, rules.text
    slots = api.get(f"{API}/therapists/{therapist.id}/slots", headers=first.auth, params={
        "from": start.isoformat(), "to": (start + timedelta(hours=4)).isoformat(),
        "duration_minutes": 30}).json()["items"]
    starts = {datetime.fromisoformat(s["start"]) for s in slots}
    assert start + timedelta(minutes=60) not in starts  # taken
    assert start + timedelta(minutes=90) not in starts  # inside the 30-minute buffer after 11:00–11:30
    assert start + timedelta(minutes=120) in starts


def test_minimum_notice_and_booking_window_refuse_clients_but_not_therapists(api):
    therapist = therapist_with_hours(api, "UTC", [{"weekday": d, "start": "00:00", "end": "23:59"}
                                                   for d in range(7)])
    client = register(api, "client", "UTC")
    soon = (clock.now().astimezone() + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    refused = book(api, client, therapist, soon, rrule=None)
    assert refused.status_code == 422
    assert "minimum_notice" in refused.json()["title"]
    assert refused.json()["errors"][0]["field"] == "start"
    on_behalf = book(api, therapist, therapist, soon, rrule=None, client_id=client.id)
    assert on_behalf.status_code == 201, on_behalf.text
    far = soon + timedelta(weeks=30)
    too_far = book(api, client, therapist, far, rrule=None)
    assert too_far.status_code == 422 and "booking_window" in too_far.json()["title"]
    occurrence = api.get(f"{API}/occurrences", headers=client.auth, params={
        "from": (soon - timedelta(hours=1)).isoformat(), "to": (soon + timedelta(hours=1)).isoformat()}).json()
    moved = api.post(f"{API}/occurrences/{occurrence['items'][0]['id']}/move", headers=client.auth,
                     json={"start": (soon + timedelta(hours=2)).isoformat()})
    assert moved.status_code == 422 and "minimum_notice" in moved.json()["title"]


def test_public_holidays_hide_occurrences(api):
    therapist = therapist_with_hours(api, "America/New_York")
    client = register(api, "client")
    api.put(f"{API}/therapists/me/rules", headers=therapist.auth, json={"holidays_country": "US"})
    year = clock.now().year + 1
    thanksgiving = next(d for d in (datetime(year, 11, day) for day in range(22, 29)) if d.weekday() == 3)
    from zoneinfo import ZoneInfo

    start = datetime(year, 11, thanksgiving.day, 10, tzinfo=ZoneInfo("America/New_York")) - timedelta(weeks=20)
    assert book(api, therapist, therapist, start, client_id=client.id).status_code == 201
    items = _occurrences(api, client, start, start + timedelta(weeks=22))
    days = {i["start"][:10] for i in items}
    assert f"{year}-11-{thanksgiving.day:02d}" not in days
    import holidays

    local_days = [(start + timedelta(weeks=w)).astimezone(ZoneInfo("America/New_York")).date() for w in range(22)]
    on_holidays = [d for d in local_days if d in holidays.US(years=year)]
    assert thanksgiving.date() in on_holidays
    assert len(items) == 22 - len(on_holidays)


def test_feed_shows_time_off_as_removed_occurrences(api):
    import icalendar

    therapist = therapist_with_hours(api)
    client = register(api, "client")
    start = next_weekday_at(1, 10, "America/New_York", weeks_ahead=2)
    assert book(api, client, therapist, start).status_code == 201
    api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": (start + timedelta(days=6)).isoformat(), "end": (start + timedelta(days=8)).isoformat()})
    feed_url = api.get(f"{API}/me", headers=client.auth).json()["feed_url"]
    ics = api.get(feed_url[feed_url.index("/api/v1"):])
    assert ics.status_code == 200
    event = next(c for c in icalendar.Calendar.from_ical(ics.content).walk("VEVENT"))
    exdates = [d.dt for ex in ([event["EXDATE"]] if not isinstance(event.get("EXDATE"), list)
                              else event["EXDATE"]) for d in ex.dts]
    assert [d.astimezone(start.tzinfo) for d in exdates] == [start + timedelta(weeks=1)]


def test_time_off_hides_materialized_sessions_and_they_come_back_when_it_goes(api):
    from therabee.db.engine import get_engine
    from therabee.services import horizon

    therapist = therapist_with_hours(api, "UTC", [{"weekday": d, "start": "00:00", "end": "23:59"}
                                                   for d in range(7)])
    client = register(api, "client", "UTC")
    start = (clock.now().astimezone() + timedelta(hours=30)).replace(minute=0, second=0, microsecond=0)
    assert book(api, client, therapist, start, rrule="FREQ=DAILY").status_code == 201
    horizon.tick()

    def sessions() -> dict:
        from therabee.db.models import Session

        with get_engine().connect() as connection:  # the typed columns: aware UTC on both databases
            return dict(connection.execute(sa.select(Session.start, Session.status).where(
                Session.start < start + timedelta(days=2)).order_by(Session.start)).all())

    def listed() -> list:
        response = api.get(f"{API}/occurrences", headers=client.auth, params={
            "from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()})
        return [(datetime.fromisoformat(i["start"].replace("Z", "+00:00")), i["status"])
                for i in response.json()["items"]]

    both = [start, start + timedelta(days=1)]
    assert [s.astimezone(timezone.utc) for s in sessions()] == both
    response = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": start.isoformat(), "end": (start + timedelta(days=1, hours=1)).isoformat()})
    assert response.status_code == 201, response.text
    assert list(sessions().values()) == ["hidden", "hidden"]
    assert listed() == []  # hidden, not cancelled

    assert api.delete(f"{API}/therapists/me/time-off/{response.json()['id']}",
                      headers=therapist.auth).status_code == 204
    assert listed() == [(s, "scheduled") for s in both]
    horizon.tick()  # made due by the removal: the sessions are scheduled again
    assert list(sessions().values()) == ["scheduled", "scheduled"]


def test_time_off_notice_goes_once_per_affected_series(api):
    from therabee.services import mail, practice

    therapist = therapist_with_hours(api)
    first = next_weekday_at(0, 9, "America/New_York", weeks_ahead=2)
    clients = [register(api, "client") for _ in range(3)]
    for i, client in enumerate(clients):
        assert book(api, client, therapist, first + timedelta(hours=i * 2)).status_code == 201
    response = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": (first - timedelta(hours=1)).isoformat(), "end": (first + timedelta(days=10)).isoformat()})
    mail.outbox.clear()
    assert practice.send_time_off_notices(response.json()["id"]) == 3
    assert sorted(m.to for m in mail.outbox) == sorted(c.email for c in clients)
    assert all("2 session(s)" in m.body for m in mail.outbox)  # two weekly occurrences each


def test_split_move_and_free_slots_hold_to_notice_and_buffers_too(api):
    therapist = therapist_with_hours(api, "UTC", [{"weekday": d, "start": "00:00", "end": "23:59"}
                                                   for d in range(7)])
    client, other = register(api, "client", "UTC"), register(api, "client", "UTC")
    soon = (clock.now().astimezone() + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    created = book(api, therapist, therapist, soon, rrule="FREQ=DAILY", client_id=client.id)
    assert created.status_code == 201, created.text
    series_id = created.json()["id"]
    tomorrow = (soon + timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    split = api.post(f"{API}/series/{series_id}/split", headers=client.auth, json={
        "from": (soon + timedelta(days=1)).isoformat(), "start": (soon + timedelta(hours=20)).isoformat()})
    assert split.status_code == 422 and "minimum_notice" in split.json()["title"]
    # buffers: another client's occurrence in two days, then a move that ends 5 min before it
    later = soon + timedelta(days=2, hours=3)
    assert book(api, other, therapist, later, rrule=None).status_code == 201
    moved = api.post(f"{API}/occurrences/{series_id}:{tomorrow}/move", headers=therapist.auth,
                     json={"start": (later - timedelta(minutes=55)).isoformat()})
    assert moved.status_code == 409 and moved.json()["conflicts"]
    slots = api.get(f"{API}/therapists/{therapist.id}/slots", headers=client.auth, params={
        "from": soon.isoformat(), "to": (soon + timedelta(days=3)).isoformat(),
        "duration_minutes": 50}).json()["items"]
    earliest = min(datetime.fromisoformat(s["start"]) for s in slots)
    assert earliest >= clock.now().astimezone() + timedelta(hours=24)  # minimum notice
    starts = {datetime.fromisoformat(s["start"]) for s in slots}
    assert later - timedelta(minutes=30) not in starts  # 50 min would end inside the 10 min buffer
    assert later + timedelta(hours=1) in starts
