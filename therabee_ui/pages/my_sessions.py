"""My sessions: the client's upcoming occurrences in their own zone, joining, cancelling,
moving one, changing this and following, pausing and stopping a series, the calendar feed.
Every change is one service call (occurrences, series_changes); the view model is
client_views.my_sessions."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import reflex as rx

from therabee.services import client_views, clock, occurrences, people, series_changes, therapist_views
from therabee_ui.auth import AuthState
from therabee_ui.components.client_common import acting_client, away_from_client_pages
from therabee_ui.components.client_sessions import sessions_view
from therabee_ui.components.layout import page
from therabee_ui.components.therapist_common import STATUS_COLORS, call_service
from therabee_ui.joining import join_open, meeting_link

PLEASE_SIGN_IN = "Please sign in as a client."


@dataclasses.dataclass
class Occ:
    id: str = ""
    series_id: str = ""
    original_start: str = ""
    when: str = ""
    date: str = ""
    time: str = ""
    status: str = ""
    status_label: str = ""
    color: str = "blue"
    therapist: str = ""
    rule: str = ""
    repeats: bool = False
    late: bool = False
    start: str = ""  # ISO instants
    end: str = ""
    join_from: str = ""  # "" when it is never joined
    can_join: bool = False
    can_change: bool = False


@dataclasses.dataclass
class SeriesRow:
    id: str = ""
    therapist: str = ""
    rule: str = ""
    pauses: list[str] = dataclasses.field(default_factory=list)


def _joinable(item: Occ, now: datetime) -> bool:
    return join_open(item.status, item.start, item.end, now)


class SessionsState(rx.State):
    loading: bool = True
    error: str = ""
    notice: str = ""
    action_error: str = ""
    busy: bool = False
    joining_id: str = ""  # the occurrence whose meeting is being waited for
    join_link_id: str = ""  # the occurrence whose meeting link is ready
    join_link: str = ""
    items: list[Occ] = []
    series: list[SeriesRow] = []
    feed_url: str = ""
    late_hours: int = 24
    selected: Occ = Occ()
    manage_open: bool = False
    move_date: str = ""
    move_time: str = ""
    follow_date: str = ""
    follow_time: str = ""
    pause_from: str = ""
    pause_until: str = ""

    @rx.event
    async def load(self):
        auth = await self.get_state(AuthState)
        if auth.role and auth.role != "client":
            return away_from_client_pages(auth.role)
        self.notice = ""
        return SessionsState.reload

    @rx.event
    async def reload(self):
        self.loading = True
        yield
        await self._read()
        self.loading = False

    async def _read(self) -> None:
        client = await acting_client(self)
        if client is None:
            self.error = PLEASE_SIGN_IN
            return
        view, self.error = await call_service(client_views.my_sessions, client)
        if view is None:
            return
        now = clock.now()
        self.items = [Occ(**{k: o[k] for k in ("id", "series_id", "original_start", "when", "date", "time",
                                               "status", "status_label", "therapist", "rule", "repeats",
                                               "late", "start", "end", "join_from", "can_change")},
                          color=STATUS_COLORS.get(o["status"], "gray")) for o in view["occurrences"]]
        for item in self.items:
            item.can_join = _joinable(item, now)
        self.series = [SeriesRow(s["id"], s["therapist"], s["rule"], [p["label"] for p in s["pauses"]])
                       for s in view["series"]]
        self.late_hours = view["late_hours"]
        me, _ = await call_service(people.me, client)
        self.feed_url = me["feed_url"] if me else ""

    @rx.event
    def tick(self, _value=None):
        """Every half minute: Join opens an hour before the start and closes at the end."""
        now = clock.now()
        if any(_joinable(i, now) != i.can_join for i in self.items):
            self.items = [dataclasses.replace(i, can_join=_joinable(i, now)) for i in self.items]

    @rx.event(background=True)
    async def join(self, occurrence_id: str):
        """Open the occurrence and wait, showing progress, for its meeting's link (in the
        background: the page stays usable meanwhile)."""
        async with self:
            if self.joining_id:
                return
            self.joining_id, self.join_link_id, self.join_link, self.error = occurrence_id, "", "", ""
            client = await acting_client(self)
        link, error = await meeting_link(client, occurrence_id) if client else ("", PLEASE_SIGN_IN)
        async with self:
            self.joining_id, self.error = "", error
            self.join_link_id, self.join_link = (occurrence_id, link) if link else ("", "")
        if link:
            yield rx.redirect(link, is_external=True)

    @rx.event
    def manage(self, occurrence_id: str):
        self.selected = next((i for i in self.items if i.id == occurrence_id), Occ())
        self.move_date = self.follow_date = self.selected.date
        self.move_time = self.follow_time = self.selected.time
        self.pause_from = self.pause_until = ""
        self.action_error, self.notice, self.manage_open = "", "", True

    @rx.event
    def set_manage_open(self, value: bool):
        self.manage_open = value

    @rx.event
    def set_field(self, name: str, value: str):
        if name in ("move_date", "move_time", "follow_date", "follow_time", "pause_from", "pause_until"):
            setattr(self, name, value)

    async def _act(self, done: str, fn, *args):
        """One service call for the selected occurrence; on success close, tell and reload."""
        self.busy, self.action_error = True, ""
        yield
        client = await acting_client(self)
        if client is None:
            self.action_error, self.busy = PLEASE_SIGN_IN, False
            return
        _, self.action_error = await call_service(fn, client, *args)
        self.busy = False
        if not self.action_error:
            self.manage_open, self.notice = False, done
            yield SessionsState.reload

    @rx.event
    async def cancel(self):
        async for update in self._act("The session was cancelled.", occurrences.cancel, self.selected.id):
            yield update

    @rx.event
    async def reschedule(self):
        async for update in self._act("The session was moved.", _move, self.selected.id,
                                      self.move_date, self.move_time):
            yield update

    @rx.event
    async def change_following(self):
        async for update in self._act("This and the following sessions were changed.", _split,
                                      self.selected.series_id, self.selected.original_start,
                                      self.follow_date, self.follow_time):
            yield update

    @rx.event
    async def pause(self):
        async for update in self._act("The series is paused for those dates.", _pause,
                                      self.selected.series_id, self.pause_from, self.pause_until):
            yield update

    @rx.event
    async def stop(self):
        async for update in self._act("The series was stopped from this session on.", _stop,
                                      self.selected.series_id, self.selected.original_start):
            yield update


def _move(client, occurrence_id: str, day: str, clock_time: str) -> dict:
    start = therapist_views.local_instant(day, clock_time, client.timezone, "start")
    return occurrences.move(client, occurrence_id, start)


def _split(client, series_id: str, original_start: str, day: str, clock_time: str) -> dict:
    start = therapist_views.local_instant(day, clock_time, client.timezone, "start")
    return series_changes.split(client, series_id, datetime.fromisoformat(original_start), start=start)


def _pause(client, series_id: str, from_day: str, until_day: str) -> dict:
    return series_changes.pause(client, series_id, therapist_views.parse_day(from_day, "from"),
                                therapist_views.parse_day(until_day, "until"))


def _stop(client, series_id: str, original_start: str) -> dict:
    return series_changes.end(client, series_id, datetime.fromisoformat(original_start))


def my_sessions_page() -> rx.Component:
    return page(sessions_view(SessionsState), size="3")
