"""The calendar model's two views (visible occurrences, reserved busy time) and the
change check, against hand-computed tables (2027-03 in New York: EST, UTC-5 before
the 14th; every instant below is written out in UTC)."""

from datetime import date, datetime, timedelta, timezone

from therabee.scheduling.calendar import Away, Calendar, SeriesState
from therabee.scheduling.expand import ExceptionSpec, PauseSpec, SeriesSpec, SessionSpec
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import zone

NY = "America/New_York"
HOUR = timedelta(hours=1)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=timezone.utc)


def weekly(series_id: str, first: datetime, **changes) -> SeriesState:
    spec = SeriesSpec(series_id, first, NY, HOUR, parse_rule("FREQ=WEEKLY;COUNT=3", zone(NY)))
    return SeriesState(spec, "t", **changes)


def one_off(series_id: str, start: datetime) -> SeriesState:
    return SeriesState(SeriesSpec(series_id, start, NY, HOUR, None), "t")


# Mondays 1, 8, 15 March at 10:00 New York: 15:00 UTC, 15:00 UTC, 14:00 UTC (EDT from the 14th)
A_STARTS = [utc(1, 15), utc(8, 15), utc(15, 14)]
DAY_OFF = Away(utc(8, 5), utc(9, 5), "time_off")  # Monday 8 March, 00:00-24:00 New York


def test_time_away_hides_an_occurrence_but_keeps_its_time_reserved():
    calendar = Calendar((weekly("a", A_STARTS[0]),), {"t": [DAY_OFF]})
    window = (utc(1, 0), utc(20, 0))
    assert [o.start for o in calendar.occurrences(*window)] == [A_STARTS[0], A_STARTS[2]]
    assert [o.start for o in calendar.reserved(*window)] == A_STARTS
    busy = calendar.busy(*window)
    assert [(b.start, b.kind) for b in busy] == [
        (A_STARTS[0], "occurrence"), (DAY_OFF.start, "time_off"), (A_STARTS[1], "occurrence"),
        (A_STARTS[2], "occurrence")]


def test_clashes_check_each_occurrence_against_all_but_itself_with_buffers():
    calendar = Calendar((weekly("a", A_STARTS[0]), one_off("b", utc(1, 16, 10))),
                        pad=timedelta(minutes=15))
    [a1] = [o for o in calendar.reserved(utc(1, 0), utc(2, 0)) if o.series_id == "a"]
    # b starts 10 minutes after a ends: inside the 15-minute pad, so each clashes with the other
    hits = calendar.clashes([a1])
    assert [(str(b.occurrence_id).split(":")[0], b.start) for b in hits] == [("b", utc(1, 16, 10))]
    assert Calendar(calendar.series, pad=timedelta(minutes=10)).clashes([a1]) == []


def test_buffers_do_not_apply_around_time_away():
    calendar = Calendar((), {"t": [DAY_OFF]}, pad=timedelta(minutes=30))
    slots = calendar.free([], NY, utc(1, 0), utc(2, 0), HOUR, timedelta(minutes=30))
    assert slots == []  # no hours: nothing free
    assert calendar.away_during(utc(8, 4), utc(8, 5)) == []  # ends exactly when it starts
    assert len(calendar.away_during(utc(8, 4), utc(8, 5, 1))) == 1


def test_unpausing_brings_back_the_paused_occurrence_and_claims_its_time():
    paused = weekly("a", A_STARTS[0], pauses=(PauseSpec(date(2027, 3, 8), date(2027, 3, 8)),))
    before = Calendar((paused, one_off("b", utc(8, 15, 30))))
    after = Calendar((weekly("a", A_STARTS[0]), one_off("b", utc(8, 15, 30))))
    window = (utc(1, 0), utc(20, 0))
    assert [o.start for o in before.arrivals(after, *window)] == [A_STARTS[1]]
    claims = before.claims(after, *window)
    assert [o.start for o in claims] == [A_STARTS[1]]
    assert [b.start for b in after.clashes(claims)] == [utc(8, 15, 30)]


