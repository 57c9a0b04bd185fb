"""Reminder mails 24 h and 1 h before a session: due ones only, each once, neutral text."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.integration.factories import book, register, therapist_with_hours
from tests.integration.test_meetings import (ALL_WEEK, FROZEN, frozen_clock, session_rows,  # noqa: F401
                                             set_session)


@pytest.fixture
def outbox():
    from therabee.services import mail

    mail.outbox.clear()
    yield mail.outbox
    mail.outbox.clear()


def book_one(api, therapist, hours_ahead: float, zone: str = "Europe/Berlin"):
    client = register(api, "client", zone, name="Reminder Reader")
    start = FROZEN + timedelta(hours=hours_ahead)
    response = book(api, therapist, therapist, start, rrule=None, client_id=client.id)
    assert response.status_code == 201, response.text
    return client


def test_each_reminder_is_sent_once_when_due(api, frozen_clock, outbox):
    from therabee.services import horizon, reminders

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    in_20h, in_30m, in_30h = (book_one(api, therapist, h) for h in (20, 0.5, 30))
    horizon.tick()
    assert reminders.send_due() == 2
    assert sorted(m.to for m in outbox) == sorted([in_20h.email, in_30m.email])
    assert reminders.send_due() == 0
    frozen_clock[0] = FROZEN + timedelta(hours=6)  # in_30h is now 24 h away
    assert reminders.send_due() == 1 and outbox[-1].to == in_30h.email
    frozen_clock[0] = FROZEN + timedelta(hours=19, minutes=10)  # in_20h is 50 min away
    assert reminders.send_due() == 1 and outbox[-1].to == in_20h.email
    assert outbox[-1].subject == "Your session starts in an hour"
    assert reminders.send_due() == 0 and len(outbox) == 4


def test_the_mail_says_when_in_the_readers_zone_and_how_to_join(api, frozen_clock, outbox):
    from therabee.services import horizon, reminders

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    book_one(api, therapist, 20, zone="Asia/Tokyo")  # 2030-01-08 08:00 UTC = 17:00 in Tokyo
    horizon.tick()
    set_session(session_rows()[0].id, meeting_state="created", join_url="https://fake.zoom.us/j/1?pwd=x")
    reminders.send_due()
    (mail,) = outbox
    assert mail.subject == "Your session is tomorrow"
    assert "Tuesday 08 January 2030 at 17:00 (your time zone Asia/Tokyo)" in mail.body
    assert "Join: https://fake.zoom.us/j/1?pwd=x" in mail.body
    assert "Reminder Reader" not in mail.body + mail.subject


def test_two_workers_at_once_send_each_reminder_once(api, frozen_clock, outbox):
    from therabee.services import horizon, reminders

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    clients = [book_one(api, therapist, 10 + hour) for hour in range(8)]
    horizon.tick()
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        counts.append(reminders.send_due())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 8
    assert sorted(m.to for m in outbox) == sorted(c.email for c in clients)


def test_a_failed_send_gives_the_reminder_back(api, frozen_clock, outbox, monkeypatch):
    from therabee.services import horizon, mail, reminders

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    book_one(api, therapist, 20)
    horizon.tick()
    real_send = mail.send
    monkeypatch.setattr(mail, "send", lambda *a: (_ for _ in ()).throw(OSError("smtp down")))
    assert reminders.send_due() == 0
    monkeypatch.setattr(mail, "send", real_send)
    assert reminders.send_due() == 1 and len(outbox) == 1


def test_a_session_moved_later_is_reminded_again_for_its_new_time(api, frozen_clock, outbox):
    from therabee.services import horizon, reminders

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    book_one(api, therapist, 20)
    horizon.tick()
    assert reminders.send_due() == 1
    row = session_rows()[0]
    set_session(row.id, start=row.start + timedelta(days=2), end=row.end + timedelta(days=2))
    assert reminders.send_due() == 0  # 68 h away now
    frozen_clock[0] = FROZEN + timedelta(days=2)
    assert reminders.send_due() == 1 and len(outbox) == 2


def test_cancelled_sessions_get_no_reminder(api, frozen_clock, outbox):
    from therabee.services import horizon, reminders

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    book_one(api, therapist, 20)
    horizon.tick()
    set_session(session_rows()[0].id, status="cancelled")
    assert reminders.send_due() == 0 and len(outbox) == 0
