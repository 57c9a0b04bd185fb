"""Hostile input: schemathesis over the OpenAPI document, the bad-input catalogue of the
integration tests, oversized and deeply nested bodies, and abusive webhook deliveries.

Goal: no 5xx, and every error an application/problem+json document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from reliability.report import OUT
from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours

PROBLEM = "application/problem+json"
ST_REPORT = OUT / "schemathesis.json"
ST_LOG = OUT / "schemathesis.txt"


def _problem(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith(PROBLEM)


def schemathesis_run(env, examples: int = 15, seconds: int = 120) -> dict:
    """`st run` against /api/v1/openapi.json with a therapist's token, bounded in examples
    and time, checking not_a_server_error and problem_json (reliability/st_hooks.py)."""
    with env.http() as http:
        therapist = therapist_with_hours(http, "UTC")
    OUT.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).parent / "st"), "run", f"{env.api.base_url}{API}/openapi.json",
               "-H", f"Authorization: Bearer {therapist.token}",
               "--checks", "not_a_server_error,problem_json", "--max-examples", str(examples),
               "--max-time", str(seconds), "--seed", "20261124", "--workers", "2",
               "--request-timeout", "20", "--suppress-health-check", "all",
               "--report", "json", "--report-json-path", str(ST_REPORT)]
    started = time.monotonic()
    process = subprocess.run(command, env={**os.environ, "SCHEMATHESIS_HOOKS": "reliability.st_hooks"},
                             capture_output=True, text=True, timeout=seconds + 120)
    ST_LOG.write_text(process.stdout + process.stderr)
    env.forget_sign_in_failures()
    report = json.loads(ST_REPORT.read_text())
    failures = {f["title"]: {"count": f["count"], "operations": f["operations"]} for f in report["failures"]}
    server_errors = sum(f["count"] for f in report["failures"] if f["code"] == "ST101")
    figures = {"operations_tested": report["operations"]["tested"],
               "operations_total": report["operations"]["total"],
               "cases": report["test_cases"]["generated"], "failures": failures,
               "server_errors": server_errors,
               "non_problem_errors": sum(f["count"] for f in report["failures"] if "problem_json" in f["title"]),
               "max_examples": examples, "max_seconds": seconds, "stop_reason": report.get("stop_reason"),
               "seconds": round(time.monotonic() - started, 1), "log": str(ST_LOG)}
    return {"figures": figures, "ok": process.returncode == 0 and not failures,
            "invariants": env.verdict().as_dict()}


def _row_counts(env) -> dict[str, int]:
    with env.engine.connect() as connection:
        return {t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("users", "series", "exceptions", "pauses", "availability", "time_off")}


def bad_input(env) -> dict:
    """tests/integration/test_api_bad_input.py's catalogue, sent to the running server."""
    from tests.integration import test_api_bad_input as catalogue

    zone = catalogue.ZONE
    with env.http() as http:
        therapist = therapist_with_hours(http, zone)
        client = register(http, "client", zone)
        response = book(http, client, therapist, next_weekday_at(2, 10, zone))
        assert response.status_code == 201, response.text
        env.ledger.booked.append(response.json()["id"])
        world = catalogue.World(therapist, client, response.json()["id"], next_weekday_at(1, 10, zone))
        before = _row_counts(env)
        wrong = {}
        for name, builder, status, field in catalogue.CASES:
            problems = catalogue._check(catalogue._send(http, world, builder), status, field)
            if problems:
                wrong[name] = problems
        after = _row_counts(env)
    figures = {"cases": len(catalogue.CASES), "wrong": wrong,
               "rows_written": {t: after[t] - before[t] for t in before if after[t] != before[t]}}
    return {"figures": figures, "ok": not wrong and after == before, "invariants": env.verdict().as_dict()}


def _nested(depth: int, kind: str) -> bytes:
    if kind == "arrays":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


class _RawResponse:
    def __init__(self, status: int, head: str) -> None:
        self.status_code = status
        self.headers = {k.strip().lower(): v.strip() for k, _, v in
                        (line.partition(":") for line in head.split("\r\n")[1:]) if k}


