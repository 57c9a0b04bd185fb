"""Read models and choices for the client's pages: free slots grouped by the client's days,
the repeat a client picks turned into a rule, and "my sessions" with therapist names, the
rule in words and the pauses. Every change goes through the use-case modules (booking,
occurrences, series_changes); this module only shapes what they take and give."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from therabee.db.engine import read_only
from therabee.db.models import Pause, Series, User
from therabee.scheduling.describe import DAYS, describe
from therabee.scheduling.timezones import UnknownZone, zone
from therabee.services import availability, booking, clock, occurrences
from therabee.services.errors import invalid
from therabee.services.series_status import statuses
from therabee.settings import get_settings

SLOT_WEEKS = 4
SESSION_MINUTES = 50
SESSIONS_WEEKS = 12
REPEATS = ("none", "weekly", "biweekly", "monthly", "weekdays")
ENDS = ("never", "until", "count", "held")
MAX_HELD = 520


def _tz(name: str):
    try:
        return zone(name)
    except UnknownZone as exc:
        raise invalid("timezone", str(exc)) from exc


def day_label(instant: datetime) -> str:
    return f"{instant:%a} {instant.day} {instant:%b}"


def when_label(instant: datetime, viewer_zone: str) -> str:
    """"Tue 1 Dec, 10:00" in the viewer's zone."""
    local = instant.astimezone(_tz(viewer_zone))
    return f"{day_label(local)}, {local:%H:%M}"


def free_days(therapist_id: str, viewer_zone: str) -> list[dict]:
    """The therapist's free 50-minute starts over the coming weeks, grouped by the viewer's
    day: [{"day": "2026-12-01", "label": "Tue 1 Dec", "slots": [{"start", "time"}]}]."""
    tz = _tz(viewer_zone)
    now = clock.now()
    found = availability.slots(therapist_id, now, now + timedelta(weeks=SLOT_WEEKS), SESSION_MINUTES)
    days: dict[str, dict] = {}
    for slot in found:
        local = slot["start"].astimezone(tz)
        day = days.setdefault(local.date().isoformat(), {"day": local.date().isoformat(),
                                                         "label": day_label(local), "slots": []})
        day["slots"].append({"start": slot["start"].isoformat(), "time": f"{local:%H:%M}"})
    return list(days.values())


def nth_weekday(local: datetime) -> str:
    """The chosen date as a monthly n-th weekday: "2TU", or "-1FR" for a fifth (last) one."""
    n = (local.day - 1) // 7 + 1
    return f"{-1 if n == 5 else n}{DAYS[local.weekday()]}"


def is_last_of_month(local: datetime) -> bool:
    return local.day + 7 > calendar.monthrange(local.year, local.month)[1]


@dataclass(frozen=True)
class Choice:
    """What the client picked: a repeat, the weekdays (their own), and an end."""

    repeat: str = "weekly"
    weekdays: tuple[str, ...] = ()
    ends: str = "never"
    until: str = ""
    count: str = ""


def _positive(text: str, field_name: str, high: int) -> int:
    if not str(text).strip().isdigit() or not 1 <= int(text) <= high:
        raise invalid(field_name, f"must be a whole number from 1 to {high}")
    return int(text)


def rule_for(choice: Choice, start: datetime, series_zone: str, viewer_zone: str) -> tuple[str | None, int | None]:
    """The RRULE and held-sessions limit for a choice. Weekdays are picked in the viewer's
    zone and stored in the series' zone (the rule keeps the series' wall-clock time)."""
    if choice.repeat not in REPEATS:
        raise invalid("repeat", f"must be one of {', '.join(REPEATS)}")
    if choice.ends not in ENDS:
        raise invalid("ends", f"must be one of {', '.join(ENDS)}")
    local = start.astimezone(_tz(series_zone))
    if choice.repeat == "none":
        return None, None
    if choice.repeat == "weekly":
        rule = "FREQ=WEEKLY"
    elif choice.repeat == "biweekly":
        rule = "FREQ=WEEKLY;INTERVAL=2"
    elif choice.repeat == "monthly":
        rule = f"FREQ=MONTHLY;BYDAY={nth_weekday(local)}"
    else:
        shift = (local.date() - start.astimezone(_tz(viewer_zone)).date()).days
        picked = {(DAYS.index(d) + shift) % 7 for d in choice.weekdays if d in DAYS}
        picked.add(local.weekday())  # the chosen start is always one of them
        rule = "FREQ=WEEKLY;BYDAY=" + ",".join(DAYS[d] for d in sorted(picked))
    limit = None
    if choice.ends == "until":
        try:
            until = datetime.strptime(choice.until, "%Y-%m-%d").date()
        except ValueError as exc:
            raise invalid("until", "pick the date of the last session") from exc
        if until < local.date():
            raise invalid("until", "is before the first session")
        rule += f";UNTIL={until:%Y%m%d}"
    elif choice.ends == "count":
        rule += f";COUNT={_positive(choice.count, 'count', get_settings().max_count)}"
    elif choice.ends == "held":
        limit = _positive(choice.count, "sessions_limit", MAX_HELD)
    return rule, limit