def test_removing_time_away_claims_what_it_hid_even_though_it_was_reserved():
    before = Calendar((weekly("a", A_STARTS[0]), one_off("b", utc(8, 15))), {"t": [DAY_OFF]})
    after = Calendar(before.series)
    claims = before.claims(after, utc(8, 5), utc(9, 5))
    assert sorted((o.series_id, o.start) for o in claims) == [("a", A_STARTS[1]), ("b", utc(8, 15))]
    assert len(after.clashes(claims)) == 2  # a and b come back on top of each other


def test_a_move_is_found_where_it_went_and_frees_where_it_was():
    moved = weekly("a", A_STARTS[0], exceptions=(ExceptionSpec(A_STARTS[0], "moved", utc(3, 20)),))
    calendar = Calendar((moved,))
    assert [o.start for o in calendar.occurrences(utc(1, 0), utc(2, 0))] == []
    [o] = calendar.occurrences(utc(3, 0), utc(4, 0))
    assert (o.original_start, o.start, o.end) == (A_STARTS[0], utc(3, 20), utc(3, 21))
    before = Calendar((weekly("a", A_STARTS[0]),))
    assert [(x.original_start, x.start) for x in before.arrivals(calendar, utc(1, 0), utc(4, 0))] == [
        (A_STARTS[0], utc(3, 20))]


def test_a_hidden_session_is_hidden_while_paused_or_away_and_scheduled_again_after():
    # a's second occurrence was made (a session) and then hidden by a pause of Monday 8 March
    hidden = SessionSpec(A_STARTS[1], A_STARTS[1], A_STARTS[1] + HOUR, "hidden")
    paused = weekly("a", A_STARTS[0], sessions=(hidden,), pauses=(PauseSpec(date(2027, 3, 8), date(2027, 3, 8)),))
    window = (utc(1, 0), utc(20, 0))
    assert [o.start for o in Calendar((paused,)).occurrences(*window)] == [A_STARTS[0], A_STARTS[2]]
    assert [o.start for o in Calendar((paused,)).reserved(*window)] == [A_STARTS[0], A_STARTS[2]]
    assert [o.start for o in Calendar((paused,)).remaining(*window)] == A_STARTS
    # the pause gone: scheduled, not yet a session again (the horizon job or opening it makes it one)
    back = weekly("a", A_STARTS[0], sessions=(hidden,))
    second = Calendar((back,)).occurrences(*window)[1]
    assert (second.start, second.status, second.materialized) == (A_STARTS[1], "scheduled", False)
    # time off over it: hidden, but its time stays reserved, as for any occurrence
    away = Calendar((back,), {"t": [DAY_OFF]})
    assert [o.start for o in away.occurrences(*window)] == [A_STARTS[0], A_STARTS[2]]
    assert [o.start for o in away.reserved(*window)] == A_STARTS


def test_an_occurrence_cancelled_after_a_move_is_listed_where_it_was_moved():
    # a's first moved to Thursday 25 March 12:00 New York (16:00 UTC, EDT), then cancelled
    moved_then_cancelled = ExceptionSpec(A_STARTS[0], "cancelled", utc(25, 16), timedelta(minutes=30))
    calendar = Calendar((weekly("a", A_STARTS[0], exceptions=(moved_then_cancelled,)),))
    assert [(o.start, o.end, o.status) for o in calendar.occurrences(utc(1, 0), utc(31, 0))] == [
        (A_STARTS[1], A_STARTS[1] + HOUR, "scheduled"), (A_STARTS[2], A_STARTS[2] + HOUR, "scheduled"),
        (utc(25, 16), utc(25, 16, 30), "cancelled")]
    assert calendar.occurrences(utc(25, 0), utc(26, 0))[0].original_start == A_STARTS[0]
    assert calendar.reserved(utc(1, 0), utc(31, 0))[0].start == A_STARTS[1]
