"""Who sees what: someone else's series and occurrences are 404, bad tokens 401 (DESIGN.md rule 8)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from tests.integration.pg_counters import table_writes
from therabee.services import clock

ZONE = "America/New_York"
STAMP = "%Y%m%dT%H%M%SZ"


def _occurrence_id(series_id: str, instant: datetime) -> str:
    return f"{series_id}:{instant.astimezone(timezone.utc).strftime(STAMP)}"


@pytest.fixture
def two_practices(api):
    """Therapist A with client A (a weekly series and a pause), therapist B with client B."""
    therapist_a, therapist_b = therapist_with_hours(api, ZONE), therapist_with_hours(api, ZONE)
    client_a, client_b = register(api, "client", ZONE), register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE, weeks_ahead=2)
    series = book(api, client_a, therapist_a, start)
    assert series.status_code == 201, series.text
    other = book(api, client_b, therapist_b, next_weekday_at(3, 14, ZONE))
    assert other.status_code == 201, other.text
    series_id = series.json()["id"]
    pause_day = (start + timedelta(weeks=8)).astimezone(timezone.utc).date()
    pause = api.post(f"{API}/series/{series_id}/pauses", headers=client_a.auth,
                     json={"from": str(pause_day), "until": str(pause_day + timedelta(days=6))})
    assert pause.status_code == 201, pause.text
    return {"therapist_a": therapist_a, "therapist_b": therapist_b, "client_a": client_a,
            "client_b": client_b, "series_id": series_id, "other_series_id": other.json()["id"],
            "pause_id": pause.json()["id"], "start": start}


def _calls(world) -> list[tuple[str, str, dict]]:
    """Every series/occurrence call on client A's series, as (method, path, kwargs)."""
    series_id, start = world["series_id"], world["start"]
    occurrence = _occurrence_id(series_id, start + timedelta(weeks=1))
    later = (start + timedelta(weeks=3)).isoformat()
    window = {"from": start.isoformat(), "to": (start + timedelta(weeks=4)).isoformat(),
              "series_id": series_id}
    today = clock.now().date()
    return [
        ("get", f"/series/{series_id}", {}),
        ("post", f"/series/{series_id}/pauses",
         {"json": {"from": str(today + timedelta(days=30)), "until": str(today + timedelta(days=40))}}),
        ("delete", f"/series/{series_id}/pauses/{world['pause_id']}", {}),
        ("post", f"/series/{series_id}/end", {"json": {"from": later}}),
        ("post", f"/series/{series_id}/split",
         {"json": {"from": later, "start": (start + timedelta(weeks=3, hours=1)).isoformat()}}),
        ("get", "/occurrences", {"params": window}),
        ("get", f"/occurrences/{occurrence}", {}),
        ("post", f"/occurrences/{occurrence}/cancel", {"json": {}}),
        ("post", f"/occurrences/{occurrence}/move",
         {"json": {"start": (start + timedelta(weeks=1, days=1)).isoformat()}}),
        ("post", f"/occurrences/{occurrence}/attendance", {"json": {"status": "completed"}}),
    ]


@pytest.mark.parametrize("stranger", ["client_b", "therapist_b"])
def test_someone_elses_series_and_occurrences_are_404_and_untouched(api, two_practices, stranger):
    who = two_practices[stranger]
    before = table_writes()
    for method, path, kwargs in _calls(two_practices):
        response = getattr(api, method)(f"{API}{path}", headers=who.auth, **kwargs)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert two_practices["series_id"] not in response.text
    assert table_writes() == before
    series = api.get(f"{API}/series/{two_practices['series_id']}", headers=two_practices["client_a"].auth)
    assert series.json()["status"] == "active"


@pytest.mark.parametrize("owner", ["client_a", "therapist_a"])
def test_the_client_and_the_therapist_of_a_series_can_read_it(api, two_practices, owner):
    who = two_practices[owner]
    for method, path, kwargs in _calls(two_practices):
        if method != "get":
            continue
        response = api.get(f"{API}{path}", headers=who.auth, **kwargs)
        assert response.status_code == 200, (path, response.text)
        assert two_practices["series_id"] in response.text


