"""The landing page, served by the production build, shows the practice's therapists."""

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.therapist_setup import SCREENSHOTS


def test_landing_lists_a_registered_therapist_with_their_time_zone(live_app: str, page: Page):
    name = f"Dr. Iris Ng {uuid.uuid4().hex[:6]}"
    response = httpx.post(
        f"{live_app}/api/v1/auth/register",
        json={
            "email": f"iris-{uuid.uuid4().hex[:8]}@example.org",
            "password": "correct horse battery",
            "name": name,
            "role": "therapist",
            "timezone": "Asia/Singapore",
        },
        timeout=10,
    )
    assert response.is_success, response.text

    page.goto("/")

    therapist = page.get_by_role("listitem", name=f"{name}, time zone Asia/Singapore")
    expect(therapist).to_be_visible(timeout=15_000)
    expect(page.get_by_role("heading", name="Therapists")).to_be_visible()
    expect(page.get_by_role("link", name="API documentation")).to_have_attribute("href", "/api/v1/docs")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "landing.png"), full_page=True)
    assert page.console_errors == []


def test_api_answers_on_the_same_port_as_the_ui(live_app: str):
    response = httpx.get(f"{live_app}/api/v1/health", timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_api_docs_render_offline_from_our_own_origin(live_app: str, page: Page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", name=re.compile("^Therabee API"))).to_be_visible(timeout=20_000)
    expect(page.get_by_text("/series", exact=True).first).to_be_visible()
    assert all(url.startswith(live_app) for url in requested), [u for u in requested if not u.startswith(live_app)]
    assert page.console_errors == []
