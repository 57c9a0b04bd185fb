"""The therapist's availability and clients pages on the production build, and how time off
and holidays show in the calendar."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.therapist_setup import (SCREENSHOTS, book, local, open_calendar_week_of, register, sign_in,
                                       therapist_with_hours)
from therabee.services import clock

pytestmark = pytest.mark.dated

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def _occurrence_name(name: str, day) -> str:
    return f"{name}, {day:%A, %d %B %Y} 10:00–10:50"


def test_time_off_added_on_availability_marks_the_calendar_and_hides_its_occurrences(live_app: str, page: Page):
    therapist = therapist_with_hours(live_app)
    client = register(live_app, "client", NEW_YORK, "Rae Collins")
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=8)
    book(live_app, client, therapist, local(day, 10, BERLIN), BERLIN)
    sign_in(page, live_app, therapist)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/availability")
    expect(page.get_by_role("row", name=re.compile(r"^Sunday 07:00–21:00"))).to_be_visible(timeout=20_000)
    page.get_by_label("Start date").fill(day.isoformat())
    page.get_by_label("Start time").fill("00:00")
    page.get_by_label("End date").fill((day + timedelta(days=1)).isoformat())
    page.get_by_label("End time").fill("00:00")
    page.get_by_label("Reason").fill("Conference")
    page.get_by_role("button", name="Add time off").click()
    expect(page.get_by_role("status").filter(has_text="Time off added.")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("row").filter(has_text="Conference")).to_be_visible()
    page.get_by_label("Holidays country").fill("DE")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Practice rules saved.")).to_be_visible(timeout=10_000)
    page.screenshot(path=str(SCREENSHOTS / "availability.png"), full_page=True)

    shown = open_calendar_week_of(page, day, BERLIN)
    expect(page.get_by_label("Away: Time off: Conference")).to_be_visible()
    expect(page.get_by_role("note", name="Time off: Conference")).to_be_visible()
    expect(page.get_by_role("button", name=_occurrence_name(client.name, day))).to_have_count(0)
    page.get_by_role("button", name="Next", exact=True).click()
    shown += timedelta(weeks=1)
    expect(page.get_by_role("button", name=_occurrence_name(client.name, day + timedelta(weeks=1)))
           ).to_be_visible(timeout=10_000)

    page.get_by_role("button", name="Month view").click()
    expect(page.get_by_test_id("range-label")).to_have_text(f"{shown:%B %Y}", timeout=10_000)
    for month in range(shown.month + 1, 13):  # on to December, one month at a time
        page.get_by_role("button", name="Next", exact=True).click()
        expect(page.get_by_test_id("range-label")).to_have_text(f"{date(shown.year, month, 1):%B %Y}",
                                                                timeout=10_000)
    christmas = date(shown.year, 12, 25)
    expect(page.get_by_role("grid", name=f"Month of December {shown.year}")).to_be_visible()
    cell = page.get_by_role("gridcell", name=f"{christmas:%a %d %b}")
    expect(cell.get_by_label("Away: Holiday")).to_be_visible(timeout=10_000)
    assert page.console_errors == []


def test_clients_page_lists_series_and_pauses_then_ends_one(live_app: str, page: Page):
    therapist = therapist_with_hours(live_app)
    client = register(live_app, "client", NEW_YORK, "Kim Duarte")
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=8)
    book(live_app, client, therapist, local(day, 15, BERLIN), BERLIN)
    sign_in(page, live_app, therapist)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/clients")
    card = page.get_by_label(f"Client {client.name}")
    expect(card).to_be_visible(timeout=20_000)
    expect(card).to_contain_text("active")
    expect(card).to_contain_text(f"Next: {day:%a %d %b %Y}, 15:00")

    card.get_by_label(f"Pause from {client.name}").fill(day.isoformat())
    card.get_by_label(f"Pause until {client.name}").fill((day + timedelta(days=1)).isoformat())
    card.get_by_role("button", name=f"Pause series of {client.name}").click()
    expect(page.get_by_role("status").filter(has_text="Series paused.")).to_be_visible(timeout=10_000)
    expect(card).to_contain_text("Paused")
    expect(card).to_contain_text(f"Next: {day + timedelta(weeks=1):%a %d %b %Y}, 15:00")
    page.screenshot(path=str(SCREENSHOTS / "clients.png"), full_page=True)

    card.get_by_role("button", name=f"End series of {client.name} from next occurrence").click()
    expect(page.get_by_role("status").filter(has_text="Series ended")).to_be_visible(timeout=10_000)
    # what is left is the paused first occurrence: it comes back if the pause goes, so the
    # series stays active until that day is past, with nothing next and its end shown
    expect(card).to_contain_text(f"Ends before {day + timedelta(weeks=1):%a %d %b %Y}, 15:00")
    expect(card).to_contain_text("Next: none")
    expect(card).to_contain_text("active")
    expect(card.get_by_role("button", name=f"End series of {client.name} from next occurrence")).to_be_disabled()
    assert page.console_errors == []


def test_calendar_reads_on_a_phone_and_sends_clients_away(live_app: str, page: Page):
    therapist = therapist_with_hours(live_app)
    client = register(live_app, "client", NEW_YORK, "Noor Haddad")
    day = clock.now().astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=8)
    book(live_app, client, therapist, local(day, 10, BERLIN), BERLIN)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_app, therapist)

    open_calendar_week_of(page, day, BERLIN)
    expect(page.get_by_role("button", name=_occurrence_name(client.name, day))).to_be_attached()
    page.screenshot(path=str(SCREENSHOTS / "calendar-week-phone.png"), full_page=True)

    page.context.clear_cookies()
    sign_in(page, live_app, client)
    page.goto("/calendar")
    expect(page).to_have_url(re.compile(r"/sessions/?$"), timeout=20_000)
