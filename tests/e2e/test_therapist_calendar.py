"""The therapist's calendar on the production build: where a client's booking lands, browsing
that writes nothing, and attendance on a past session."""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

import pytest

from tests.e2e.therapist_setup import (SCREENSHOTS, book, local, open_calendar_week_of, register, sign_in,
                                       therapist_with_hours)
from tests.integration.pg_counters import table_writes
from therabee.services import clock

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
HOUR_PX = 48
STATS_IDLE_FLUSH_S = 11  # PostgreSQL publishes an idle backend's counters within 10 s


def _settled_writes() -> int:
    """Rows written so far, once the live app's pooled backends have published their counters."""
    last = table_writes()
    while True:
        time.sleep(STATS_IDLE_FLUSH_S)
        now = table_writes()
        if now == last:
            return now
        last = now


def _wait_loaded(page: Page) -> None:
    expect(page.get_by_text("Loading your calendar…")).to_have_count(0, timeout=20_000)


def _step(page: Page, name: str) -> None:
    label = page.get_by_test_id("range-label").inner_text()
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_test_id("range-label")).not_to_have_text(label, timeout=10_000)
    _wait_loaded(page)


def test_browsing_months_and_weeks_writes_no_row(live_app: str, page: Page):
    therapist = therapist_with_hours(live_app)
    client = register(live_app, "client", NEW_YORK, "Sam Rivera")
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=9)
    book(live_app, client, therapist, local(day, 11, BERLIN), BERLIN)
    sign_in(page, live_app, therapist)
    page.goto("/calendar")
    expect(page.get_by_role("grid", name="Week of ")).to_be_visible(timeout=20_000)
    _wait_loaded(page)

    before = _settled_writes()
    for _ in range(6):
        _step(page, "Next")
    page.get_by_role("button", name="Month view").click()
    expect(page.get_by_role("grid", name="Month of ")).to_be_visible()
    for _ in range(6):
        _step(page, "Next")
    for _ in range(3):
        _step(page, "Previous")
    after = _settled_writes()

    assert before > 0  # the set-up's rows are counted: the counters are live
    assert after == before
    assert page.console_errors == []


@pytest.mark.dated
def test_therapist_sees_a_clients_weekly_booking_at_berlin_time_and_navigates(live_app: str, page: Page):
    therapist = therapist_with_hours(live_app)
    client = register(live_app, "client", NEW_YORK, "Alex Morgan")
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=8)
    start = local(day, 10, BERLIN)  # 04:00 in New York: booked by the client in their own zone
    book(live_app, client, therapist, start, NEW_YORK)
    sign_in(page, live_app, therapist)

    open_calendar_week_of(page, day, BERLIN)
    session = page.get_by_role("button", name=f"{client.name}, {day:%A, %d %B %Y} 10:00–10:50, scheduled")
    expect(session).to_be_visible()
    assert session.evaluate("e => getComputedStyle(e).top") == f"{(10 - 7) * HOUR_PX}px"
    assert session.get_attribute("data-kind") == "virtual"
    page.set_viewport_size({"width": 1280, "height": 900})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "calendar-week.png"), full_page=True)

    session.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=client.name)).to_be_visible()
    expect(dialog.get_by_test_id("detail-status")).to_have_text("scheduled")
    expect(dialog.get_by_role("button", name="Cancel this occurrence")).to_be_visible()
    dialog.get_by_role("button", name="Close details").click()

    _step(page, "Next")
    # the series keeps 04:00 in New York: between the US and the EU DST changes that is 09:00 or 11:00 in Berlin
    later = (start.astimezone(ZoneInfo(NEW_YORK)) + timedelta(weeks=1)).astimezone(ZoneInfo(BERLIN))
    expect(page.get_by_role("button", name=f"{client.name}, {later:%A, %d %B %Y %H:%M}–"
                                           f"{later + timedelta(minutes=50):%H:%M}, scheduled")).to_be_visible()
    _step(page, "Previous")
    expect(session).to_be_visible()
    _step(page, "Today")
    today = clock.now().astimezone(ZoneInfo(BERLIN)).date()
    monday = today - timedelta(days=today.weekday())
    expect(page.get_by_test_id("range-label")).to_contain_text(f"{monday:%d %b}")

    shown = open_calendar_week_of(page, day, BERLIN)
    page.get_by_role("button", name="Month view").click()
    expect(page.get_by_role("grid", name=f"Month of {shown:%B %Y}")).to_be_visible()
    _wait_loaded(page)
    expect(page.get_by_role("button", name=f"{client.name}, {day:%A, %d %B %Y} 10:00–10:50, scheduled")
           ).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "calendar-month.png"), full_page=True)
    assert page.console_errors == []


@pytest.mark.dated
def test_therapist_marks_a_past_session_completed(live_app: str, page: Page):
    from therabee.services import booking, people

    therapist = therapist_with_hours(live_app)
    client = register(live_app, "client", NEW_YORK, "Jo Park")
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() - timedelta(days=2)
    start = local(day, 9, BERLIN)
    clock.set_clock(lambda: start - timedelta(days=1))  # the live app keeps its own clock
    try:
        booking.book(people.get_user(therapist.id), therapist_id=therapist.id, client_id=client.id, start=start,
                     timezone=BERLIN, duration_minutes=50, rrule=None)
    finally:
        clock.set_clock(None)
    sign_in(page, live_app, therapist)

    open_calendar_week_of(page, day, BERLIN)
    page.get_by_role("button", name=f"{client.name}, {day:%A, %d %B %Y} 09:00–09:50").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Cancel this occurrence")).to_have_count(0)
    dialog.get_by_role("button", name="Mark completed").click()

    expect(dialog.get_by_test_id("detail-status")).to_have_text("completed", timeout=10_000)
    expect(dialog.get_by_text("session created")).to_be_visible()
    dialog.get_by_role("button", name="Close details").click()
    completed = page.get_by_role("button", name=f"{client.name}, {day:%A, %d %B %Y} 09:00–09:50, completed")
    expect(completed).to_have_attribute("data-kind", "session")
    assert page.console_errors == []