def _therapist_zone(therapist_id: str) -> str:
    with read_only() as db:
        therapist = db.get(User, therapist_id) if isinstance(therapist_id, str) else None
    if therapist is None or therapist.role != "therapist":
        raise invalid("therapist_id", "is not a therapist")
    return therapist.timezone


def preview(therapist_id: str, start: datetime, choice: Choice, viewer_zone: str) -> str:
    """The booking in words, before it is made."""
    series_zone = _therapist_zone(therapist_id)
    rule, limit = rule_for(choice, start, series_zone, viewer_zone)
    return describe(rule, start, series_zone, limit, viewer_zone)


def book(client: User, therapist_id: str, start: datetime, choice: Choice) -> dict:
    """Book the chosen repeat in the therapist's zone (the zone their hours keep)."""
    series_zone = _therapist_zone(therapist_id)
    rule, limit = rule_for(choice, start, series_zone, client.timezone)
    return booking.book(client, therapist_id=therapist_id, client_id=None, start=start,
                        timezone=series_zone, duration_minutes=SESSION_MINUTES, rrule=rule,
                        sessions_limit=limit)


def conflict_dates(conflicts: list[dict], viewer_zone: str) -> list[str]:
    """The colliding dates of a refused booking, in the viewer's zone, each once."""
    seen: list[str] = []
    for hit in sorted(conflicts, key=lambda c: c["start"]):
        label = when_label(hit["start"], viewer_zone)
        if label not in seen:
            seen.append(label)
    return seen


def my_sessions(client: User, now: datetime | None = None) -> dict:
    """Upcoming occurrences (virtual and materialized alike) in the client's zone, with the
    therapist's name, the rule in words, whether cancelling now is late and whether the
    meeting can be joined; and the client's active series with their pauses."""
    now = now or clock.now()
    viewer = client.timezone
    rows = occurrences.list_occurrences(client, now - timedelta(hours=2),
                                        now + timedelta(weeks=SESSIONS_WEEKS))
    late = timedelta(hours=get_settings().late_cancel_hours)
    with read_only() as db:
        series = list(db.exec(select(Series).where(Series.client_id == client.id).order_by(Series.start)))
        ids = [s.id for s in series]
        names = dict(db.exec(select(User.id, User.name).where(
            User.id.in_({s.therapist_id for s in series}))).all()) if series else {}
        pauses: dict[str, list[dict]] = defaultdict(list)
        for p in db.exec(select(Pause).where(Pause.series_id.in_(ids)).order_by(Pause.from_date)) if ids else []:
            pauses[p.series_id].append({"id": p.id, "label": f"{p.from_date:%d %b %Y} – {p.until_date:%d %b %Y}"})
        status = statuses(db, series, now)
    by_id = {s.id: s for s in series}
    words = {s.id: describe(s.rrule, s.start, s.timezone, s.sessions_limit, viewer) for s in series}
    upcoming = []
    for o in sorted(rows, key=lambda o: o["start"]):
        if o["end"] <= now:
            continue
        local = o["start"].astimezone(_tz(viewer))
        upcoming.append({
            "id": o["id"], "series_id": o["series_id"], "start": o["start"].isoformat(),
            "original_start": o["original_start"].isoformat(), "when": when_label(o["start"], viewer),
            "date": local.date().isoformat(), "time": f"{local:%H:%M}",
            "status": o["status"], "status_label": o["status"].replace("_", " "),
            "therapist": names.get(o["therapist_id"], "Your therapist"),
            "rule": words.get(o["series_id"], ""),
            "repeats": bool(by_id[o["series_id"]].rrule) if o["series_id"] in by_id else False,
            "end": o["end"].isoformat(), "late": o["start"] - now < late,
            "join_from": o["join_from"].isoformat() if o["join_from"] else "",
            "can_change": o["status"] == "scheduled" and o["start"] > now})
    active = [{"id": s.id, "therapist": names.get(s.therapist_id, "Your therapist"),
               "rule": words[s.id] + (f", ending before {when_label(s.ends_before, viewer)}" if s.ends_before else ""),
               "pauses": pauses[s.id]} for s in series if status[s.id] == "active"]
    return {"occurrences": upcoming, "series": active, "zone": viewer,
            "late_hours": get_settings().late_cancel_hours}
