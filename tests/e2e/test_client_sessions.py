"""My sessions in the browser: a late cancellation, a three-week pause, "this and following",
times in the client's own zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.therapist_setup import API, SCREENSHOTS, book, local, register, sign_in, therapist_with_hours
from therabee.services import clock

pytestmark = pytest.mark.dated

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
ALL_DAY = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


def when(instant: datetime) -> str:
    seen = instant.astimezone(ZoneInfo(NEW_YORK))
    return f"{seen:%a} {seen.day} {seen:%b}, {seen:%H:%M}"


def session_item(page: Page, instant: datetime, status: str = "scheduled"):
    return page.get_by_role("listitem", name=re.compile(f"^Session on {re.escape(when(instant))} with .*, {status}$"))


def soon_in_berlin(hours: int = 3) -> datetime:
    """A start ~`hours` ahead whose 50 minutes stay inside one Berlin day."""
    start = clock.now().replace(second=0, microsecond=0) + timedelta(hours=hours)
    start += timedelta(minutes=-start.minute % 10)
    while start.astimezone(ZoneInfo(BERLIN)).hour >= 23:
        start += timedelta(minutes=30)
    return start


def therapist_starts(base: str, therapist, from_: datetime, to: datetime) -> list[datetime]:
    found = httpx.get(f"{base}{API}/occurrences", headers=therapist.auth, timeout=10,
                      params={"from": from_.isoformat(), "to": to.isoformat()})
    assert found.status_code == 200, found.text
    return sorted(datetime.fromisoformat(o["start"]) for o in found.json()["items"] if o["status"] == "scheduled")


def manage(page: Page, instant: datetime):
    page.get_by_role("button", name=f"Manage session on {when(instant)}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_late_cancel_then_a_three_week_pause(live_app: str, page: Page):
    therapist = therapist_with_hours(live_app, BERLIN, ALL_DAY)
    client = register(live_app, "client", NEW_YORK, "Morgan Ellis")
    first = soon_in_berlin()
    made = httpx.post(f"{live_app}{API}/series", headers=therapist.auth, timeout=10, json={
        "therapist_id": therapist.id, "client_id": client.id, "start": first.isoformat(), "timezone": BERLIN,
        "duration_minutes": 50, "rrule": "FREQ=WEEKLY"})
    assert made.status_code == 201, made.text
    berlin = first.astimezone(ZoneInfo(BERLIN))
    weeks = [(berlin + timedelta(weeks=n)).replace(tzinfo=None).replace(tzinfo=ZoneInfo(BERLIN)).astimezone(timezone.utc)
             for n in range(6)]  # the rule keeps Berlin's wall-clock time
    sign_in(page, live_app, client)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/sessions")
    expect(session_item(page, weeks[0])).to_be_visible(timeout=20_000)
    expect(page.get_by_role("button", name=f"Join session on {when(weeks[0])}")).to_have_count(0)  # 3 h ahead
    expect(session_item(page, weeks[0]).get_by_text("Join opens 1 h before")).to_be_visible()
    expect(page.get_by_role("textbox", name="Calendar feed link")).to_have_value(re.compile(r"/api/v1/calendar/.+\.ics$"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "my-sessions.png"), full_page=True)

    dialog = manage(page, weeks[0])
    expect(dialog.get_by_role("note")).to_contain_text("this will count as a late cancellation")
    dialog.get_by_role("button", name="Cancel this session").click()
    expect(session_item(page, weeks[0], "late cancelled")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("status").filter(has_text="The session was cancelled.")).to_be_visible()

    dialog = manage(page, weeks[1])
    expect(dialog.get_by_role("note")).to_have_count(0)
    paused_from = weeks[1].astimezone(ZoneInfo(BERLIN)).date()
    dialog.get_by_label("Pause from").fill(paused_from.isoformat())
    dialog.get_by_label("Pause until").fill((paused_from + timedelta(days=20)).isoformat())
    dialog.get_by_role("button", name="Pause the series").click()
    expect(page.get_by_role("status").filter(has_text="paused")).to_be_visible(timeout=15_000)
    for gone in weeks[1:4]:
        expect(session_item(page, gone)).to_have_count(0)
    expect(session_item(page, weeks[4])).to_be_visible()
    expect(page.get_by_role("listitem", name=re.compile("^Series: ")).get_by_text(
        f"{paused_from:%d %b %Y}", exact=False)).to_be_visible()
    assert therapist_starts(live_app, therapist, weeks[1] - timedelta(hours=1), weeks[4] + timedelta(hours=1)) \
        == [weeks[4]]
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "my-sessions-phone.png"), full_page=True)
    assert page.console_errors == []


def test_this_and_following_moves_the_rest_and_keeps_the_earlier_part(live_app: str, page: Page):
    therapist = therapist_with_hours(live_app, BERLIN)
    client = register(live_app, "client", NEW_YORK, "Jamie Cho")
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=3)
    old = [local(day + timedelta(weeks=n), 15, BERLIN) for n in range(4)]
    new = [local(day + timedelta(weeks=n), 17, BERLIN) for n in range(4)]
    book(live_app, client, therapist, old[0], BERLIN)
    sign_in(page, live_app, client)

    page.goto("/sessions")
    expect(session_item(page, old[2])).to_be_visible(timeout=20_000)
    dialog = manage(page, old[2])
    target = new[2].astimezone(ZoneInfo(NEW_YORK))
    dialog.get_by_label("From now on date").fill(f"{target:%Y-%m-%d}")
    dialog.get_by_label("From now on time").fill(f"{target:%H:%M}")
    dialog.get_by_role("button", name="Change this and following").click()

    expect(page.get_by_role("status").filter(has_text="following")).to_be_visible(timeout=15_000)
    for kept in old[:2]:
        expect(session_item(page, kept)).to_be_visible()
    for moved in new[2:]:
        expect(session_item(page, moved)).to_be_visible()
    for gone in old[2:] + new[:2]:
        expect(session_item(page, gone)).to_have_count(0)
    assert therapist_starts(live_app, therapist, old[0] - timedelta(hours=1), new[3] + timedelta(hours=1)) \
        == old[:2] + new[2:]
    assert page.console_errors == []
