"""RRULE validation: the supported subset parses, everything else is refused naming the part."""

from datetime import datetime, timezone

import pytest

from therabee.scheduling.rules import RuleError, parse_rule
from therabee.scheduling.timezones import zone

BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")


@pytest.mark.parametrize("text, freq", [
    ("FREQ=DAILY", "DAILY"),
    ("FREQ=WEEKLY", "WEEKLY"),
    ("FREQ=MONTHLY", "MONTHLY"),
    ("FREQ=WEEKLY;INTERVAL=2", "WEEKLY"),
    ("FREQ=DAILY;INTERVAL=3", "DAILY"),
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "WEEKLY"),
    ("FREQ=MONTHLY;BYDAY=2TU", "MONTHLY"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "MONTHLY"),
    ("FREQ=MONTHLY;BYDAY=+1MO", "MONTHLY"),
    ("FREQ=MONTHLY;BYMONTHDAY=15", "MONTHLY"),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "MONTHLY"),
    ("FREQ=MONTHLY;BYMONTHDAY=1,15", "MONTHLY"),
    ("FREQ=WEEKLY;COUNT=10", "WEEKLY"),
    ("FREQ=WEEKLY;WKST=SU;INTERVAL=2;BYDAY=MO,SU", "WEEKLY"),
    ("RRULE:FREQ=WEEKLY;BYDAY=TU", "WEEKLY"),
    ("rrule:freq=weekly;byday=tu", "WEEKLY"),
])
def test_supported_rule_parses(text, freq):
    rule = parse_rule(text, BERLIN)
    assert rule is not None
    assert rule.freq == freq
    assert "RRULE" not in rule.text.upper()
    assert "COUNT" not in rule.body and "UNTIL" not in rule.body


def test_none_is_a_one_off():
    assert parse_rule(None, BERLIN) is None


def test_count_is_kept_apart_from_the_body():
    rule = parse_rule("FREQ=WEEKLY;COUNT=12;BYDAY=MO", BERLIN)
    assert rule.count == 12
    assert rule.until is None
    assert rule.body == "FREQ=WEEKLY;BYDAY=MO"
    assert "COUNT=12" in rule.text


def test_count_at_the_maximum_is_accepted():
    assert parse_rule("FREQ=DAILY;COUNT=520", BERLIN).count == 520
    assert parse_rule("FREQ=DAILY;COUNT=5", BERLIN, max_count=5).count == 5


def test_until_as_a_date_means_the_end_of_that_day_in_the_series_zone():
    rule = parse_rule("FREQ=WEEKLY;UNTIL=20261231", NEW_YORK)
    assert rule.until_is_date
    # 23:59:59 EST on 31 December is 04:59:59 UTC on 1 January
    assert rule.until == datetime(2027, 1, 1, 4, 59, 59, tzinfo=timezone.utc)
    assert rule.body == "FREQ=WEEKLY"


def test_until_as_a_utc_date_time_is_that_instant():
    rule = parse_rule("FREQ=WEEKLY;UNTIL=20260630T080000Z", BERLIN)
    assert not rule.until_is_date
    assert rule.until == datetime(2026, 6, 30, 8, 0, tzinfo=timezone.utc)
    assert rule.until.utcoffset().total_seconds() == 0


def test_until_date_depends_on_the_zone():
    in_berlin = parse_rule("FREQ=DAILY;UNTIL=20260101", BERLIN)
    in_new_york = parse_rule("FREQ=DAILY;UNTIL=20260101", NEW_YORK)
    assert (in_new_york.until - in_berlin.until).total_seconds() == 6 * 3600