def _listed(api, who, start) -> tuple[set, set]:
    series = {s["id"] for s in api.get(f"{API}/series", headers=who.auth).json()["items"]}
    occurrences = api.get(f"{API}/occurrences", headers=who.auth, params={
        "from": start.isoformat(), "to": (start + timedelta(weeks=12)).isoformat()}).json()["items"]
    return series, {o["series_id"] for o in occurrences}


def test_lists_show_only_ones_own_series(api, two_practices):
    mine, theirs = two_practices["series_id"], two_practices["other_series_id"]
    start = two_practices["start"] - timedelta(weeks=1)
    assert _listed(api, two_practices["client_a"], start) == ({mine}, {mine})
    assert _listed(api, two_practices["therapist_a"], start) == ({mine}, {mine})
    assert _listed(api, two_practices["client_b"], start) == ({theirs}, {theirs})
    assert _listed(api, two_practices["therapist_b"], start) == ({theirs}, {theirs})


def test_filtering_on_another_therapist_shows_nothing(api, two_practices):
    start = two_practices["start"]
    response = api.get(f"{API}/occurrences", headers=two_practices["therapist_a"].auth, params={
        "from": start.isoformat(), "to": (start + timedelta(weeks=12)).isoformat(),
        "therapist_id": two_practices["therapist_b"].id})
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_a_therapist_sees_only_their_own_clients_series(api, two_practices):
    therapist_a = two_practices["therapist_a"]
    client_c = register(api, "client", ZONE)
    response = book(api, therapist_a, therapist_a, next_weekday_at(4, 9, ZONE), client_id=client_c.id)
    assert response.status_code == 201, response.text
    seen = {s["client_id"] for s in api.get(f"{API}/series", headers=therapist_a.auth).json()["items"]}
    assert seen == {two_practices["client_a"].id, client_c.id}
    assert {s["therapist_id"] for s in api.get(f"{API}/series", headers=client_c.auth).json()["items"]} == {
        therapist_a.id}


def test_only_the_therapist_marks_attendance(api, two_practices):
    occurrence = _occurrence_id(two_practices["series_id"], two_practices["start"])
    response = api.post(f"{API}/occurrences/{occurrence}/attendance", headers=two_practices["client_a"].auth,
                        json={"status": "completed"})
    assert response.status_code == 404


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _bad_tokens(person) -> dict[str, dict]:
    from therabee.settings import get_settings

    secret = get_settings().jwt_secret
    now = clock.now()
    header, payload, signature = person.token.split(".")
    claims = {"sub": person.id, "role": "client", "iat": now, "exp": now + timedelta(hours=1)}
    expired = {**claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)}
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    forged = _b64({"sub": "someone-else", "exp": 4102444800})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'sub': person.id, 'exp': 4102444800})}."
    tokens = {
        "tampered-signature": f"{header}.{payload}.{flipped}",
        "tampered-payload": f"{header}.{forged}.{signature}",
        "other-secret": jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256"),
        "expired": jwt.encode(expired, secret, algorithm="HS256"),
        "no-expiry": jwt.encode({"sub": person.id}, secret, algorithm="HS256"),
        "alg-none": unsigned,
        "garbage": "not-a-token-at-all",
        "empty": "",
    }
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    return {**headers, "basic-scheme": {"Authorization": "Basic dXNlcjpwYXNz"}, "missing-header": {}}


def test_bad_tokens_are_401_problems(api):
    person = register(api, "client", ZONE)
    assert api.get(f"{API}/me", headers=person.auth).status_code == 200
    wrong = {}
    for name, headers in _bad_tokens(person).items():
        for method, path in (("get", "/me"), ("get", "/series"), ("post", "/me/feed-token")):
            response = getattr(api, method)(f"{API}{path}", headers=headers)
            body = response.json()
            ok = (response.status_code == 401 and body.get("status") == 401
                  and response.headers["content-type"].startswith("application/problem+json")
                  and {"type", "title", "detail"} <= set(body))
            if not ok:
                wrong[(name, path)] = (response.status_code, response.text[:200])
    assert wrong == {}
