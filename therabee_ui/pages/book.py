"""Book: pick a therapist, a free time in your own zone, how it repeats and ends; read it in
words; confirm. The rule is built and checked by the service layer (client_views, booking)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import reflex as rx

from therabee.scheduling.describe import DAYS, zone_label
from therabee.services import client_views, people
from therabee.services.errors import ServiceError
from therabee_ui.auth import AuthState
from therabee_ui.components.client_book import book_form
from therabee_ui.components.client_common import acting_client, away_from_client_pages
from therabee_ui.components.layout import page
from therabee_ui.components.therapist_common import UNEXPECTED, call_service, log


@dataclasses.dataclass
class Slot:
    start: str = ""
    time: str = ""
    label: str = ""


@dataclasses.dataclass
class Day:
    day: str = ""
    label: str = ""
    count: str = ""
    slots: list[Slot] = dataclasses.field(default_factory=list)


class BookState(rx.State):
    loading: bool = True
    therapists: list[dict[str, str]] = []
    therapist_id: str = ""
    therapist_name: str = ""
    slots_loading: bool = False
    days: list[Day] = []
    day: str = ""
    start: str = ""
    start_label: str = ""
    start_weekday: str = ""
    zone_text: str = ""
    repeat: str = "weekly"
    weekdays: list[str] = []
    ends: str = "never"
    until: str = ""
    count: str = "10"
    summary: str = ""
    error: str = ""
    conflicts: list[str] = []
    busy: bool = False
    booked: str = ""

    @rx.var
    def day_slots(self) -> list[Slot]:
        for day in self.days:
            if day.day == self.day:
                return day.slots
        return []

    @rx.event
    async def load(self):
        auth = await self.get_state(AuthState)
        if auth.role and auth.role != "client":
            yield away_from_client_pages(auth.role)
            return
        self.loading, self.error, self.booked = True, "", ""
        self.zone_text = zone_label(auth.user_timezone) if auth.user_timezone else ""
        yield
        found, self.error = await call_service(people.list_therapists)
        self.therapists = [{"id": t["id"], "name": t["name"]} for t in found or []]
        self.loading = False

    def _clear_choice(self) -> None:
        self.start = self.start_label = self.start_weekday = self.summary = self.error = self.booked = ""
        self.conflicts = []
        self.weekdays = []

    @rx.event
    async def pick_therapist(self, therapist_id: str):
        self.therapist_id = therapist_id
        self.therapist_name = next((t["name"] for t in self.therapists if t["id"] == therapist_id), "")
        self._clear_choice()
        self.days, self.day, self.slots_loading = [], "", True
        yield
        client = await acting_client(self)
        if client is None:
            self.error, self.slots_loading = "Please sign in as a client to book.", False
            return
        found, self.error = await call_service(client_views.free_days, therapist_id, client.timezone)
        self.days = [Day(d["day"], d["label"], f"{len(d['slots'])} free",
                         [Slot(s["start"], s["time"], f"{d['label']} at {s['time']}") for s in d["slots"]])
                     for d in found or []]
        self.day = self.days[0].day if self.days else ""
        self.slots_loading = False

    @rx.event
    def pick_day(self, day: str):
        self.day = day

    @rx.event
    async def pick_slot(self, start: str, label: str):
        self._clear_choice()
        self.start, self.start_label = start, label
        auth = await self.get_state(AuthState)
        local = datetime.fromisoformat(start).astimezone(ZoneInfo(auth.user_timezone))
        self.start_weekday = DAYS[local.weekday()]
        self.weekdays = [self.start_weekday]
        await self._preview()

    @rx.event
    async def set_repeat(self, value: str):
        self.repeat = value
        await self._preview()

    @rx.event
    async def toggle_weekday(self, day: str, checked: bool):
        chosen = set(self.weekdays) | {day} if checked else set(self.weekdays) - {day}
        self.weekdays = [d for d in DAYS if d in chosen | {self.start_weekday}]
        await self._preview()

    @rx.event
    async def set_ends(self, value: str):
        self.ends = value
        await self._preview()

    @rx.event
    async def set_until(self, value: str):
        self.until = value
        await self._preview()

    @rx.event
    async def set_count(self, value: str):
        self.count = value
        await self._preview()

    def _choice(self) -> client_views.Choice:
        return client_views.Choice(self.repeat, tuple(self.weekdays), self.ends, self.until, self.count)

    async def _preview(self) -> None:
        self.conflicts, self.booked = [], ""
        if not self.start:
            return
        auth = await self.get_state(AuthState)
        text, self.error = await call_service(client_views.preview, self.therapist_id,
                                              datetime.fromisoformat(self.start), self._choice(),
                                              auth.user_timezone)
        self.summary = text or ""

    @rx.event
    async def confirm(self):
        self.busy, self.error, self.conflicts = True, "", []
        yield
        client = await acting_client(self)
        if client is None:
            self.error, self.busy = "Please sign in as a client to book.", False
            return
        try:
            await asyncio.to_thread(client_views.book, client, self.therapist_id,
                                    datetime.fromisoformat(self.start), self._choice())
        except ServiceError as exc:
            if exc.status == 409 and exc.conflicts:
                self.conflicts = client_views.conflict_dates(exc.conflicts, client.timezone)
                self.error = "These dates collide with the therapist's other sessions. Please pick another time."
            else:
                self.error = exc.detail
        except Exception:
            log.exception("booking failed")
            self.error = UNEXPECTED
        else:
            self.booked = self.summary
            self.start = ""
        self.busy = False


def book_page() -> rx.Component:
    return page(
        rx.vstack(
            rx.heading("Book a session", as_="h1", size="7"),
            rx.text("Times are shown in your time zone", rx.cond(BookState.zone_text != "",
                                                                  ": " + BookState.zone_text, ""), ".",
                    color_scheme="gray"),
            book_form(BookState),
            spacing="4", align="stretch",
        ),
        size="3",
    )
