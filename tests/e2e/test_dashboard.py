"""A therapist with one booked weekly series signs in and reads the dashboard's figures."""

import uuid
from pathlib import Path
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.therapist_setup import SCREENSHOTS
from therabee.services import clock

pytestmark = pytest.mark.dated

PASSWORD = "correct horse battery"
ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


def _person(api: httpx.Client, role: str, name: str) -> tuple[str, str, str]:
    """(id, email, token) of a newly registered user."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
    response = api.post("/api/v1/auth/register", json={
        "email": email, "password": PASSWORD, "name": name, "role": role, "timezone": "UTC"})
    assert response.is_success, response.text
    token = api.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert token.is_success, token.text
    return response.json()["id"], email, token.json()["access_token"]


def _therapist_with_a_weekly_client(live_app: str) -> str:
    """Books one weekly series for a new therapist; returns the therapist's email."""
    with httpx.Client(base_url=live_app, timeout=15) as api:
        therapist_id, email, token = _person(api, "therapist", "Dr. Ada Brook")
        hours = api.put("/api/v1/therapists/me/availability", headers={"Authorization": f"Bearer {token}"},
                        json={"timezone": "UTC", "weekly": ALL_WEEK})
        assert hours.is_success, hours.text
        _, _, client_token = _person(api, "client", "Client Test")
        start = (clock.now() + timedelta(weeks=1)).replace(minute=0, second=0, microsecond=0)
        booked = api.post("/api/v1/series", headers={"Authorization": f"Bearer {client_token}"}, json={
            "therapist_id": therapist_id, "start": start.isoformat(), "duration_minutes": 50,
            "rrule": "FREQ=WEEKLY"})
        assert booked.status_code == 201, booked.text
    return email


def test_therapist_sees_what_an_eager_scheduler_would_have_written(live_app: str, page: Page,
                                                                  tmp_path: Path):
    email = _therapist_with_a_weekly_client(live_app)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url, timeout=15_000)
    page.console_errors.clear()  # the figures page's own errors only from here
    page.goto("/dashboard")

    expect(page.get_by_role("heading", name="What we did not write")).to_be_visible(timeout=15_000)
    practice = page.get_by_role("tabpanel", name="This practice")
    eager = practice.get_by_role("group", name="Rows eager would have written")
    expect(eager.get_by_test_id("figure-eager_rows")).to_have_text("78", timeout=15_000)
    expect(practice.get_by_role("group", name="Rows Therabee wrote").get_by_test_id("figure-therabee_rows")) \
        .to_have_text("1")
    expect(practice.get_by_role("group", name="Series stored").get_by_test_id("figure-series")).to_have_text("1")
    expect(practice.get_by_role("group", name="Video API calls avoided")
           .get_by_test_id("figure-video_calls_avoided")).to_have_text("26")
    expect(practice.get_by_text("Therabee wrote 78× fewer rows")).to_be_visible()
    expect(practice.get_by_role("group", name="Rows written over time, this practice")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    page.get_by_role("tab", name="Whole installation").click()
    whole = page.get_by_role("tabpanel", name="Whole installation")
    expect(whole.get_by_role("group", name="Series stored")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("tab", name="This practice").click()
    expect(eager).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "dashboard-390.png"), full_page=True)
    print(f"narrow screenshot: {tmp_path / 'dashboard-390.png'}")
    assert page.console_errors == []
