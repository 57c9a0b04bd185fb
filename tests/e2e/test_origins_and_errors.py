"""The app answers at both loopback names, keeps its build apart from a served app, and
shows a readable message when the server fails (under the unchanged CSP).

`live_app` is configured as the default set-up is (public URL http://localhost:PORT)
and browsed at 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from playwright.sync_api import Browser, expect
from sqlalchemy.engine import make_url

from tests.e2e.conftest import ROOT, TEST_WEB_DIR
from tests.e2e.therapist_setup import register, sign_in

# A page is live when its WebSocket works: the landing page lists therapists only after
# the on-load event has gone to the server and back.
LANDING_LOADED = "Therapists"


def _open_landing(browser: Browser, base_url: str) -> list[str]:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/")
        expect(page.get_by_role("heading", name=LANDING_LOADED)).to_be_visible(timeout=15_000)
        therapist = page.get_by_role("listitem").first
        expect(therapist).to_be_visible(timeout=15_000)
    finally:
        context.close()
    return errors


def test_the_app_answers_at_127_0_0_1_and_at_localhost_with_no_console_errors(live_app: str, browser: Browser):
    register(live_app, "therapist", "Europe/Berlin", "Dr. Loopback")
    port = urlsplit(live_app).port

    for base_url in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        assert _open_landing(browser, base_url) == [], base_url


def test_cors_allows_the_loopback_aliases_and_nothing_else(live_app: str):
    port = urlsplit(live_app).port
    allowed = {}
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", "http://evil.example", "http://127.0.0.1:1"):
        answer = httpx.options(f"{live_app}/_event/", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET"}, timeout=10)
        allowed[origin] = answer.headers.get("access-control-allow-origin")
    assert allowed == {f"http://127.0.0.1:{port}": f"http://127.0.0.1:{port}",
                       f"http://localhost:{port}": f"http://localhost:{port}",
                       "http://evil.example": None, "http://127.0.0.1:1": None}


def test_the_tests_build_outside_the_served_apps_directory(live_app: str):
    """`make run` serves from .web/; the tests' own build lives in TEST_WEB_DIR, so a test
    run beside a served app leaves that app's pages pointing at its own port."""
    port = str(urlsplit(live_app).port)
    assert (TEST_WEB_DIR / "env.json").read_text().count(port) >= 1
    served = ROOT / ".web" / "env.json"
    assert not served.exists() or port not in served.read_text()


@contextmanager
def _database_refusing_connections(database_url: str) -> Iterator[None]:
    """PostgreSQL turns every new connection to the app's database away, and ends the
    open ones, until the block ends."""
    name = make_url(database_url).database
    admin = sa.create_engine(make_url(database_url).set(database="postgres", query={}),
                             isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                   " WHERE datname = :name"), {"name": name})
    try:
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def test_a_server_failure_shows_a_readable_message_without_breaking_the_csp(live_app: str, browser: Browser,
                                                                             migrated_db: str):
    therapist = register(live_app, "therapist", "Europe/Berlin", "Dr. Offline")
    context = browser.new_context(base_url=live_app)
    page = context.new_page()
    sign_in(page, live_app, therapist)
    csp_violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and csp_violations.append(message.text))
    page.on("pageerror", lambda error: csp_violations.append(str(error)))
    try:
        with _database_refusing_connections(migrated_db):
            page.goto("/calendar")  # its on-load reads the therapist's week: it fails
            # the app-wide banner of therabee_ui/errors.py, not a page's own error callout
            banner = page.locator("#page-error")
            expect(banner).to_have_attribute("role", "alert", timeout=20_000)
            expect(banner).to_contain_text("this page could not finish")
        banner.get_by_role("button", name="Dismiss").click()
        expect(banner).to_have_count(0)
    finally:
        context.close()
    assert csp_violations == []
    assert "unsafe-eval" not in httpx.get(live_app, timeout=10).headers["content-security-policy"]
