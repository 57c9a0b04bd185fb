"""Read models for the therapist's pages: a calendar window with client names and time off,
the therapist's clients with their series. Reads only; every change goes through the
use-case modules (occurrences, series_changes, practice, availability)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlmodel import select

from therabee.db.engine import read_only
from therabee.db.models import Availability, Pause, Series, User
from therabee.scheduling.describe import describe
from therabee.scheduling.timezones import UnknownZone, to_instant, zone
from therabee.services import clock
from therabee.services.errors import forbidden, invalid
from therabee.services.occurrences import list_occurrences
from therabee.services.practice import list_time_off
from therabee.services.calendar_rows import load
from therabee.services.series_status import statuses

NEXT_OCCURRENCE_DAYS = 400


def _require_therapist(actor: User) -> None:
    if actor.role != "therapist":
        raise forbidden("Only therapists have a practice calendar")


def practice_zone(therapist: User) -> str:
    """The zone the therapist's calendar is drawn in: their hours' zone, else their own."""
    with read_only() as db:
        row = db.get(Availability, therapist.id)
    return row.timezone if row else therapist.timezone


def _in_words(row: Series, viewer_zone: str) -> str:
    return describe(row.rrule, row.start, row.timezone, row.sessions_limit, viewer_zone)


def calendar_window(therapist: User, from_: datetime, to: datetime) -> dict:
    """Occurrences of `[from_, to)` with client names and the rule in words, the time off
    and holidays touching it, and the weekly hours. Writes nothing."""
    _require_therapist(therapist)
    occurrences = list_occurrences(therapist, from_, to, therapist_id=therapist.id)
    away = list_time_off(therapist, therapist.id, from_, to)
    series_ids = sorted({o["series_id"] for o in occurrences})
    with read_only() as db:
        hours = db.get(Availability, therapist.id)
        series = {s.id: s for s in db.exec(select(Series).where(Series.id.in_(series_ids)))} if series_ids else {}
        client_ids = sorted({s.client_id for s in series.values()})
        names = dict(db.exec(select(User.id, User.name).where(User.id.in_(client_ids))).all()) if client_ids else {}
    zone_name = hours.timezone if hours else therapist.timezone
    words = {sid: _in_words(row, zone_name) for sid, row in series.items()}
    for occurrence in occurrences:
        occurrence["client_name"] = names.get(occurrence["client_id"], "Client")
        occurrence["rule_in_words"] = words.get(occurrence["series_id"], "")
    return {"zone": zone_name,
            "weekly": list(hours.weekly) if hours else [],
            "occurrences": occurrences, "time_off": away}


def clients_with_series(therapist: User) -> list[dict]:
    """The therapist's clients (by name), each with their series: the rule in words, status
    (series_status), `ends_before` (None unless ended or split), pauses and the next
    occurrence still to take place. Writes nothing."""
    _require_therapist(therapist)
    now = clock.now()
    with read_only() as db:
        hours = db.get(Availability, therapist.id)
        zone_name = hours.timezone if hours else therapist.timezone
        rows = list(db.exec(select(Series).where(Series.therapist_id == therapist.id).order_by(Series.start)))
        if not rows:
            return []
        ids = [r.id for r in rows]
        clients = {u.id: u for u in db.exec(select(User).where(User.id.in_({r.client_id for r in rows})))}
        pauses: dict[str, list] = defaultdict(list)
        for p in db.exec(select(Pause).where(Pause.series_id.in_(ids)).order_by(Pause.from_date)):
            pauses[p.series_id].append({"id": p.id, "from": p.from_date, "until": p.until_date})
        status = statuses(db, rows, now)
        active = [r for r in rows if status[r.id] == "active"]
        upcoming: dict[str, datetime] = {}
        soon = now + timedelta(days=NEXT_OCCURRENCE_DAYS)
        for row, occurrence in load(db, now, soon, rows=active).pairs(now, soon):
            if occurrence.status == "scheduled" and occurrence.start > now:
                upcoming.setdefault(row.id, occurrence.original_start)
    by_client: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_client[row.client_id].append({
            "id": row.id, "status": status[row.id], "ends_before": row.ends_before,
            "rule_in_words": _in_words(row, zone_name),
            "timezone": row.timezone, "duration_minutes": row.duration_minutes,
            "next_occurrence": upcoming.get(row.id), "pauses": pauses[row.id]})
    people = sorted(clients.values(), key=lambda u: u.name.lower())
    return [{"id": u.id, "name": u.name, "email": u.email, "timezone": u.timezone,
             "series": by_client[u.id]} for u in people]


def local_instant(day: str, clock_time: str, zone_name: str, field_name: str = "start") -> datetime:
    """A date (YYYY-MM-DD) and wall-clock time (HH:MM) in a zone → aware UTC instant,
    by the zone policy of the scheduling core. Errors name `field_name`."""
    try:
        tz = zone(zone_name)
    except UnknownZone as exc:
        raise invalid("timezone", str(exc)) from exc
    try:
        local = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock_time))
    except (TypeError, ValueError) as exc:
        raise invalid(field_name, "needs a date YYYY-MM-DD and a time HH:MM") from exc
    return to_instant(local, tz)


def parse_day(text: str, field_name: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise invalid(field_name, "must be a date YYYY-MM-DD") from exc
