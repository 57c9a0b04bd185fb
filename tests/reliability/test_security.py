"""Security basics: headers on every answer, CORS closed, sign-in brakes, the feed token."""

from __future__ import annotations

import math
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.integration.factories import API, register

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def _settings_env(monkeypatch, **values):
    from therabee.settings import get_settings

    for key, value in values.items():
        monkeypatch.setenv(f"THERABEE_{key.upper()}", str(value))
    get_settings.cache_clear()


@pytest.fixture
def settings_env(monkeypatch):
    from therabee.settings import get_settings

    yield lambda **values: _settings_env(monkeypatch, **values)
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/openapi.json", "/api/v1/me",
                                  "/api/v1/nowhere", "/not-an-api-page"])
def test_every_answer_carries_the_security_headers(api, path):
    response = api.get(path)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-eval'" not in csp
    assert "strict-transport-security" not in headers  # the public URL is http here
    assert "access-control-allow-origin" not in headers


def test_hsts_only_when_the_public_url_is_https(settings_env):
    from fastapi.testclient import TestClient

    from therabee.api.app import create_app

    settings_env(public_url="https://therabee.example")
    with TestClient(create_app()) as client:
        response = client.get("/api/v1/openapi.json")
    assert response.headers["strict-transport-security"].startswith("max-age=63072000")
    assert "wss://therabee.example" in response.headers["content-security-policy"]


def test_the_api_answers_no_cross_origin_request(api):
    preflight = api.options(f"{API}/series", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})
    simple = api.get(f"{API}/health", headers={"Origin": "https://evil.example"})
    for response in (preflight, simple):
        assert not any(h.startswith("access-control-") for h in response.headers), response.headers


