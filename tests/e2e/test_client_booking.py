"""The client books in the browser: sign up, pick a free time in their own zone, read the
rule in words, confirm; a booking that collides names the dates and writes nothing."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.e2e.therapist_setup import (API, PASSWORD, SCREENSHOTS, book, local, open_calendar_week_of, register,
                                       sign_in, therapist_with_hours)
from therabee.services import clock

pytestmark = pytest.mark.dated

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def day_label(instant: datetime) -> str:
    return f"{instant:%a} {instant.day} {instant:%b}"


def pick_slot(page: Page, therapist_name: str, start: datetime) -> None:
    """On /book: choose the therapist, the day and the time of `start` (told in New York)."""
    seen = start.astimezone(ZoneInfo(NEW_YORK))
    page.get_by_role("button", name=f"Book with {therapist_name}").click()
    page.get_by_role("button", name=re.compile(f"^{day_label(seen)}, \\d+ free$")).click()
    page.get_by_role("button", name=f"{day_label(seen)} at {seen:%H:%M}", exact=True).click()
    expect(page.get_by_test_id("summary")).to_be_visible(timeout=10_000)


def series_rows(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM series")).scalar_one()
    finally:
        engine.dispose()


def test_new_client_books_a_weekly_series_and_both_sides_see_it(live_app: str, page: Page, browser):
    therapist = therapist_with_hours(live_app, BERLIN)
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=8)
    start = local(day, 16, BERLIN)
    name = f"Casey Client {uuid.uuid4().hex[:4]}"

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/signup")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(f"casey-{uuid.uuid4().hex[:8]}@example.test")
    page.get_by_label("Password (8 characters or more)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="My sessions")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("No upcoming sessions.")).to_be_visible(timeout=15_000)

    page.goto("/book")
    expect(page.get_by_text("Times are shown in your time zone: New York time.")).to_be_visible(timeout=15_000)
    pick_slot(page, therapist.name, start)
    seen = start.astimezone(ZoneInfo(NEW_YORK))
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text(f"Every {seen:%A} at {seen:%H:%M} New York time (16:00 Berlin time)")
    expect(summary).to_contain_text("until you stop")
    page.get_by_label("Every 2 weeks").click()
    expect(summary).to_contain_text("Every 2 weeks on")
    page.get_by_label("Weekly", exact=True).click()
    page.get_by_label("After a number of sessions", exact=True).click()
    page.get_by_label("Number of sessions", exact=True).fill("10")
    expect(summary).to_contain_text("for 10 sessions")
    page.get_by_label("Never").click()
    expect(summary).to_contain_text("until you stop")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "book.png"), full_page=True)
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("status").filter(has_text="Booked: Every")).to_be_visible(timeout=15_000)

    page.get_by_role("link", name="See my sessions").click()
    when = f"{day_label(seen)}, {seen:%H:%M}"
    expect(page.get_by_role("listitem", name=f"Session on {when} with {therapist.name}, scheduled")
           ).to_be_visible(timeout=15_000)
    next_week = (start + timedelta(weeks=1)).astimezone(ZoneInfo(NEW_YORK))
    expect(page.get_by_role("listitem", name=re.compile(f"^Session on {day_label(next_week)}, "))).to_be_visible()
    assert page.console_errors == []

    seen_by_therapist = httpx.get(f"{live_app}{API}/occurrences", headers=therapist.auth, timeout=10, params={
        "from": (start - timedelta(days=1)).isoformat(), "to": (start + timedelta(days=1)).isoformat()})
    assert [datetime.fromisoformat(o["start"]) for o in seen_by_therapist.json()["items"]] == [start]

    therapist_page = browser.new_context(base_url=live_app).new_page()
    sign_in(therapist_page, live_app, therapist)
    open_calendar_week_of(therapist_page, day, BERLIN)
    expect(therapist_page.get_by_role("button", name=f"{name}, {day:%A, %d %B %Y} 16:00–16:50, scheduled")
           ).to_be_visible(timeout=15_000)
    therapist_page.context.close()


def test_a_colliding_booking_names_the_dates_and_writes_nothing(live_app: str, page: Page, migrated_db: str):
    therapist = therapist_with_hours(live_app, BERLIN)
    other = register(live_app, "client", BERLIN, "Other Client")
    client = register(live_app, "client", NEW_YORK, "Robin Lee")
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=8)
    start = local(day, 16, BERLIN)
    taken = local(day + timedelta(weeks=2), 16, BERLIN)
    book(live_app, other, therapist, taken, BERLIN, rrule=None)
    sign_in(page, live_app, client)

    page.goto("/book")
    pick_slot(page, therapist.name, start)
    before = series_rows(migrated_db)
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("alert")).to_contain_text("collide", timeout=15_000)
    taken_seen = taken.astimezone(ZoneInfo(NEW_YORK))
    dates = page.get_by_role("list", name="Colliding dates")
    expect(dates.get_by_role("listitem")).to_have_text([f"{day_label(taken_seen)}, {taken_seen:%H:%M}"])
    assert series_rows(migrated_db) == before
    expect(page.get_by_text("Traceback")).to_have_count(0)
    assert page.console_errors == []