def _raw(env, request: bytes) -> _RawResponse:
    """Send bytes httpx would refuse to send; read the status line and headers."""
    import socket

    with socket.create_connection(("127.0.0.1", env.api.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return _RawResponse(int(head.split(" ")[1]), head)


def oversized_and_deep(env) -> dict:
    """Bodies past the limit (declared and streamed), deep nesting, huge fields, odd bytes."""
    with env.http() as http:
        person = register(http, "client", "UTC")
        big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'

        def chunks():
            for _ in range(40):
                yield b"x" * 65536

        cases = {
            "2MiB body (content-length)": lambda: http.post(f"{API}/series", content=big, headers={
                **person.auth, "content-type": "application/json"}),
            "2.5MiB body streamed (chunked)": lambda: http.post(f"{API}/series", content=chunks(), headers={
                **person.auth, "content-type": "application/json"}),
            "bogus content-length": lambda: _raw(env, b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n"
                                                 b"Content-Type: application/json\r\nContent-Length: abc\r\n"
                                                 b"Connection: close\r\n\r\n{}"),
            "content-length larger than sent": lambda: _raw(env, b"POST /api/v1/auth/token HTTP/1.1\r\n"
                                                            b"Host: x\r\nContent-Length: 5000000\r\n"
                                                            b"Connection: close\r\n\r\n{}"),
            "900KB name field": lambda: http.post(f"{API}/auth/register", json={
                "email": "big@example.test", "password": "correct horse battery", "name": "n" * 900_000,
                "role": "client", "timezone": "UTC"}),
            "invalid UTF-8 body": lambda: http.post(f"{API}/auth/token", content=b'{"email": "\xff\xfe"}',
                                                    headers={"content-type": "application/json"}),
            "8KB path segment": lambda: http.get(f"{API}/series/{'a' * 8192}", headers=person.auth),
            "huge query value": lambda: http.get(f"{API}/occurrences", headers=person.auth, params={
                "from": "9" * 4000, "to": "2030-01-01T00:00:00Z"}),
        }
        for depth in (1_000, 10_000, 100_000):
            for kind in ("arrays", "objects"):
                for path in ("/series", "/auth/token", "/auth/register"):
                    body = _nested(depth, kind)
                    cases[f"{depth} nested {kind} -> {path}"] = (
                        lambda body=body, path=path: http.post(f"{API}{path}", content=body, headers={
                            **person.auth, "content-type": "application/json"}))
        results, wrong = {}, {}
        for name, send in cases.items():
            try:
                response = send()
                status, problem = response.status_code, _problem(response)
            except httpx.HTTPError as exc:  # the server may close on a body it refused
                status, problem = type(exc).__name__, True
            results[name] = status
            # a request malformed at the HTTP level is refused by the server before the app
            protocol_level = name in ("bogus content-length",) and isinstance(status, int) and status == 400
            if protocol_level:
                continue
            if not isinstance(status, int) or status >= 500 or (status >= 400 and not problem) or status < 400:
                if not (isinstance(status, str) and "streamed" in name):
                    wrong[name] = status
    return {"figures": {"cases": len(cases), "statuses": results, "wrong": wrong,
                        "server_errors": sum(isinstance(s, int) and s >= 500 for s in results.values())},
            "ok": not wrong}


def webhook_abuse(env, url: str, meeting_id: str) -> dict:
    """Forged, stale, future, unsigned, replayed and malformed deliveries: each refused (or a
    no-op duplicate), none a 5xx, and none recorded or applied."""
    from therabee.video.zoom.webhooks import compute_signature

    fake = env.fake

    def deliveries() -> int:
        with env.engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM webhook_deliveries")).scalar_one()

    def signed(raw: bytes, timestamp: int | None = None, secret: str | None = None) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return httpx.post(url, content=raw, timeout=10, headers={
            "content-type": "application/json", "x-zm-request-timestamp": ts,
            "x-zm-signature": compute_signature(secret or fake.webhook_secret, ts, raw)})

    # a real delivery (recorded, changes nothing on a completed session) to capture and replay
    accepted = json.dumps({"event": "meeting.ended", "event_ts": int(time.time() * 1000) + 7,
                           "payload": {"account_id": "a", "object": {"id": int(meeting_id)}}}).encode()
    first = signed(accepted)
    count_before = deliveries()
    now = int(time.time())
    event = json.dumps({"event": "meeting.ended", "event_ts": now * 1000,
                        "payload": {"account_id": "a", "object": {"id": int(meeting_id)}}}).encode()
    cases = {
        "forged signature": (lambda: fake.send_webhook(url, "meeting.ended", meeting_id, secret="not-it"), {401}),
        "stale (6 min old)": (lambda: signed(event, now - 360), {401}),
        "from the future (6 min)": (lambda: signed(event, now + 360), {401}),
        "unsigned": (lambda: httpx.post(url, content=event, timeout=10), {401}),
        "signature of another body": (lambda: httpx.post(url, content=event, timeout=10, headers={
            "x-zm-request-timestamp": first.request.headers["x-zm-request-timestamp"],
            "x-zm-signature": first.request.headers["x-zm-signature"]}), {401}),
        "replayed delivery": (lambda: httpx.post(url, content=accepted, timeout=10, headers=dict(
            first.request.headers)), {200}),
        "signed, not JSON": (lambda: signed(b"not json"), {400}),
        "signed, 10k nested arrays": (lambda: signed(_nested(10_000, "arrays")), {400}),
        "signed, no payload": (lambda: signed(b'{"event":"meeting.ended"}'), {400}),
    }
    statuses, wrong = {}, {}
    for name, (send, expected) in cases.items():
        response = send()
        statuses[name] = response.status_code
        if (response.status_code not in expected or (response.status_code >= 400 and not _problem(response))
                or (response.status_code == 200 and response.json() != {"status": "duplicate"})):
            wrong[name] = (response.status_code, response.headers.get("content-type"), response.text[:120])
    unchanged = deliveries() == count_before
    return {"abusive_deliveries": len(cases), "refused_correctly": len(cases) - len(wrong),
            "abuse_statuses": statuses, "abuse_wrong": wrong, "deliveries_unchanged": unchanged}
