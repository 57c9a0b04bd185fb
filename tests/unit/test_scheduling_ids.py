"""Occurrence identity: `{series_id}:{YYYYMMDDTHHMMSSZ}` round-trips; anything else is refused."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from therabee.scheduling.ids import InvalidOccurrenceId, OccurrenceId
from therabee.scheduling.timezones import zone

UTC = timezone.utc

aware_instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)).map(
        lambda d: d.replace(microsecond=0)),
    st.sampled_from([UTC, zone("America/New_York"), zone("Europe/Berlin"), zone("Australia/Sydney"),
                     timezone(timedelta(hours=5, minutes=30))]),
)


@settings(max_examples=200, deadline=None)
@given(series_id=st.uuids(version=4).map(str), instant=aware_instants)
def test_occurrence_id_round_trips_through_its_string(series_id, instant):
    text = OccurrenceId(series_id, instant).to_string()
    parsed = OccurrenceId.from_string(text)
    assert parsed.series_id == series_id
    assert parsed.original_start == instant.astimezone(UTC)
    assert parsed.original_start.tzinfo == UTC
    assert parsed.to_string() == text


def test_occurrence_id_string_is_the_utc_stamp():
    berlin = datetime(2026, 3, 29, 10, 0, tzinfo=zone("Europe/Berlin"))
    occurrence_id = OccurrenceId("a1b2", berlin)
    assert occurrence_id.to_string() == "a1b2:20260329T080000Z"
    assert str(occurrence_id) == "a1b2:20260329T080000Z"


def test_same_instant_in_two_zones_gives_the_same_string():
    instant = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert OccurrenceId("s", instant).to_string() == OccurrenceId(
        "s", instant.astimezone(zone("America/New_York"))).to_string()


@pytest.mark.parametrize("text", [
    "",
    "abc",
    "abc20260101T100000Z",
    "abc-20260101T100000Z",
    ":20260101T100000Z",
    "abc:",
    "abc:2026-01-01T10:00:00Z",
    "abc:20260101T100000",
    "abc:20260101 100000Z",
    "abc:20261332T100000Z",
    "abc:20260230T100000Z",
    "abc:20260101T250000Z",
    "abc:20260101T106000Z",
    "abc:20260101T100000Z:extra",
    "abc:def:20260101T100000Z",
    "abc:20260101T100000Z\n",
    " abc:20260101T100000Z",
    "abc:20260101T100000ZZ",
    "a b:20260101T100000Z",
    "abc/def:20260101T100000Z",
    "abc:\u0662\u0660\u0662\u0666\u0660\u0661\u0660\u0661T100000Z",
    "x" * 65 + ":20260101T100000Z",
])
def test_malformed_occurrence_id_raises_invalid_occurrence_id(text):
    with pytest.raises(InvalidOccurrenceId):
        OccurrenceId.from_string(text)


def test_none_is_not_an_occurrence_id():
    with pytest.raises(InvalidOccurrenceId):
        OccurrenceId.from_string(None)  # type: ignore[arg-type]


def test_invalid_occurrence_id_is_a_value_error():
    assert issubclass(InvalidOccurrenceId, ValueError)


def test_occurrence_ids_order_by_series_then_start():
    early = OccurrenceId("s", datetime(2026, 1, 1, tzinfo=UTC))
    late = OccurrenceId("s", datetime(2026, 1, 2, tzinfo=UTC))
    assert sorted([late, early]) == [early, late]
    assert early == OccurrenceId.from_string("s:20260101T000000Z")
    assert hash(early) == hash(OccurrenceId.from_string("s:20260101T000000Z"))
