"""Reminders on two real Celery workers at once: each reminder reaches its reader once.

The workers send through a real SMTP server of this test (smtp_sink.py), so what
they sent is counted outside their processes.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from tests.integration.factories import book, register, therapist_with_hours
from tests.integration.smtp_sink import SmtpSink
from therabee.services import clock

pytest_plugins = ["tests.integration.conftest_celery"]
pytestmark = pytest.mark.postgres(reason="real Celery workers; the default set-up runs jobs in-process")

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
SEND_DUE = "therabee.reminders.send_due"
SESSIONS = 12


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def _starts(how_many: int) -> list[datetime]:
    """Instants 2–20 h from real now (inside the 24 h reminder's window, outside the 1 h
    one), 45 min apart, none crossing midnight (the availability ends at 23:59)."""
    now = clock.now().replace(second=0, microsecond=0)
    start, starts = now + timedelta(hours=2), []
    while len(starts) < how_many:
        if (start + timedelta(minutes=30)).date() == start.date():
            starts.append(start)
        start += timedelta(minutes=45)
    assert starts[-1] < now + timedelta(hours=20)
    return starts


def test_two_workers_sending_due_reminders_at_once_send_each_once(api, workers, producer, smtp_sink):
    from therabee.services import horizon

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    readers = []
    for start in _starts(SESSIONS):
        client = register(api, "client", "UTC")
        response = book(api, therapist, therapist, start, rrule=None, duration=30, client_id=client.id)
        assert response.status_code == 201, response.text
        readers.append(client.email)
    assert horizon.tick().sessions_created == SESSIONS

    smtp = {"THERABEE_SMTP_HOST": "127.0.0.1", "THERABEE_SMTP_PORT": str(smtp_sink.port)}
    first, second = workers(**smtp), workers(**smtp)
    results = [producer.send_task(SEND_DUE) for _ in range(8)]
    sent = [result.get(timeout=60)["sent"] for result in results]

    assert sum(sent) == SESSIONS
    messages = smtp_sink.received()
    assert Counter(m["To"] for m in messages) == Counter(readers)
    assert {m["Subject"] for m in messages} == {"Your session is tomorrow"}
    for worker in (first, second):  # both took part
        assert f"Task {SEND_DUE}[" in worker.log(), worker.log()
    assert producer.send_task(SEND_DUE).get(timeout=60)["sent"] == 0
    assert len(smtp_sink.received()) == SESSIONS