@pytest.mark.parametrize("text, part", [
    ("FREQ=SECONDLY", "FREQ"),
    ("FREQ=MINUTELY", "FREQ"),
    ("FREQ=HOURLY", "FREQ"),
    ("FREQ=YEARLY", "FREQ"),
    ("FREQ=FORTNIGHTLY", "FREQ"),
    ("INTERVAL=2", "FREQ"),
    ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2", "BYSETPOS"),
    ("FREQ=WEEKLY;BYHOUR=10", "BYHOUR"),
    ("FREQ=WEEKLY;BYMINUTE=30", "BYMINUTE"),
    ("FREQ=WEEKLY;BYSECOND=0", "BYSECOND"),
    ("FREQ=WEEKLY;BYWEEKNO=20", "BYWEEKNO"),
    ("FREQ=MONTHLY;BYYEARDAY=100", "BYYEARDAY"),
    ("FREQ=MONTHLY;BYMONTH=3", "BYMONTH"),
    ("FREQ=WEEKLY;COLOR=BLUE", "COLOR"),
    ("FREQ=WEEKLY;X-NAME=1", "X-NAME"),
    ("FREQ=WEEKLY;FREQ=DAILY", "FREQ"),
    ("FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "BYDAY"),
    ("FREQ=WEEKLY;COUNT=0", "COUNT"),
    ("FREQ=WEEKLY;COUNT=521", "COUNT"),
    ("FREQ=WEEKLY;COUNT=999999999", "COUNT"),
    ("FREQ=WEEKLY;COUNT=ten", "COUNT"),
    ("FREQ=WEEKLY;COUNT=-3", "COUNT"),
    ("FREQ=WEEKLY;COUNT=2.5", "COUNT"),
    ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL"),
    ("FREQ=WEEKLY;INTERVAL=53", "INTERVAL"),
    ("FREQ=WEEKLY;INTERVAL=two", "INTERVAL"),
    ("FREQ=WEEKLY;UNTIL=20261231T100000", "UNTIL"),
    ("FREQ=WEEKLY;UNTIL=20261332", "UNTIL"),
    ("FREQ=WEEKLY;UNTIL=soon", "UNTIL"),
    ("FREQ=WEEKLY;BYDAY=2TU", "BYDAY"),
    ("FREQ=WEEKLY;BYDAY=MO,-1FR", "BYDAY"),
    ("FREQ=DAILY;BYDAY=MO", "BYDAY"),
    ("FREQ=WEEKLY;BYDAY=XX", "BYDAY"),
    ("FREQ=MONTHLY;BYDAY=0TU", "BYDAY"),
    ("FREQ=MONTHLY;BYDAY=6TU", "BYDAY"),
    ("FREQ=MONTHLY;BYDAY=-7FR", "BYDAY"),
    ("FREQ=WEEKLY;BYMONTHDAY=3", "BYMONTHDAY"),
    ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY"),
    ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY"),
    ("FREQ=MONTHLY;BYMONTHDAY=x", "BYMONTHDAY"),
    ("FREQ=WEEKLY;WKST=XX", "WKST"),
    ("DTSTART:20260101T100000Z\nRRULE:FREQ=WEEKLY", "DTSTART"),
    ("FREQ=WEEKLY;DTSTART=20260101T100000Z", "DTSTART"),
])
def test_unsupported_or_broken_rule_is_refused_naming_the_part(text, part):
    with pytest.raises(RuleError) as caught:
        parse_rule(text, BERLIN)
    assert caught.value.part == part
    assert caught.value.field == "rrule"
    assert str(caught.value)


def test_count_and_until_together_are_refused():
    with pytest.raises(RuleError) as caught:
        parse_rule("FREQ=WEEKLY;COUNT=3;UNTIL=20261231", BERLIN)
    assert caught.value.part in ("COUNT", "UNTIL")


@pytest.mark.parametrize("text", ["hello", "FREQ", "=WEEKLY", "FREQ=WEEKLY;BYDAY=", "FREQ=WEEKLY;?"])
def test_text_that_is_not_name_value_parts_is_refused_naming_the_chunk(text):
    with pytest.raises(RuleError) as caught:
        parse_rule(text, BERLIN)
    assert caught.value.part
    assert caught.value.part in text.upper() or caught.value.part in text


@pytest.mark.parametrize("text", ["", "   ", "RRULE:", "RRULE:  "])
def test_empty_rule_is_refused(text):
    with pytest.raises(RuleError):
        parse_rule(text, BERLIN)


def test_non_string_rule_is_refused():
    with pytest.raises(RuleError):
        parse_rule(7, BERLIN)  # type: ignore[arg-type]


def test_oversized_rule_is_refused():
    with pytest.raises(RuleError):
        parse_rule("FREQ=WEEKLY;BYDAY=" + ",".join(["MO"] * 200), BERLIN)


def test_max_count_is_a_parameter():
    with pytest.raises(RuleError) as caught:
        parse_rule("FREQ=DAILY;COUNT=6", BERLIN, max_count=5)
    assert caught.value.part == "COUNT"
