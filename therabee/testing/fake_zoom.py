"""A fake Zoom (OAuth + meetings API) on 127.0.0.1, for tests and the benchmark.

A real HTTP server in a background thread, built only on the standard library,
that follows /work/shared/ZOOM.md: Server-to-Server OAuth tokens, meeting
create/get/patch/delete, the paged upcoming list, error bodies and 429 headers.

    fake = start_fake_zoom()
    settings = Settings(**fake.settings_overrides())
    ...
    fake.calls["create"], fake.meetings, fake.fail_next(2, status=429, retry_after="1")
    fake.stop()

`python -m therabee.testing.fake_zoom --port 8765` runs one by hand.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from therabee.services import clock
from therabee.testing.fake_zoom_http import FakeZoomServer, Reply, ZoomHandler
from therabee.video.zoom.webhooks import URL_VALIDATION_EVENT, compute_signature

KINDS = ("token", "create", "get", "update", "delete", "list")
_LIST_FIELDS = ("id", "uuid", "host_id", "topic", "type", "start_time", "duration", "timezone", "agenda",
                "join_url", "created_at")
_EVENT_OBJECT_FIELDS = ("host_id", "topic", "type", "start_time", "duration", "timezone")
_MUTABLE_FIELDS = ("topic", "type", "start_time", "duration", "timezone", "agenda", "settings")


@dataclass
class _Fault:
    kind: str | None  # None: any API call (not the token endpoint)
    remaining: int
    status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0

    def matches(self, kind: str) -> bool:
        return self.remaining > 0 and (self.kind == kind or (self.kind is None and kind != "token"))


class FakeZoom:
    """The fake server and its state; every public method is thread-safe."""

    def __init__(
        self,
        *,
        port: int = 0,
        account_id: str = "fake-account",
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        user_id: str = "me",
        expires_in: int = 3599,
        webhook_secret: str = "fake-webhook-secret",
    ) -> None:
        """`port=0` picks a free port; `expires_in` is the lifetime of issued tokens (s)."""
        self.account_id, self.client_id, self.client_secret = account_id, client_id, client_secret
        self.user_id, self.expires_in, self.webhook_secret = user_id, expires_in, webhook_secret
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._meetings: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, float] = {}
        self._page_tokens: dict[str, int] = {}
        self._faults: list[_Fault] = []
        self._delays: list[_Fault] = []
        self._drops: list[_Fault] = []
        self.requests: list[tuple[str, str, str, Any]] = []  # (kind, method, path, json body)
        self._server = FakeZoomServer(("127.0.0.1", port), ZoomHandler)
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def oauth_url(self) -> str:
        return self.base_url + "/oauth/token"

    @property
    def api_url(self) -> str:
        return self.base_url + "/v2"

    def start(self) -> FakeZoom:
        """Serve in a daemon thread; returns self."""
        # a short poll interval makes stop() quick; tests start one server each
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-zoom", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def settings_overrides(self) -> dict[str, str]:
        """Keyword arguments for `Settings(...)` that point the Zoom client here."""
        return {
            "zoom_account_id": self.account_id,
            "zoom_client_id": self.client_id,
            "zoom_client_secret": self.client_secret,
            "zoom_user_id": self.user_id,
            "zoom_oauth_url": self.oauth_url,
            "zoom_api_url": self.api_url,
            "zoom_webhook_secret": self.webhook_secret,
        }

    @property
    def calls(self) -> dict[str, int]:
        """A snapshot of how many requests of each kind arrived (failed ones included)."""
        with self._lock:
            return {kind: self._calls[kind] for kind in KINDS}

    @property
    def meetings(self) -> dict[str, dict[str, Any]]:
        """A snapshot of the live meetings by id (str)."""
        with self._lock:
            return {key: dict(value) for key, value in self._meetings.items()}

    def reset(self) -> None:
        """Forget calls, meetings, tokens and pending faults."""
        with self._lock:
            self._calls.clear()
            self._meetings.clear()
            self._tokens.clear()
            self._page_tokens.clear()
            self._faults.clear()
            self._delays.clear()
            self._drops.clear()
            self.requests.clear()

    def reset_calls(self) -> None:
        """Zero the call counters only."""
        with self._lock:
            self._calls.clear()
            self.requests.clear()

    def expire_tokens(self) -> None:
        """Invalidate every issued token: the next API call gets 401 code 124."""
        with self._lock:
            self._tokens.clear()

    def fail_next(self, n: int, status: int = 429, retry_after: str | None = None, kind: str | None = None) -> None:
        """Answer the next `n` API calls (or calls of `kind`, "token" included) with `status`.

        429 carries the rate-limit headers and `Retry-After: retry_after` when given;
        401 is code 124, 404 code 3001, 5xx a plain error body.
        """
        with self._lock:
            self._faults.append(_Fault(kind, n, status=status, retry_after=retry_after))

    def delay_next(self, n: int, seconds: float, kind: str | None = None) -> None:
        """Hold the next `n` calls (of `kind`) for `seconds` before handling them normally."""
        with self._lock:
            self._delays.append(_Fault(kind, n, seconds=seconds))

    def drop_connection_after_create_next(self, n: int = 1) -> None:
        """The next `n` creates store the meeting, then close the connection unanswered."""
        with self._lock:
            self._drops.append(_Fault("create", n))

    def send_webhook(
        self,
        url: str,
        event: str,
        meeting_id: str | int | None,
        secret: str | None = None,
        timestamp: int | None = None,
        body_overrides: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """POST a signed Zoom-style event to `url`; the object is filled from a known meeting.

        `timestamp` (Unix seconds, default now) goes in `x-zm-request-timestamp`;
        `body_overrides` is merged into the body (nested dicts merged) before signing.
        """
        secret = secret if secret is not None else self.webhook_secret
        timestamp = int(clock.now().timestamp()) if timestamp is None else timestamp
        body: dict[str, Any] = {"event": event, "event_ts": timestamp * 1000 + secrets.randbelow(1000)}
        if event == URL_VALIDATION_EVENT:
            body["payload"] = {"plainToken": secrets.token_urlsafe(16)}
        else:
            known = self.meetings.get(str(meeting_id), {})
            obj = {"id": int(meeting_id) if meeting_id is not None else None, "uuid": known.get("uuid", "")}
            obj.update({k: known[k] for k in _EVENT_OBJECT_FIELDS if k in known})
            body["payload"] = {"account_id": self.account_id, "object": obj}
        body = _merge(body, body_overrides or {})
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            "x-zm-request-timestamp": str(timestamp),
            "x-zm-signature": compute_signature(secret, str(timestamp), raw),
        }
        return httpx.post(url, content=raw, headers=headers, timeout=10)

    # -- the request side, called by ZoomHandler --------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        """One request in, one `Reply` out (or a dropped connection)."""
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        kind, route = self._route(method, parts)
        if kind is None:
            return Reply(404, {"code": 404, "message": "Not found"})
        try:
            body = json.loads(raw) if raw and kind != "token" else None
        except ValueError:
            return Reply(400, {"code": 300, "message": "Invalid JSON"})
        with self._lock:
            self._calls[kind] += 1
            self.requests.append((kind, method, url.path, body))
            delay = self._take(self._delays, kind)
            fault = self._take(self._faults, kind)
        if delay is not None:
            time.sleep(delay.seconds)
        if fault is not None:
            return _fault_reply(fault)
        if kind == "token":
            return self._token(headers, raw, query)
        if not self._authorized(headers):
            return Reply(401, {"code": 124, "message": "Invalid access token."})
        if route[0] == "user" and route[1] not in (self.user_id, "me"):
            return Reply(404, {"code": 1001, "message": "User does not exist: " + route[1]})
        with self._lock:
            if kind == "create":
                return self._create(body)
            if kind == "list":
                return self._list(query)
            return self._meeting_call(kind, route[1], body)

    def _route(self, method: str, parts: list[str]) -> tuple[str | None, tuple[str, str]]:
        if parts == ["oauth", "token"] and method == "POST":
            return "token", ("", "")
        if len(parts) == 4 and parts[0] == "v2" and parts[1] == "users" and parts[3] == "meetings":
            return {"POST": "create", "GET": "list"}.get(method), ("user", parts[2])
        if len(parts) == 3 and parts[:2] == ["v2", "meetings"]:
            return {"GET": "get", "PATCH": "update", "DELETE": "delete"}.get(method), ("meeting", parts[2])
        return None, ("", "")

    @staticmethod
    def _take(faults: list[_Fault], kind: str) -> _Fault | None:
        for fault in faults:
            if fault.matches(kind):
                fault.remaining -= 1
                return fault
        return None

    def _token(self, headers: dict[str, str], raw: bytes, query: dict[str, str]) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()} | query
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return Reply(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
        if form.get("grant_type") != "account_credentials" or form.get("account_id") != self.account_id:
            return Reply(400, {"reason": "Invalid request : Account ID", "error": "invalid_request"})
        token = "fake." + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.time() + self.expires_in
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in,
                           "scope": "meeting:write:admin meeting:read:admin", "api_url": self.base_url})

    def _authorized(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        with self._lock:
            return self._tokens.get(token, 0.0) > time.time()

    def _create(self, body: Any) -> Reply:
        error = _invalid(body, required=True)
        if error:
            return Reply(400, {"code": 300, "message": error})
        meeting_id = secrets.randbelow(2**63 - 2**53) + 2**53  # 64-bit, beyond float precision
        password = secrets.token_hex(4)
        meeting = {
            "id": meeting_id, "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "host_id": "fake-host", "status": "waiting", "agenda": "",
            "created_at": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start_url": f"https://fake.zoom.us/s/{meeting_id}?zak=fake", "password": password,
            "join_url": f"https://fake.zoom.us/j/{meeting_id}?pwd={secrets.token_urlsafe(16)}",
        }
        meeting.update({k: body[k] for k in _MUTABLE_FIELDS if k in body})
        self._meetings[str(meeting_id)] = meeting
        drop = self._take(self._drops, "create")
        return Reply(0, None) if drop is not None else Reply(201, meeting)

    def _list(self, query: dict[str, str]) -> Reply:
        if query.get("type", "scheduled") != "upcoming":
            return Reply(400, {"code": 300, "message": "The fake only lists type=upcoming"})
        size = max(1, min(300, int(query.get("page_size", "30"))))
        start = self._page_tokens.pop(query["next_page_token"], 0) if query.get("next_page_token") else 0
        now = clock.now()
        upcoming = sorted(
            (m for m in self._meetings.values() if _end(m) > now), key=lambda m: (m["start_time"], m["id"])
        )
        page = upcoming[start : start + size]
        next_token = ""
        if start + size < len(upcoming):
            next_token = secrets.token_urlsafe(12)
            self._page_tokens[next_token] = start + size
        return Reply(200, {"page_size": size, "total_records": len(upcoming), "next_page_token": next_token,
                           "meetings": [{k: m.get(k) for k in _LIST_FIELDS} for m in page]})

    def _meeting_call(self, kind: str, meeting_id: str, body: Any) -> Reply:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            return Reply(404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."})
        if kind == "get":
            return Reply(200, meeting)
        if kind == "delete":
            del self._meetings[meeting_id]
            return Reply(204, None)
        error = _invalid(body, required=False)
        if error:
            return Reply(400, {"code": 300, "message": error})
        meeting.update({k: body[k] for k in _MUTABLE_FIELDS if k in body})
        return Reply(204, None)


def _invalid(body: Any, *, required: bool) -> str | None:
    """Zoom's field checks that matter to us; the message of a 400 code 300, or None."""
    if not isinstance(body, dict):
        return "Request body must be an object"
    if required and (body.get("type") != 2 or not body.get("topic")):
        return "A scheduled meeting (type 2) with a topic is required"
    if required or "start_time" in body:
        try:
            datetime.strptime(str(body.get("start_time")), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return "Invalid field: start_time (want yyyy-MM-ddTHH:mm:ssZ)"
    if (required or "duration" in body) and not isinstance(body.get("duration"), int):
        return "Invalid field: duration"
    return None


def _end(meeting: dict[str, Any]) -> datetime:
    start = datetime.strptime(meeting["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(start.timestamp() + 60 * int(meeting["duration"]), timezone.utc)


def _fault_reply(fault: _Fault) -> Reply:
    if fault.status == 429:
        headers = {"X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS",
                   "X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0"}
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        return Reply(429, {"code": 429, "message": "You have exceeded the rate limit."}, headers)
    if fault.status == 401:
        return Reply(401, {"code": 124, "message": "Invalid access token."})
    if fault.status == 404:
        return Reply(404, {"code": 3001, "message": "Meeting does not exist."})
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
    return Reply(fault.status, {"code": fault.status, "message": "Internal error (injected)"}, headers)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        both_dicts = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merge(merged[key], value) if both_dicts else value
    return merged


def start_fake_zoom(**options: Any) -> FakeZoom:
    """A started `FakeZoom` on a free port; `options` go to the constructor."""
    return FakeZoom(**options).start()


def main() -> None:
    """Serve a fake Zoom until interrupted, printing the THERABEE_* variables to use it."""
    parser = argparse.ArgumentParser(description="Run a fake Zoom on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--expires-in", type=int, default=3599)
    args = parser.parse_args()
    fake = start_fake_zoom(port=args.port, expires_in=args.expires_in)
    for key, value in fake.settings_overrides().items():
        print(f"export THERABEE_{key.upper()}={value}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
