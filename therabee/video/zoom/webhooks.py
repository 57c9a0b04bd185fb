"""Zoom webhooks, as pure functions: signature check, URL validation, event parsing.

Nothing here reads the clock or the settings: the route passes `now` and the
secret in, which keeps these functions exhaustively testable.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

MAX_AGE_SECONDS = 300
URL_VALIDATION_EVENT = "endpoint.url_validation"


class WebhookRejected(Exception):
    """The request is not a genuine, fresh Zoom delivery; `reason` says why (safe to log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebhookEvent:
    """One delivery: the event name, the meeting it is about (if any) and its time."""

    event: str
    meeting_id: str | None
    meeting_uuid: str | None
    event_ts: int  # milliseconds since the epoch, as Zoom sends it
    delivery_key: str  # the same for every redelivery of this event: de-duplicate on it


def compute_signature(secret: str, timestamp: str, raw_body: bytes) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the webhook secret."""
    message = b"v0:" + timestamp.encode() + b":" + raw_body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    raw_body: bytes,
    now: float,
    max_age_seconds: int = MAX_AGE_SECONDS,
) -> None:
    """Accept only a correctly signed delivery whose timestamp is within `max_age_seconds` of `now`.

    `now` is Unix seconds. Raises `WebhookRejected`; returns None when valid.
    """
    if not secret:
        raise WebhookRejected("no webhook secret configured")
    if not timestamp_header:
        raise WebhookRejected("missing x-zm-request-timestamp")
    if not signature_header:
        raise WebhookRejected("missing x-zm-signature")
    timestamp = timestamp_header.strip()
    if not timestamp.isascii() or not timestamp.isdigit():
        raise WebhookRejected("timestamp is not a number")
    age = now - int(timestamp)
    if age > max_age_seconds:
        raise WebhookRejected("timestamp too old")
    if age < -max_age_seconds:
        raise WebhookRejected("timestamp in the future")
    expected = compute_signature(secret, timestamp, raw_body)
    # bytes, so a non-ASCII header is a mismatch rather than a TypeError
    if not hmac.compare_digest(expected.encode(), signature_header.strip().encode()):
        raise WebhookRejected("bad signature")


def url_validation_response(secret: str, plain_token: str) -> dict[str, str]:
    """The answer to `endpoint.url_validation`: the token and its HMAC-SHA256 in hex."""
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


def parse_event(body: dict[str, Any]) -> WebhookEvent:
    """The parts of a verified delivery we act on; `WebhookRejected` if it is malformed.

    `payload.object.id` comes as a number in some events and a string in others:
    it is always returned as a string of digits.
    """
    if not isinstance(body, dict):
        raise WebhookRejected("body is not an object")
    event = body.get("event")
    if not isinstance(event, str) or not event:
        raise WebhookRejected("missing event")
    event_ts = _event_ts(body.get("event_ts"))
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise WebhookRejected("missing payload")
    obj = payload.get("object")
    meeting_id = meeting_uuid = None
    if isinstance(obj, dict):
        meeting_id = _meeting_id(obj.get("id"))
        uuid = obj.get("uuid")
        meeting_uuid = uuid if isinstance(uuid, str) else None
    return WebhookEvent(
        event=event,
        meeting_id=meeting_id,
        meeting_uuid=meeting_uuid,
        event_ts=event_ts,
        delivery_key=f"{event}:{meeting_id or '-'}:{event_ts}",
    )


def _event_ts(value: Any) -> int:
    if isinstance(value, bool):
        raise WebhookRejected("event_ts is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise WebhookRejected("event_ts is missing or not a number")


def _meeting_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise WebhookRejected("meeting id is not a number")
    if isinstance(value, int):
        if value < 0:
            raise WebhookRejected("meeting id is negative")
        return str(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return str(int(value.strip()))  # drops leading zeros, so both forms give one key
    raise WebhookRejected("meeting id is not a number")
