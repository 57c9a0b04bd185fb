"""Zoom event notifications: verify, de-duplicate, and move the session's state.

Zoom wants an answer within 3 s and redelivers, sometimes out of order. A delivery is
verified (signature, 5-minute timestamp window), then recorded and applied in one
small transaction: its key (event, meeting id, event_ts) is inserted with
`ON CONFLICT DO NOTHING`, so a redelivery changes nothing. Anything slow (re-creating
a deleted meeting) is queued as a job after commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from therabee.db.engine import is_postgres, unit_of_work
from therabee.db.models import Session, WebhookDelivery
from therabee.services import clock, materialize, meetings
from therabee.settings import Settings, get_settings
from therabee.video.zoom.webhooks import (URL_VALIDATION_EVENT, WebhookRejected, parse_event,
                                          url_validation_response, verify_signature)

log = logging.getLogger(__name__)

HANDLED = ("meeting.started", "meeting.ended", "meeting.deleted")
# Zoom stops redelivering after about 1.5 h: a week of keys is plenty to spot duplicates
DELIVERY_RETENTION = timedelta(days=7)


def handle_zoom(raw_body: bytes, headers: Mapping[str, str],
                settings: Settings | None = None) -> tuple[int, dict]:
    """One POST from Zoom: (HTTP status, JSON body). Refusals change nothing.

    503 when no webhook secret is configured, 401 for a missing or bad signature or a
    timestamp outside 5 minutes, 400 for a malformed body.
    """
    secret = (settings or get_settings()).zoom_webhook_secret
    if not secret:
        log.warning("zoom webhook refused: THERABEE_ZOOM_WEBHOOK_SECRET is not set")
        return 503, {"detail": "Zoom webhooks are not configured (THERABEE_ZOOM_WEBHOOK_SECRET)"}
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        verify_signature(secret, lowered.get("x-zm-request-timestamp"), lowered.get("x-zm-signature"),
                         raw_body, now=clock.now().timestamp())
    except WebhookRejected as exc:
        log.warning("zoom webhook refused: %s", exc.reason)
        return 401, {"detail": f"Webhook refused: {exc.reason}"}
    try:
        body = json.loads(raw_body)
        if isinstance(body, dict) and body.get("event") == URL_VALIDATION_EVENT:
            return 200, _url_validation(secret, body)
        event = parse_event(body)
    except (ValueError, RecursionError, WebhookRejected) as exc:  # RecursionError: absurd nesting
        reason = exc.reason if isinstance(exc, WebhookRejected) else "body is not JSON"
        log.warning("zoom webhook malformed: %s", reason)
        return 400, {"detail": f"Malformed event: {reason}"}
    if event.event not in HANDLED or event.meeting_id is None:
        return 200, {"status": "ignored"}
    return 200, {"status": _apply(event.event, event.meeting_id, event.delivery_key)}


def _url_validation(secret: str, body: dict) -> dict:
    token = (body.get("payload") or {}).get("plainToken") if isinstance(body.get("payload"), dict) else None
    if not isinstance(token, str) or not token:
        raise WebhookRejected("url_validation without plainToken")
    return url_validation_response(secret, token)


def _apply(event: str, meeting_id: str, delivery_key: str) -> str:
    with unit_of_work() as db:
        insert = postgresql.insert if is_postgres(db) else sqlite.insert
        recorded = db.execute(insert(WebhookDelivery).values(
            delivery_key=delivery_key[:200], event=event[:64], received_at=clock.now())
            .on_conflict_do_nothing(index_elements=["delivery_key"])
            .returning(WebhookDelivery.delivery_key)).first()
        if recorded is None:
            return "duplicate"
        row = db.exec(select(Session).where(Session.meeting_id == meeting_id)
                      .with_for_update()).first()
        if row is None:
            return "unknown meeting"
        changed = _transition(db, row, event)
        log.info("zoom %s for session %s: %s", event, row.id, "applied" if changed else "no change")
        return "applied" if changed else "no change"


def _transition(db, row: Session, event: str) -> bool:
    """Apply one event to its session; a late or repeated event never goes backwards."""
    if event == "meeting.started" and row.status == "scheduled":
        materialize.set_status(db, row, "in_progress")
        return True
    if event == "meeting.ended" and row.status in ("scheduled", "in_progress"):
        materialize.set_status(db, row, "completed")
        return True
    if event == "meeting.deleted" and row.status == "scheduled" and row.meeting_state == "created":
        meetings.meeting_gone(db, row)  # someone deleted it in Zoom: make a new one
        return True
    return False


def prune_deliveries(before: datetime | None = None) -> int:
    """Forget deliveries received before `before` (default: DELIVERY_RETENTION ago).

    One DELETE: safe on any number of workers at once. Returns how many went."""
    before = before or clock.now() - DELIVERY_RETENTION
    with unit_of_work() as db:
        return db.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.received_at < before)).rowcount
