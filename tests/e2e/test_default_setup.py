"""The default set-up (SQLite, jobs in-process, no settings) in the browser: a therapist
with time off steps through a year of their calendar (it once froze on the first
naive-vs-aware comparison only SQLite could produce)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, expect

from therabee.services import clock

from tests.e2e.therapist_setup import API, book, local, register, sign_in, therapist_with_hours

BERLIN = "Europe/Berlin"


@pytest.mark.dated
def test_a_therapist_with_time_off_steps_a_year_of_week_and_month_views(default_setup_app: str,
                                                                         browser: Browser):
    base = default_setup_app
    therapist = therapist_with_hours(base, BERLIN)
    client = register(base, "client", BERLIN, "Noa Berg")
    today = clock.now().astimezone(ZoneInfo(BERLIN)).date()
    book(base, client, therapist, local(today + timedelta(days=3), 10, BERLIN), BERLIN)
    # today, all day: inside the week and the month the calendar opens on
    away = httpx.post(f"{base}{API}/therapists/me/time-off", headers=therapist.auth, timeout=10, json={
        "start": local(today, 0, BERLIN).isoformat(),
        "end": local(today + timedelta(days=1), 0, BERLIN).isoformat(), "reason": "Training"})
    assert away.status_code == 201, away.text

    context = browser.new_context(base_url=base)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base, therapist)
    page.goto("/calendar")
    expect(page.get_by_role("grid", name="Week of ")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Loading your calendar…")).to_have_count(0, timeout=20_000)
    _step(page, "Next", 2)
    _step(page, "Previous", 2)
    expect(page.get_by_role("note", name="Time off: Training")).to_be_visible(timeout=10_000)

    page.get_by_role("button", name="Month view").click()
    expect(page.get_by_role("grid", name="Month of ")).to_be_visible(timeout=10_000)
    expect(page.get_by_label("Away: Time off: Training")).to_be_visible(timeout=10_000)
    months = _step(page, "Next", 12)
    assert len(set(months)) == 13, months
    _step(page, "Previous", 12)
    expect(page.get_by_label("Away: Time off: Training")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("alert")).to_have_count(0)
    context.close()
    assert errors == []


def _step(page, direction: str, times: int) -> list[str]:
    """Click Next or Previous `times` times, each time waiting for the range label to
    change (the grid is replaced while it loads); returns the labels seen."""
    labels = [page.get_by_test_id("range-label").inner_text()]
    button = page.get_by_role("button", name=direction, exact=True)
    for _ in range(times):
        button.click()
        expect(page.get_by_test_id("range-label")).not_to_have_text(labels[-1], timeout=10_000)
        expect(page.get_by_text("Loading your calendar…")).to_have_count(0, timeout=20_000)
        labels.append(page.get_by_test_id("range-label").inner_text())
    return labels
