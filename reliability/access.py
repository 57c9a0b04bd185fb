"""Access control and security basics against the running server.

- the matrix: every call on client A's resources × client A, client B, A's therapist,
  another therapist, no token, an expired token — owners read them, strangers get 404
  (never data), anyone unauthenticated 401, and no stranger's call writes a row;
- the ICS feed token: 256 bits, unguessable, rotated (the old link stops working);
- brute-force sign-in: 429 + Retry-After per account and per address;
- secure headers on every answer; no CORS from the API.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import datetime, timedelta, timezone

import httpx
import jwt

from reliability.hostile import _problem, _row_counts
from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from tests.integration.test_api_access import _calls

ZONE = "America/New_York"
REASON = "reliability-private-reason-7f3a"
PASSWORD = "correct horse battery"


def _world(env, http: httpx.Client) -> dict:
    therapist_a, therapist_b = therapist_with_hours(http, ZONE), therapist_with_hours(http, ZONE)
    client_a, client_b = register(http, "client", ZONE), register(http, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE, weeks_ahead=2)
    series = book(http, client_a, therapist_a, start)
    other = book(http, client_b, therapist_b, next_weekday_at(3, 14, ZONE))
    assert series.status_code == other.status_code == 201, (series.text, other.text)
    env.ledger.booked += [series.json()["id"], other.json()["id"]]
    series_id = series.json()["id"]
    pause_day = (start + timedelta(weeks=8)).astimezone(timezone.utc).date()
    pause = http.post(f"{API}/series/{series_id}/pauses", headers=client_a.auth,
                      json={"from": str(pause_day), "until": str(pause_day + timedelta(days=6))})
    away = start + timedelta(weeks=20)
    time_off = http.post(f"{API}/therapists/me/time-off", headers=therapist_a.auth, json={
        "start": away.isoformat(), "end": (away + timedelta(days=1)).isoformat(), "reason": REASON})
    assert pause.status_code == time_off.status_code == 201, (pause.text, time_off.text)
    return {"therapist_a": therapist_a, "therapist_b": therapist_b, "client_a": client_a,
            "client_b": client_b, "series_id": series_id, "other_series_id": other.json()["id"],
            "pause_id": pause.json()["id"], "start": start, "time_off_id": time_off.json()["id"]}


def _all_calls(world) -> list[tuple[str, str, dict]]:
    """The integration tests' calls on A's series and occurrences, plus A's therapist's
    time off and the per-user lists and profile."""
    away = world["start"] + timedelta(weeks=21)
    window = {"from": world["start"].isoformat(), "to": (world["start"] + timedelta(weeks=30)).isoformat()}
    return _calls(world) + [
        ("put", f"/therapists/me/time-off/{world['time_off_id']}",
         {"json": {"start": away.isoformat(), "end": (away + timedelta(hours=2)).isoformat()}}),
        ("delete", f"/therapists/me/time-off/{world['time_off_id']}", {}),
        ("get", f"/therapists/{world['therapist_a'].id}/time-off", {"params": window}),
        ("get", "/series", {}),
        ("get", "/me", {}),
    ]


def _expired(env, person) -> dict:
    now = datetime.now(timezone.utc)
    token = jwt.encode({"sub": person.id, "role": "client", "iat": now - timedelta(hours=2),
                        "exp": now - timedelta(hours=1)}, env.jwt_secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


OWN_ONLY = ("/therapists/me/time-off/",)  # the therapist's own: even the client of A may not
SHARED = ("/series", "/me")  # per-user lists: everyone 200, each their own
PUBLIC_BUT_REDACTED = ("/time-off",)  # anyone signed in sees when, only the owner why


def _expect(actor: str, method: str, path: str) -> set[int]:
    if actor in ("no token", "expired token"):
        return {401}
    if path in SHARED or path.endswith(PUBLIC_BUT_REDACTED):
        return {200}
    owners = ("therapist_a",) if path.startswith(OWN_ONLY) else ("client_a", "therapist_a")
    if actor in owners:
        return {200, 204} if method == "get" else set()  # owners' writes are not part of the matrix
    return {404}


def matrix(env) -> dict:
    with env.http() as http:
        world = _world(env, http)
        actors = {name: world[name].auth for name in ("client_a", "client_b", "therapist_a", "therapist_b")}
        actors["no token"] = {}
        actors["expired token"] = _expired(env, world["client_a"])
        secrets_of_a = [world["series_id"], REASON]
        before = _row_counts(env)
        cells, wrong, leaks = 0, {}, []
        for actor, headers in actors.items():
            for method, path, kwargs in _all_calls(world):
                expected = _expect(actor, method, path)
                if not expected:
                    continue
                cells += 1
                response = getattr(http, method)(f"{API}{path}", headers=headers, **kwargs)
                if response.status_code not in expected or (response.status_code >= 400
                                                            and not _problem(response)):
                    wrong[f"{actor} {method.upper()} {path}"] = response.status_code
                # A's series is for A and A's therapist; the time off's reason for the therapist only
                hidden = {"therapist_a": [], "client_a": [REASON]}.get(actor, secrets_of_a)
                if any(s in response.text for s in hidden):
                    leaks.append(f"{actor} {method.upper()} {path}")
        after = _row_counts(env)
    figures = {"actors": len(actors), "calls": len(_all_calls(world)), "cells_checked": cells,
               "wrong": wrong, "leaks": len(leaks), "leak_examples": leaks[:10],
               "rows_written_by_strangers": {t: after[t] - before[t] for t in before if after[t] != before[t]}}
    return {"figures": figures, "ok": not wrong and not leaks and after == before,
            "invariants": env.verdict().as_dict()}


def feed_token(env) -> dict:
    with env.http() as http:
        person = register(http, "client", ZONE)
        url = http.get(f"{API}/me", headers=person.auth).json()["feed_url"]
        token = re.search(r"/calendar/([^/]+)\.ics$", url).group(1)
        path = lambda u: u.split("/api/v1", 1)[1]  # noqa: E731
        works = http.get(f"{API}{path(url)}").status_code
        rotated = http.post(f"{API}/me/feed-token", headers=person.auth).json()["feed_url"]
        old_after = http.get(f"{API}{path(url)}").status_code
        new_after = http.get(f"{API}{path(rotated)}").status_code
        rotations = {http.post(f"{API}/me/feed-token", headers=person.auth).json()["feed_url"] for _ in range(20)}
        guesses = [http.get(f"{API}/calendar/{secrets.token_urlsafe(32)}.ics").status_code for _ in range(20)]
    bits = len(token) * math.log2(64)
    figures = {"token_chars": len(token), "token_bits": round(bits), "urlsafe_alphabet":
               bool(re.fullmatch(r"[A-Za-z0-9_-]+", token)), "feed_before_rotation": works,
               "old_link_after_rotation": old_after, "new_link": new_after,
               "distinct_in_20_rotations": len(rotations), "random_guesses_404": guesses.count(404)}
    ok = (bits >= 256 and figures["urlsafe_alphabet"] and works == 200 and old_after == 404
          and new_after == 200 and len(rotations) == 20 and guesses.count(404) == 20)
    return {"figures": figures, "ok": ok}


def brute_force(env) -> dict:
    """Wrong passwords from one address: per account, then over many accounts."""
    from therabee.settings import get_settings

    settings = get_settings()
    env.forget_sign_in_failures()
    with env.http() as http:
        victim = register(http, "client", ZONE)

        def attempt(email: str, password: str = "wrong password!") -> httpx.Response:
            return http.post(f"{API}/auth/token", json={"email": email, "password": password})

        account = [attempt(victim.email) for _ in range(settings.signin_max_failures_per_account + 2)]
        right_password = attempt(victim.email, PASSWORD)
        first_429 = next((i + 1 for i, r in enumerate(account) if r.status_code == 429), None)
        limited = account[-1]
        address = [attempt(f"nobody-{i}@example.test") for i in range(settings.signin_max_failures_per_address)]
        address_429 = next((i + 1 for i, r in enumerate(address) if r.status_code == 429), None)
        keys = sum(1 for _ in env.redis.client().scan_iter("therabee:signin-failures:*"))
    env.forget_sign_in_failures()
    figures = {"account_limit": settings.signin_max_failures_per_account,
               "account_attempt_first_429": first_429,
               "right_password_while_locked": right_password.status_code,
               "retry_after_s": int(limited.headers.get("retry-after", 0)),
               "problem_json": _problem(limited),
               "address_limit": settings.signin_max_failures_per_address,
               "address_attempt_first_429_after_account_ones": address_429, "redis_keys": keys}
    ok = (first_429 == settings.signin_max_failures_per_account + 1 and right_password.status_code == 429
          and 0 < figures["retry_after_s"] <= settings.signin_failure_window_seconds and figures["problem_json"]
          and address_429 == settings.signin_max_failures_per_address - settings.signin_max_failures_per_account + 1
          and keys >= 2)
    return {"figures": figures, "ok": ok}


REQUIRED_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
                    "referrer-policy": "no-referrer"}


def check_headers(response: httpx.Response) -> list[str]:
    wrong = [f"{k}={response.headers.get(k)!r}" for k, v in REQUIRED_HEADERS.items()
             if response.headers.get(k) != v]
    csp = response.headers.get("content-security-policy", "")
    if "frame-ancestors 'none'" not in csp or "default-src 'self'" not in csp:
        wrong.append(f"csp={csp!r}")
    return wrong


def headers_and_cors(env) -> dict:
    with env.http() as http:
        person = register(http, "client", ZONE)
        responses = {
            "health": http.get(f"{API}/health"), "openapi": http.get(f"{API}/openapi.json"),
            "401": http.get(f"{API}/me"), "404": http.get(f"{API}/nowhere"),
            "200 with token": http.get(f"{API}/me", headers=person.auth),
            "422": http.post(f"{API}/series", headers=person.auth, json={}),
        }
        evil = {"Origin": "https://evil.example"}
        preflight = http.options(f"{API}/series", headers={**evil, "Access-Control-Request-Method": "POST",
                                                           "Access-Control-Request-Headers": "authorization"})
        simple = http.get(f"{API}/health", headers=evil)
    wrong = {name: w for name, r in responses.items() if (w := check_headers(r))}
    cors = [h for r in (preflight, simple) for h in r.headers if h.lower().startswith("access-control-")]
    hsts = [name for name, r in responses.items() if "strict-transport-security" in r.headers]
    figures = {"responses_checked": len(responses), "missing_headers": wrong, "cors_headers_to_evil_origin": cors,
               "hsts_on_http": hsts, "csp": responses["health"].headers.get("content-security-policy")}
    return {"figures": figures, "ok": not wrong and not cors and not hsts}
