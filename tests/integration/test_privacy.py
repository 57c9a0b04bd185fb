"""Rule 8: a client's name reaches no meeting, no job payload, no mail text and no log line."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from tests.integration.test_meetings import (FROZEN, book_daily, ensure_all, frozen_clock,  # noqa: F401
                                             recorded_jobs, session_rows)

pytest_plugins = ["tests.integration.conftest_zoom"]

NAME = "Zebulon Quixotesworth-Fairweather"


def test_a_clients_name_appears_in_no_meeting_job_mail_or_log(api, frozen_clock, recorded_jobs, fake_zoom,
                                                             make_zoom_client, caplog):
    from therabee.services import horizon, mail, meetings, reminders

    caplog.set_level(logging.DEBUG)
    mail.outbox.clear()
    zoom = make_zoom_client()
    therapist, client, series_id = book_daily(api, FROZEN + timedelta(hours=2), name=NAME)
    assert api.get("/api/v1/me", headers=client.auth).json()["name"] == NAME  # the name is stored
    horizon.tick()
    assert ensure_all(zoom) == ["created"] * 3
    row = session_rows(series_id)[1]
    moved = api.post(f"/api/v1/occurrences/{row.series_id}:{row.original_start:%Y%m%dT%H%M%SZ}/move",
                     headers=therapist.auth, json={"start": (row.start + timedelta(hours=1)).isoformat()})
    assert moved.status_code == 200, moved.text
    for name, payload in list(recorded_jobs):
        getattr(meetings, name.split(".")[1] + "_meeting")(payload["session_id"], zoom)
    assert reminders.send_due() == 1  # the first session, 2 h away: its "tomorrow" mail
    frozen_clock[0] = FROZEN + timedelta(minutes=90)
    assert reminders.send_due() == 1 and len(mail.outbox) == 2

    surname = NAME.split()[1].split("-")[0]
    seen = {
        "meetings on the fake Zoom": json.dumps(fake_zoom.meetings),
        "requests to the fake Zoom": json.dumps([r[3] for r in fake_zoom.requests]),
        "job payloads": json.dumps(recorded_jobs),
        "mails": json.dumps([[m.subject, m.body] for m in mail.outbox]),
        "log lines": "\n".join(record.getMessage() for record in caplog.records),
    }
    assert seen["requests to the fake Zoom"] != "[]" and caplog.records  # we looked at something
    for where, text in seen.items():
        for part in (NAME, "Zebulon", surname):
            assert part not in text, f"{part!r} found in {where}"
    mail.outbox.clear()


def test_a_failed_statement_quotes_none_of_its_parameters(clean_db):
    """A database error is logged with its traceback (the UI's error banner, jobs): its text
    names the statement but not the values bound to it."""
    import pytest
    import sqlalchemy as sa

    from therabee.db.engine import get_engine

    with pytest.raises(sa.exc.DBAPIError) as failure, get_engine().connect() as connection:
        connection.execute(sa.text("SELECT * FROM no_such_table WHERE name = :name"), {"name": NAME})
    assert "no_such_table" in str(failure.value)
    assert NAME not in str(failure.value) and NAME not in repr(failure.value)