@pytest.mark.parametrize("public_url, origins", [
    ("https://therabee.example/", ["https://therabee.example"]),
    ("https://therabee.example:8443", ["https://therabee.example:8443"]),
    # the default set-up: people type either loopback name
    ("http://localhost:3000", ["http://localhost:3000", "http://127.0.0.1:3000"]),
    ("http://127.0.0.1:5000/", ["http://127.0.0.1:5000", "http://localhost:5000"]),
    # a name that merely starts like one is not a loopback
    ("https://localhost.example.com", ["https://localhost.example.com"]),
])
def test_reflex_cors_is_the_public_url_and_only_its_loopback_aliases(public_url, origins):
    import subprocess
    import sys

    env = {**os.environ, "THERABEE_PUBLIC_URL": public_url}
    out = subprocess.run([sys.executable, "-c", "import rxconfig; print(list(rxconfig.config.cors_allowed_origins))"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == repr(origins), out.stderr[-2000:]


@pytest.mark.parametrize("public_url, websockets", [
    ("https://therabee.example", "wss://therabee.example"),
    ("http://localhost:3000", "ws://localhost:3000 ws://127.0.0.1:3000"),
])
def test_the_csp_lets_the_event_channel_connect_from_the_same_origins(public_url, websockets):
    from therabee.api.security import content_security_policy

    directives = dict(d.split(" ", 1) for d in content_security_policy(public_url).split("; "))
    assert directives["connect-src"] == f"'self' {websockets}"
    assert "unsafe-eval" not in directives["script-src"]


def _sign_in(api, email, password=PASSWORD):
    return api.post(f"{API}/auth/token", json={"email": email, "password": password})


def _assert_429(response):
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(response.headers["retry-after"]) <= 15 * 60
    assert response.json()["status"] == 429


def test_five_failures_lock_the_account_for_everyone_and_say_when_to_retry(api):
    person = register(api, "client")
    for _ in range(5):
        assert _sign_in(api, person.email, "wrong password!").status_code == 401
    _assert_429(_sign_in(api, person.email, "wrong password!"))
    _assert_429(_sign_in(api, person.email))  # even the right password waits
    other = register(api, "client")
    assert _sign_in(api, other.email).status_code == 200  # other accounts are unaffected


def test_a_success_clears_the_accounts_count(api):
    person = register(api, "client")
    for _ in range(4):
        assert _sign_in(api, person.email, "wrong password!").status_code == 401
    assert _sign_in(api, person.email).status_code == 200
    for _ in range(4):
        assert _sign_in(api, person.email, "wrong password!").status_code == 401
    assert _sign_in(api, person.email).status_code == 200


def test_twenty_failures_from_one_address_over_many_accounts_are_braked(api):
    for n in range(20):
        assert _sign_in(api, f"nobody-{n}@example.test", "guess").status_code == 401
    _assert_429(_sign_in(api, "nobody-21@example.test", "guess"))


def test_the_numbers_are_settings(api, settings_env):
    settings_env(signin_max_failures_per_account=2, signin_failure_window_seconds=30)
    person = register(api, "client")
    for _ in range(2):
        assert _sign_in(api, person.email, "wrong password!").status_code == 401
    response = _sign_in(api, person.email)
    _assert_429(response)
    assert int(response.headers["retry-after"]) <= 30


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
    from reliability.stack import RedisServer

    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def test_with_redis_the_counts_are_shared_and_expire(api, settings_env, private_redis):
    from therabee.services import ratelimit

    settings_env(redis_url=private_redis.url, signin_failure_window_seconds=60)
    person = register(api, "client")
    for _ in range(5):
        assert _sign_in(api, person.email, "wrong password!").status_code == 401
    keys = [k.decode() for k in private_redis.client().keys("therabee:signin-failures:*")]
    assert len(keys) == 2 and not any(person.email in k for k in keys)  # no addresses stored
    ratelimit.reset_memory()  # another web process: nothing counted in memory, Redis decides
    _assert_429(_sign_in(api, person.email))
    assert 0 < private_redis.client().ttl(next(k for k in keys if "account" in k)) <= 60


def test_with_redis_down_the_brake_still_holds_in_process(api, settings_env):
    from reliability.stack import free_port

    settings_env(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    person = register(api, "client")
    for _ in range(5):
        assert _sign_in(api, person.email, "wrong password!").status_code == 401
    _assert_429(_sign_in(api, person.email))


def test_the_feed_token_is_unguessable_and_rotates(api):
    person = register(api, "client")
    url = api.get(f"{API}/me", headers=person.auth).json()["feed_url"]
    token = re.search(r"/calendar/([^/]+)\.ics$", url).group(1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", token)  # token_urlsafe(32): 32 random bytes
    assert len(token) * math.log2(64) >= 256
    path = url.split("/api/v1", 1)[1]
    assert api.get(f"{API}{path}").status_code == 200
    rotated = api.post(f"{API}/me/feed-token", headers=person.auth).json()["feed_url"]
    assert rotated != url
    assert api.get(f"{API}{path}").status_code == 404
    assert api.get(f"{API}{rotated.split('/api/v1', 1)[1]}").status_code == 200
    tokens = {api.post(f"{API}/me/feed-token", headers=person.auth).json()["feed_url"] for _ in range(20)}
    assert len(tokens) == 20


def test_secrets_come_only_from_the_environment():
    """No secret-looking literal in the product's code or config (tests and docs aside)."""
    pattern = re.compile(r"(secret|password|token)\w*\s*[:=]\s*[\"'][A-Za-z0-9_\-]{16,}[\"']", re.I)
    found = []
    for folder in ("therabee", "therabee_ui", "tasks"):
        for path in (ROOT / folder).rglob("*.py"):
            if "testing" in path.parts:
                continue
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(path.read_text())]
    found += [f"rxconfig.py: {m.group(0)}" for m in pattern.finditer((ROOT / "rxconfig.py").read_text())]
    assert found == []


@pytest.mark.parametrize("method, path, kwargs", [
    ("post", "/series", {"json": {"therapist_id": "ab\u0000c", "start": "2030-01-01T10:00:00Z",
                                  "duration_minutes": 50, "rrule": None}}),
    ("get", "/series/ab%00c", {}),
    ("get", "/calendar/ab%00c.ics", {}),
    ("get", "/occurrences", {"params": {"from": "2030-01-01T00:00:00Z\u0000", "to": "2030-01-02T00:00:00Z"}}),
    ("post", "/auth/token", {"json": {"email": "a\u0000@b.cc", "password": "x"}}),
])
def test_a_nul_character_anywhere_is_a_422_problem_not_a_server_error(api, method, path, kwargs):
    person = register(api, "therapist")
    response = getattr(api, method)(f"{API}{path}", headers=person.auth, **kwargs)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "NUL" in response.json()["detail"]


def test_a_path_no_route_matches_is_a_problem_too(api):
    response = api.get(f"{API}/series/a%0Ab")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_webhook_signatures_still_verify_through_the_nul_check(api):
    response = api.post(f"{API}/webhooks/zoom", content=b'{"event":"x"}',
                        headers={"x-zm-request-timestamp": "1", "x-zm-signature": "v0=00"})
    assert response.status_code in (401, 503)  # refused on its merits, the body intact


def test_a_signed_webhook_nested_10k_deep_is_a_400_not_a_server_error(api, settings_env):
    from therabee.services import clock
    from therabee.video.zoom.webhooks import compute_signature

    settings_env(zoom_webhook_secret="whsec-reliability")
    raw = b"[" * 10_000 + b"]" * 10_000
    ts = str(int(clock.now().timestamp()))  # the window the app checks is on its clock
    response = api.post(f"{API}/webhooks/zoom", content=raw, headers={
        "x-zm-request-timestamp": ts, "x-zm-signature": compute_signature("whsec-reliability", ts, raw)})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("public_url, secure", [("https://therabee.example", True), ("http://localhost:3000", False)])
def test_the_session_cookie_is_strict_and_secure_over_https(public_url, secure):
    import subprocess
    import sys

    code = ("from therabee_ui.auth import AuthState; c = AuthState.get_fields()['token'].default; "
            "print(c.secure, c.same_site)")
    env = {**os.environ, "THERABEE_PUBLIC_URL": public_url}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip().splitlines()[-1] == f"{secure} strict", out.stderr[-2000:]
