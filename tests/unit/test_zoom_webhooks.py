"""Zoom webhook verification and parsing, with the test vectors of ZOOM.md."""

from __future__ import annotations

import json

import pytest

from therabee.video.zoom.webhooks import (
    WebhookRejected,
    compute_signature,
    parse_event,
    url_validation_response,
    verify_signature,
)

SECRET = "whsec-therabee-example"
TIMESTAMP = "1767225600"
BODY = (
    b'{"event":"meeting.started","event_ts":1767225600123,"payload":{"account_id":"acc",'
    b'"object":{"id":85746065432,"uuid":"u1","host_id":"h1","topic":"Therapy session","type":2}}}'
)
SIGNATURE = "v0=8c45d24f15c6d3bea7f83b87248a84a8d5e32e8cb2479e14506b729835db3192"
NOW = float(TIMESTAMP) + 5


def test_signature_matches_the_zoom_md_vector():
    assert compute_signature(SECRET, TIMESTAMP, BODY) == SIGNATURE


def test_the_zoom_md_delivery_is_accepted():
    verify_signature(SECRET, TIMESTAMP, SIGNATURE, BODY, now=NOW)


def test_url_validation_matches_the_zoom_md_vector():
    assert url_validation_response(SECRET, "qgg8vlvZRS6UYooatFL8Aw") == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": "4e6f5f0fba87bca4b312edec87307a0b3202610649e54a5f0d239a22d8e1f093",
    }


@pytest.mark.parametrize(
    ("secret", "timestamp", "signature", "body", "now", "reason"),
    [
        (SECRET, None, SIGNATURE, BODY, NOW, "missing x-zm-request-timestamp"),
        (SECRET, "", SIGNATURE, BODY, NOW, "missing x-zm-request-timestamp"),
        (SECRET, TIMESTAMP, None, BODY, NOW, "missing x-zm-signature"),
        (SECRET, "17672256OO", SIGNATURE, BODY, NOW, "timestamp is not a number"),
        (SECRET, "-1767225600", SIGNATURE, BODY, NOW, "timestamp is not a number"),
        (SECRET, TIMESTAMP, SIGNATURE, BODY, float(TIMESTAMP) + 301, "timestamp too old"),
        (SECRET, TIMESTAMP, SIGNATURE, BODY, float(TIMESTAMP) - 301, "timestamp in the future"),
        (SECRET, TIMESTAMP, SIGNATURE, BODY.replace(b"85746065432", b"85746065433"), NOW, "bad signature"),
        ("another-secret", TIMESTAMP, SIGNATURE, BODY, NOW, "bad signature"),
        (SECRET, TIMESTAMP, SIGNATURE[:-1] + "4", BODY, NOW, "bad signature"),
        (SECRET, TIMESTAMP, "v0=é" + SIGNATURE[4:], BODY, NOW, "bad signature"),
        ("", TIMESTAMP, SIGNATURE, BODY, NOW, "no webhook secret configured"),
    ],
    ids=[
        "no-timestamp", "empty-timestamp", "no-signature", "letters-in-timestamp", "negative-timestamp",
        "too-old", "in-the-future", "tampered-body", "wrong-secret", "wrong-signature", "non-ascii-signature",
        "no-secret",
    ],
)
def test_bad_deliveries_are_rejected_with_a_reason(secret, timestamp, signature, body, now, reason):
    with pytest.raises(WebhookRejected) as caught:
        verify_signature(secret, timestamp, signature, body, now=now)
    assert caught.value.reason == reason


def test_the_window_edges_are_accepted():
    verify_signature(SECRET, TIMESTAMP, SIGNATURE, BODY, now=float(TIMESTAMP) + 300)
    verify_signature(SECRET, TIMESTAMP, SIGNATURE, BODY, now=float(TIMESTAMP) - 300)


def test_the_window_is_configurable():
    with pytest.raises(WebhookRejected, match="too old"):
        verify_signature(SECRET, TIMESTAMP, SIGNATURE, BODY, now=float(TIMESTAMP) + 61, max_age_seconds=60)


def test_parse_event_reads_the_vector_body():
    event = parse_event(json.loads(BODY))
    assert event.event == "meeting.started"
    assert event.meeting_id == "85746065432"
    assert event.meeting_uuid == "u1"
    assert event.event_ts == 1767225600123
    assert event.delivery_key == "meeting.started:85746065432:1767225600123"


def test_a_meeting_id_as_number_or_string_gives_one_delivery_key():
    as_number = json.loads(BODY)
    as_string = json.loads(BODY)
    as_string["payload"]["object"]["id"] = "85746065432"
    assert parse_event(as_number).meeting_id == parse_event(as_string).meeting_id == "85746065432"
    assert parse_event(as_number).delivery_key == parse_event(as_string).delivery_key


def test_a_padded_string_id_is_normalised():
    body = json.loads(BODY)
    body["payload"]["object"]["id"] = " 85746065432 "
    assert parse_event(body).meeting_id == "85746065432"


def test_ids_beyond_53_bits_survive_parsing():
    body = json.loads(BODY)
    body["payload"]["object"]["id"] = 9007199254740993  # 2**53 + 1: a float would round it
    assert parse_event(body).meeting_id == "9007199254740993"


def test_a_redelivery_has_the_same_key_and_another_event_a_different_one():
    first = parse_event(json.loads(BODY))
    assert parse_event(json.loads(BODY)).delivery_key == first.delivery_key
    ended = json.loads(BODY)
    ended["event"] = "meeting.ended"
    assert parse_event(ended).delivery_key != first.delivery_key


def test_url_validation_events_have_no_meeting():
    event = parse_event({"event": "endpoint.url_validation", "event_ts": 1767225600123,
                         "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})
    assert (event.event, event.meeting_id) == ("endpoint.url_validation", None)


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.pop("event"),
        lambda b: b.pop("event_ts"),
        lambda b: b.update(event_ts="soon"),
        lambda b: b.update(payload="x"),
        lambda b: b["payload"]["object"].update(id="abc"),
        lambda b: b["payload"]["object"].update(id=True),
        lambda b: b["payload"]["object"].update(id=-5),
        lambda b: b["payload"]["object"].update(id=1.5),
    ],
    ids=["no-event", "no-event-ts", "text-event-ts", "payload-not-object", "id-letters", "id-bool",
         "id-negative", "id-float"],
)
def test_malformed_bodies_are_rejected(change):
    body = json.loads(BODY)
    change(body)
    with pytest.raises(WebhookRejected):
        parse_event(body)
