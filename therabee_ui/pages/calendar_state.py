"""CalendarState: the therapist's week / month window, laid out for the grid, and the actions
on one occurrence. Browsing only reads (occurrences.list_occurrences via therapist_views)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from therabee.services import clock, occurrences, series_changes, therapist_views
from therabee_ui.auth import AuthState
from therabee_ui.components.therapist_common import (STATUS_COLORS, STATUS_LABELS, acting_therapist,
                                                     away_redirect, call_service)
from therabee_ui.joining import join_open, meeting_link

HOUR_PX = 48
FIRST_HOUR, LAST_HOUR = 7, 20
MONTH_ITEMS = 3


@dataclasses.dataclass
class Item:
    """One occurrence as the grid and the detail need it (local times in the practice zone)."""

    id: str = ""
    series_id: str = ""
    original_start: str = ""
    client_name: str = ""
    rule_in_words: str = ""
    status: str = ""
    status_label: str = ""
    color: str = "blue"
    background: str = ""
    outline: str = ""
    materialized: bool = False
    join_url: str = ""
    day: int = 0
    top: str = "0px"
    height: str = "0px"
    left: str = "0%"
    date_label: str = ""
    time_label: str = ""
    local_date: str = ""
    local_time: str = ""
    duration: int = 50
    start: str = ""  # ISO instants
    end: str = ""
    join_from: str = ""  # "" when it is never joined
    join_opens_label: str = ""  # when Join opens, in the practice zone
    join_note: str = ""  # "Join opens at …" before then
    can_join: bool = False
    can_attend: bool = False
    can_change: bool = False


@dataclasses.dataclass
class Day:
    label: str = ""
    left: str = "0%"
    iso: str = ""
    number: str = ""
    today: bool = False
    in_month: bool = True
    away: str = ""
    items: list[Item] = dataclasses.field(default_factory=list)
    more: str = ""


@dataclasses.dataclass
class Block:
    """A stretch of time off or a holiday drawn across one day column."""

    left: str = "0%"
    top: str = "0px"
    height: str = "0px"
    label: str = ""


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_start(day: date) -> date:
    return _monday(day.replace(day=1))


def _left(day: int) -> str:
    return f"calc(var(--tb-hours) + (100% - var(--tb-hours)) * {day} / 7)"


def _timely(item: Item, now: datetime) -> Item:
    """The item's controls that depend on the time: join, attendance, changes."""
    start = datetime.fromisoformat(item.start)
    waiting = bool(item.join_from) and now < datetime.fromisoformat(item.join_from)
    return dataclasses.replace(
        item, can_join=join_open(item.status, item.start, item.end, now),
        join_note=f"Join opens at {item.join_opens_label}, an hour before the start." if waiting else "",
        can_attend=start <= now and item.status in ("scheduled", "in_progress", "completed", "no_show"),
        can_change=item.status == "scheduled" and start > now)


