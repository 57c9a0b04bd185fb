"""The rule in plain words: every repeat and every end a client can pick reads as meant."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from therabee.scheduling.describe import describe, ordinal, zone_label

NY = "America/New_York"
TUESDAY_10_NY = datetime(2026, 12, 1, 10, tzinfo=ZoneInfo(NY))


@pytest.mark.parametrize(("rrule", "limit", "expected"), [
    ("FREQ=WEEKLY", None, "Every Tuesday at 10:00 New York time, from 1 Dec, until you stop"),
    ("RRULE:FREQ=WEEKLY;BYDAY=TU", None, "Every Tuesday at 10:00 New York time, from 1 Dec, until you stop"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", None,
     "Every 2 weeks on Tuesday at 10:00 New York time, from 1 Dec, until you stop"),
    ("FREQ=MONTHLY;BYDAY=1TU", None, "Monthly on the 1st Tuesday at 10:00 New York time, from 1 Dec, until you stop"),
    ("FREQ=MONTHLY;BYDAY=-1FR", None, "Monthly on the last Friday at 10:00 New York time, from 1 Dec, until you stop"),
    ("FREQ=WEEKLY;BYDAY=MO,TH", None,
     "Every Monday and Thursday at 10:00 New York time, from 1 Dec, until you stop"),
    ("FREQ=WEEKLY;COUNT=10", None, "Every Tuesday at 10:00 New York time, from 1 Dec, for 10 sessions"),
    ("FREQ=WEEKLY;COUNT=1", None, "Every Tuesday at 10:00 New York time, from 1 Dec, for 1 session"),
    ("FREQ=WEEKLY", 10, "Every Tuesday at 10:00 New York time, from 1 Dec, until 10 held sessions"),
    ("FREQ=WEEKLY;UNTIL=20261220", None, "Every Tuesday at 10:00 New York time, from 1 Dec, until 20 Dec"),
    ("FREQ=WEEKLY;UNTIL=20270620", None, "Every Tuesday at 10:00 New York time, from 1 Dec, until 20 Jun 2027"),
    ("FREQ=DAILY;INTERVAL=3", None, "Every 3 days at 10:00 New York time, from 1 Dec, until you stop"),
    ("FREQ=MONTHLY;BYMONTHDAY=15", None, "Monthly on the 15th at 10:00 New York time, from 1 Dec, until you stop"),
])
def test_describe_reads_each_repeat_and_end(rrule, limit, expected):
    assert describe(rrule, TUESDAY_10_NY, NY, limit) == expected


def test_a_one_off_reads_as_once():
    assert describe(None, TUESDAY_10_NY, NY, None) == "Once, on Tue 1 Dec at 10:00 New York time"


def test_until_as_utc_instant_is_told_in_the_viewers_day():
    text = describe("FREQ=WEEKLY;UNTIL=20261222T030000Z", TUESDAY_10_NY, NY, None)
    assert text.endswith("until 21 Dec")


def test_viewer_zone_names_their_time_and_keeps_the_series_time_in_brackets():
    text = describe("FREQ=WEEKLY;BYDAY=TU", TUESDAY_10_NY, NY, None, viewer_zone="Europe/Berlin")
    assert text == "Every Tuesday at 16:00 Berlin time (10:00 New York time), from 1 Dec, until you stop"


def test_weekdays_shift_when_the_viewer_is_already_on_the_next_day():
    evening = datetime(2026, 12, 1, 20, tzinfo=ZoneInfo(NY))
    text = describe("FREQ=WEEKLY;BYDAY=TU,FR", evening, NY, None, viewer_zone="Europe/Berlin")
    assert text.startswith("Every Wednesday and Saturday at 02:00 Berlin time (20:00 New York time), from 2 Dec")


def test_a_monthly_rule_across_a_day_shift_is_told_in_the_series_zone():
    evening = datetime(2026, 12, 1, 20, tzinfo=ZoneInfo(NY))
    text = describe("FREQ=MONTHLY;BYDAY=1TU", evening, NY, None, viewer_zone="Europe/Berlin")
    assert text.startswith("Monthly on the 1st Tuesday at 20:00 New York time, from 1 Dec")


def test_same_offset_viewer_gets_no_brackets():
    assert "(" not in describe("FREQ=WEEKLY", TUESDAY_10_NY, NY, None, viewer_zone="America/Toronto")


def test_count_and_held_limit_both_show():
    text = describe("FREQ=WEEKLY;COUNT=12", TUESDAY_10_NY, NY, 10)
    assert text.endswith("for 12 sessions, or until 10 held sessions")


@pytest.mark.parametrize(("n", "word"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                          (22, "22nd"), (-1, "last"), (-2, "2nd to last")])
def test_ordinal(n, word):
    assert ordinal(n) == word


def test_zone_label():
    assert zone_label("America/Los_Angeles") == "Los Angeles time"
    assert zone_label("UTC") == "UTC"


# What the client picks on /book becomes the rule that is described (services.client_views).

from therabee.services.client_views import Choice, nth_weekday, rule_for  # noqa: E402


@pytest.mark.parametrize(("day", "code"), [(1, "1TU"), (8, "2TU"), (22, "4TU"), (29, "-1TU")])
def test_monthly_choice_is_the_nth_weekday_of_the_chosen_date(day, code):
    assert nth_weekday(datetime(2026, 12, day, 10)) == code


def test_weekdays_picked_in_the_clients_zone_are_stored_in_the_series_zone():
    evening_ny = datetime(2026, 12, 1, 20, tzinfo=ZoneInfo(NY))  # Tue in New York, Wed in Berlin
    rule, limit = rule_for(Choice("weekdays", ("TU", "FR")), evening_ny, "Europe/Berlin", NY)
    assert (rule, limit) == ("FREQ=WEEKLY;BYDAY=WE,SA", None)


@pytest.mark.parametrize(("choice", "expected"), [
    (Choice("none"), (None, None)),
    (Choice("biweekly", ends="count", count="10"), ("FREQ=WEEKLY;INTERVAL=2;COUNT=10", None)),
    (Choice("weekly", ends="until", until="2027-06-20"), ("FREQ=WEEKLY;UNTIL=20270620", None)),
    (Choice("weekly", ends="held", count="8"), ("FREQ=WEEKLY", 8)),
])
def test_each_end_becomes_count_until_or_a_held_limit(choice, expected):
    assert rule_for(choice, TUESDAY_10_NY, NY, NY) == expected


def test_a_bad_count_names_the_field():
    from therabee.services.errors import ServiceError

    with pytest.raises(ServiceError) as raised:
        rule_for(Choice("weekly", ends="count", count="zero"), TUESDAY_10_NY, NY, NY)
    assert raised.value.errors[0].field == "count"
