"""Join on the production build with the free video provider. On the therapist's calendar a
session three days ahead offers no Join, only when it opens; one 30 minutes ahead — still
virtual, and no periodic run in this app to make its meeting — is opened by Join, gets its
meeting within seconds, and Join opens the meeting's link. The client's sessions page does
the same."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.therapist_setup import (API, SCREENSHOTS, local, open_calendar_week_of, register, sign_in,
                                       therapist_with_hours)
from therabee.services import clock

ALL_DAY = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]
ZONES = ("Europe/Berlin", "America/New_York")  # six hours apart: one keeps a session inside its day
MINUTES = 50
ROOM = re.compile(r"https://meet\.jit\.si/therabee-[a-z0-9]{20,}")


def _one_off(base: str, therapist, client, start: datetime, zone: str) -> str:
    """Book a one-off for the client (the therapist may, inside the minimum notice); its occurrence id."""
    made = httpx.post(f"{base}{API}/series", headers=therapist.auth, timeout=10, json={
        "therapist_id": therapist.id, "client_id": client.id, "start": start.isoformat(), "timezone": zone,
        "duration_minutes": MINUTES, "rrule": None})
    assert made.status_code == 201, made.text
    return f"{made.json()['id']}:{start.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}"


def _soon_and_zone() -> tuple[datetime, str]:
    """A whole minute 30–31 minutes ahead, and a zone where its 50 minutes stay inside one day."""
    soon = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=31)
    last = soon + timedelta(minutes=MINUTES - 1)
    return soon, next(z for z in ZONES if soon.astimezone(ZoneInfo(z)).date() == last.astimezone(ZoneInfo(z)).date())


def _stand_in_rooms(page: Page) -> None:
    """The free provider's rooms are on the internet: the browser gets a stand-in page instead."""
    page.context.route(ROOM, lambda route: route.fulfill(status=200, content_type="text/html",
                                                         body="<title>Video room</title><h1>Video room</h1>"))


def _label(name: str, start: datetime, zone: str) -> str:
    """The calendar button's name: client, local day and times, status."""
    begins = start.astimezone(ZoneInfo(zone))
    ends = begins + timedelta(minutes=MINUTES)
    return f"{name}, {begins:%A, %d %B %Y} {begins:%H:%M}–{ends:%H:%M}, scheduled"


def _back_to_this_week(page: Page, zone: str) -> None:
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    page.get_by_role("button", name="Today", exact=True).click()
    expect(page.get_by_test_id("range-label")).to_contain_text(f"{today - timedelta(days=today.weekday()):%d %b}")


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))  # the dialog, as seen
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.dated
def test_a_far_session_offers_no_join_and_a_near_one_joins_its_new_meeting(live_app: str, page: Page):
    soon, zone = _soon_and_zone()
    therapist = therapist_with_hours(live_app, zone, ALL_DAY)
    client = register(live_app, "client", "Europe/London", "Riley Quinn")
    far_day = clock.now().astimezone(ZoneInfo(zone)).date() + timedelta(days=3)
    far = local(far_day, 10, zone)
    _one_off(live_app, therapist, client, far, zone)
    near_id = _one_off(live_app, therapist, client, soon, zone)
    _stand_in_rooms(page)
    sign_in(page, live_app, therapist)
    page.set_viewport_size({"width": 1280, "height": 900})

    open_calendar_week_of(page, far_day, zone)
    page.get_by_role("button", name=_label(client.name, far, zone)).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("join-note")).to_have_text("Join opens at 09:00, an hour before the start.")
    expect(dialog.get_by_role("button", name="Join video session")).to_have_count(0)
    _shoot(page, "join-far")
    dialog.get_by_role("button", name="Close details").click()
    _back_to_this_week(page, zone)  # the calendar keeps its week across page loads

    open_calendar_week_of(page, soon.astimezone(ZoneInfo(zone)).date(), zone)
    near = page.get_by_role("button", name=_label(client.name, soon, zone))
    expect(near).to_have_attribute("data-kind", "virtual")
    near.click()
    expect(dialog.get_by_text("planned (not yet a session)")).to_be_visible()
    expect(dialog.get_by_test_id("join-note")).to_have_count(0)
    with page.context.expect_page(timeout=40_000) as opened:
        dialog.get_by_role("button", name="Join video session").click()
    room = opened.value
    room.wait_for_load_state()
    assert ROOM.fullmatch(room.url), room.url
    expect(room.get_by_role("heading", name="Video room")).to_be_visible()

    link = dialog.get_by_role("link", name="Open the video meeting")
    expect(link).to_have_attribute("href", room.url)
    expect(dialog.get_by_text("session created")).to_be_visible()
    expect(dialog.get_by_role("alert")).to_have_count(0)
    stored = httpx.get(f"{live_app}{API}/occurrences/{near_id}", headers=therapist.auth, timeout=10).json()
    assert (stored["materialized"], stored["join_url"]) == (True, room.url)
    _shoot(page, "join-near")
    dialog.get_by_role("button", name="Close details").click()
    expect(near).to_have_attribute("data-kind", "session")  # the grid was read again
    assert page.console_errors == []


@pytest.mark.dated
def test_a_client_joins_a_session_in_30_minutes_and_sees_when_a_later_one_opens(live_app: str, page: Page):
    soon, zone = _soon_and_zone()
    therapist = therapist_with_hours(live_app, zone, ALL_DAY)
    client = register(live_app, "client", "Europe/London", "Kai Moreno")
    later = soon + timedelta(hours=3)
    _one_off(live_app, therapist, client, soon, zone)
    _one_off(live_app, therapist, client, later, zone)
    _stand_in_rooms(page)
    sign_in(page, live_app, client)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/sessions")
    expect(page.get_by_role("button", name=f"Join session on {_when(soon)}")).to_be_visible(timeout=20_000)
    later_item = page.get_by_role("listitem", name=re.compile(f"^Session on {re.escape(_when(later))} with "))
    expect(later_item.get_by_text("Join opens 1 h before")).to_be_visible()
    expect(later_item.get_by_role("button", name=re.compile("^Join"))).to_have_count(0)
    with page.context.expect_page(timeout=40_000) as opened:
        page.get_by_role("button", name=f"Join session on {_when(soon)}").click()
    room = opened.value
    room.wait_for_load_state()
    assert ROOM.fullmatch(room.url), room.url
    expect(page.get_by_role("link", name="Open the video meeting")).to_have_attribute("href", room.url)
    expect(page.get_by_role("alert")).to_have_count(0)
    _shoot(page, "join-client")
    assert page.console_errors == []


def _when(instant: datetime) -> str:
    """How the client's page names a session's start: "Sun 29 Nov, 17:58" in London."""
    seen = instant.astimezone(ZoneInfo("Europe/London"))
    return f"{seen:%a} {seen.day} {seen:%b}, {seen:%H:%M}"