def _item(o: dict, tz: ZoneInfo, first_day: date, first_hour: int, now: datetime) -> Item:
    start, end = o["start"].astimezone(tz), o["end"].astimezone(tz)
    minutes = int((o["end"] - o["start"]).total_seconds() // 60)
    from_top = (start.hour - first_hour) * 60 + start.minute
    status = o["status"]
    opens = o["join_from"].astimezone(tz) if o["join_from"] else None
    return _timely(Item(
        id=o["id"], series_id=o["series_id"], original_start=o["original_start"].isoformat(),
        client_name=o["client_name"], rule_in_words=o["rule_in_words"], status=status,
        status_label=STATUS_LABELS.get(status, status), color=STATUS_COLORS.get(status, "gray"),
        background=f"var(--{STATUS_COLORS.get(status, 'gray')}-3)",
        outline=f"2px {'solid' if o['materialized'] else 'dashed'} var(--{STATUS_COLORS.get(status, 'gray')}-9)",
        materialized=o["materialized"], join_url=o["join_url"] or "", day=(start.date() - first_day).days,
        top=f"{from_top * HOUR_PX // 60}px", height=f"{max(minutes * HOUR_PX // 60, 20)}px",
        left=_left((start.date() - first_day).days),
        date_label=f"{start:%A, %d %B %Y}", time_label=f"{start:%H:%M}–{end:%H:%M}",
        local_date=start.date().isoformat(), local_time=f"{start:%H:%M}", duration=minutes,
        start=o["start"].isoformat(), end=o["end"].isoformat(),
        join_from=opens.isoformat() if opens else "", join_opens_label=_opens_label(opens, start)), now)


def _opens_label(opens: datetime | None, start: datetime) -> str:
    """When Join opens, local: "09:00", with its day when that is not the start's."""
    if opens is None:
        return ""
    return f"{opens:%H:%M}" if opens.date() == start.date() else f"{opens:%a %d %b, %H:%M}"


def _hour_range(weekly: list[dict], items: list[dict], tz: ZoneInfo) -> tuple[int, int]:
    first, last = FIRST_HOUR, LAST_HOUR
    for block in weekly:
        first = min(first, int(block["start"][:2]))
        last = max(last, int(block["end"][:2]) + (block["end"][3:] != "00"))
    for o in items:
        start, end = o["start"].astimezone(tz), o["end"].astimezone(tz)
        first = min(first, start.hour)
        last = max(last, end.hour + (end.minute > 0) if end.date() == start.date() else 24)
    return first, min(last, 24)


def _away_label(entry: dict) -> str:
    return "Holiday" if entry["id"] is None else ("Time off" + (f": {entry['reason']}" if entry.get("reason") else ""))


def _day_away(entries: list[dict], tz: ZoneInfo, day: date) -> list[tuple[dict, datetime, datetime]]:
    """The parts of each time off that fall on `day` (local)."""
    start = datetime.combine(day, datetime.min.time(), tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
    return [(e, max(start, e["start"].astimezone(tz)), min(end, e["end"].astimezone(tz)))
            for e in entries if e["start"] < end and e["end"] > start]


class CalendarState(rx.State):
    view: str = "week"
    anchor: str = ""
    zone: str = ""
    range_label: str = ""
    loading: bool = True
    error: str = ""
    hours: list[str] = []
    grid_height: str = "0px"
    days: list[Day] = []
    items: list[Item] = []
    blocks: list[Block] = []
    selected: Item = Item()
    detail_open: bool = False
    busy: bool = False
    action_error: str = ""
    notice: str = ""
    joining: bool = False  # waiting for the selected occurrence's meeting
    join_link: str = ""  # its meeting, once ready

    @rx.var
    def empty(self) -> bool:
        return not self.loading and not self.error and not self.items

    @rx.event
    async def load(self):
        auth = await self.get_state(AuthState)
        if auth.role != "therapist":
            return away_redirect(auth.role)
        return CalendarState.refresh

    @rx.event
    async def refresh(self):
        async for update in self._reload():
            yield update

    async def _reload(self):
        self.loading, self.error = True, ""
        yield
        therapist = await acting_therapist(self)
        if therapist is None:
            self.loading = False
            yield away_redirect("")
            return
        if not self.zone:
            self.zone, self.error = await call_service(therapist_views.practice_zone, therapist)
            self.zone = self.zone or therapist.timezone
        tz = ZoneInfo(self.zone)
        now = clock.now()
        today = now.astimezone(tz).date()
        anchor = date.fromisoformat(self.anchor) if self.anchor else today
        first = _monday(anchor) if self.view == "week" else _month_start(anchor)
        length = 7 if self.view == "week" else 42
        from_, _ = await call_service(therapist_views.local_instant, first.isoformat(), "00:00", self.zone)
        to, _ = await call_service(therapist_views.local_instant,
                                   (first + timedelta(days=length)).isoformat(), "00:00", self.zone)
        window, self.error = await call_service(therapist_views.calendar_window, therapist, from_, to)
        self.loading = False
        if window is None:
            self.items, self.days, self.blocks = [], [], []
            return
        self._lay_out(window, tz, first, length, anchor, today, now)

    def _lay_out(self, window: dict, tz: ZoneInfo, first: date, length: int, anchor: date,
                 today: date, now: datetime) -> None:
        found = window["occurrences"]
        first_hour, last_hour = _hour_range(window["weekly"], found, tz) if length == 7 else (0, 24)
        items = [_item(o, tz, first, first_hour, now) for o in found]
        days = []
        for offset in range(length):
            day = first + timedelta(days=offset)
            away = _day_away(window["time_off"], tz, day)
            mine = [i for i in items if i.day == offset]
            days.append(Day(label=f"{day:%a %d %b}", left=_left(offset % 7), iso=day.isoformat(),
                            number=str(day.day),
                            today=day == today, in_month=day.month == anchor.month,
                            away=", ".join(dict.fromkeys(_away_label(e) for e, _, _ in away)),
                            items=mine[:MONTH_ITEMS],
                            more=f"+{len(mine) - MONTH_ITEMS} more" if len(mine) > MONTH_ITEMS else ""))
        self.items, self.days = items, days
        self.hours = [f"{h:02d}:00" for h in range(first_hour, last_hour)]
        self.grid_height = f"{(last_hour - first_hour) * HOUR_PX}px"
        self.blocks = self._blocks(window["time_off"], tz, first, first_hour, last_hour) if length == 7 else []
        if length == 7:
            last = first + timedelta(days=6)
            self.range_label = f"{first:%d %b} – {last:%d %b %Y}"
        else:
            self.range_label = f"{anchor:%B %Y}"

    @staticmethod
    def _blocks(entries: list[dict], tz: ZoneInfo, first: date, first_hour: int, last_hour: int) -> list[Block]:
        blocks = []
        for offset in range(7):
            for entry, start, end in _day_away(entries, tz, first + timedelta(days=offset)):
                top = max((start.hour - first_hour) * 60 + start.minute, 0)
                end_minutes = (end.hour * 60 + end.minute) if end.date() == start.date() else 24 * 60
                bottom = min(end_minutes - first_hour * 60, (last_hour - first_hour) * 60)
                if bottom > top:
                    blocks.append(Block(_left(offset), f"{top * HOUR_PX // 60}px",
                                        f"{(bottom - top) * HOUR_PX // 60}px", _away_label(entry)))
        return blocks

    def _shift(self, step: int) -> date:
        today = clock.now().astimezone(ZoneInfo(self.zone or "UTC")).date()
        anchor = date.fromisoformat(self.anchor) if self.anchor else today
        if self.view == "week":
            return anchor + timedelta(weeks=step)
        month = anchor.month - 1 + step
        return date(anchor.year + month // 12, month % 12 + 1, 1)

    @rx.event
    def previous(self):
        self.anchor = self._shift(-1).isoformat()
        return CalendarState.refresh

    @rx.event
    def next(self):
        self.anchor = self._shift(1).isoformat()
        return CalendarState.refresh

    @rx.event
    def today(self):
        self.anchor = ""
        return CalendarState.refresh

    @rx.event
    def show(self, view: str):
        self.view = "month" if view == "month" else "week"
        return CalendarState.refresh

    @rx.event
    def open_detail(self, occurrence_id: str):
        found = next((i for i in self.items if i.id == occurrence_id), None)
        self.selected = _timely(found, clock.now()) if found else Item()
        self.action_error, self.notice, self.join_link = "", "", ""
        self.detail_open = bool(self.selected.id)

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = value

    async def _act(self, fn, *args, done: str, **kwargs):
        """Run one action on the selected occurrence, then re-read the window."""
        self.busy, self.action_error, self.notice = True, "", ""
        yield
        therapist = await acting_therapist(self)
        result, self.action_error = (await call_service(fn, therapist, *args, **kwargs)
                                     if therapist else (None, "Please sign in again."))
        self.busy = False
        if result is None:
            return
        self.notice = done
        selected = self.selected.id
        async for update in self._reload():
            yield update
        self.selected = next((i for i in self.items if i.id == selected), self.selected)

    @rx.event(background=True)
    async def join(self):
        """Open the selected occurrence and wait, showing progress, for its meeting's link
        (in the background: the page stays usable meanwhile)."""
        async with self:
            if self.joining:
                return
            self.joining, self.join_link, self.action_error, self.notice = True, "", "", ""
            occurrence_id = self.selected.id
            therapist = await acting_therapist(self)
        link, error = await meeting_link(therapist, occurrence_id) if therapist else ("", "Please sign in again.")
        async with self:
            self.joining = False
            if self.selected.id != occurrence_id:
                return  # another occurrence was opened meanwhile
            self.join_link, self.action_error = link, error
            if link:
                self.selected = dataclasses.replace(self.selected, materialized=True, join_url=link)
        if link:
            yield rx.redirect(link, is_external=True)
            yield CalendarState.refresh  # the grid shows it as a session now

    @rx.event
    async def mark(self, status: str):
        async for update in self._act(occurrences.attendance, self.selected.id, status,
                                      done=f"Marked {STATUS_LABELS.get(status, status)}."):
            yield update

    @rx.event
    async def cancel(self):
        async for update in self._act(occurrences.cancel, self.selected.id, done="Occurrence cancelled."):
            yield update

    @rx.event
    async def move(self, form: dict):
        start, self.action_error = await call_service(therapist_views.local_instant, form.get("date", ""),
                                                      form.get("time", ""), self.zone)
        if start is not None:
            async for update in self._act(occurrences.move, self.selected.id, start, done="Occurrence moved."):
                yield update

    @rx.event
    async def split(self, form: dict):
        start, self.action_error = await call_service(therapist_views.local_instant, form.get("date", ""),
                                                      form.get("time", ""), self.zone)
        if start is None:
            return
        try:
            duration = int(form.get("duration") or self.selected.duration)
        except ValueError:
            self.action_error = "duration_minutes: must be a whole number of minutes"
            return
        original = datetime.fromisoformat(self.selected.original_start)
        async for update in self._act(series_changes.split, self.selected.series_id, original, start=start,
                                      duration_minutes=duration,
                                      done="This and the following occurrences now follow the new time."):
            yield update
