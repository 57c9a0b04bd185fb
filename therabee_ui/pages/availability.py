"""The therapist's availability: weekly hours and their zone, practice rules, time off."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from therabee.services import availability, clock, practice, therapist_views
from therabee_ui.auth import AuthState
from therabee_ui.components.layout import page
from therabee_ui.components.therapist_common import (acting_therapist, away_redirect, call_service, error_callout,
                                                     labelled, loading_row, notice_callout)
from therabee_ui.pages.signin import ZONES

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TIME_OFF_DAYS = 366


@dataclasses.dataclass
class HoursBlock:
    weekday: int = 0
    day: str = ""
    start: str = ""
    end: str = ""
    key: str = ""


@dataclasses.dataclass
class Away:
    id: str = ""
    label: str = ""
    reason: str = ""
    holiday: bool = False


class AvailabilityState(rx.State):
    loading: bool = True
    error: str = ""
    notice: str = ""
    zone: str = "UTC"
    zones: list[str] = ZONES
    blocks: list[HoursBlock] = []
    rules: dict[str, str] = {}
    time_off: list[Away] = []

    @rx.event
    async def load(self):
        auth = await self.get_state(AuthState)
        if auth.role != "therapist":
            return away_redirect(auth.role)
        return AvailabilityState.reload

    @rx.event
    async def reload(self):
        self.loading, self.error = True, ""
        yield
        therapist = await acting_therapist(self)
        if therapist is None:
            yield away_redirect("")
            return
        hours, self.error = await call_service(availability.get_availability, therapist.id)
        if hours is not None:
            self.zone = hours["timezone"]
            self.zones = ZONES if self.zone in ZONES else [self.zone, *ZONES]
            self._set_blocks(hours["weekly"])
        rules, error = await call_service(practice.get_rules, therapist.id)
        if rules is not None:
            self.rules = {k: "" if v is None else str(v) for k, v in rules.items()}
        await self._load_time_off(therapist)
        self.error = self.error or error
        self.loading = False

    def _set_blocks(self, weekly: list[dict]) -> None:
        ordered = sorted(weekly, key=lambda b: (b["weekday"], b["start"]))
        self.blocks = [HoursBlock(b["weekday"], WEEKDAYS[b["weekday"]], b["start"], b["end"],
                                  f"{b['weekday']}-{b['start']}-{b['end']}") for b in ordered]

    async def _load_time_off(self, therapist) -> None:
        now = clock.now()
        tz = ZoneInfo(self.zone)
        found, error = await call_service(practice.list_time_off, therapist, therapist.id, now - timedelta(days=1),
                                          now + timedelta(days=TIME_OFF_DAYS))
        self.error = self.error or error
        self.time_off = [Away(id=e["id"] or "", holiday=e["id"] is None, reason=e.get("reason") or "",
                              label=f"{e['start'].astimezone(tz):%a %d %b %Y %H:%M} – "
                                    f"{e['end'].astimezone(tz):%a %d %b %Y %H:%M}")
                         for e in found or []]

    @rx.event
    def add_block(self, form: dict):
        self.notice, self.error = "", ""
        weekday = WEEKDAYS.index(form.get("weekday", "Monday")) if form.get("weekday") in WEEKDAYS else 0
        start, end = form.get("start", ""), form.get("end", "")
        end = "24:00" if end == "00:00" else end  # a time field stops at 23:59: "To 00:00" is midnight
        self._set_blocks([dataclasses.asdict(b) for b in self.blocks] + [{"weekday": weekday, "start": start,
                                                                            "end": end}])

    @rx.event
    def remove_block(self, key: str):
        self._set_blocks([dataclasses.asdict(b) for b in self.blocks if b.key != key])

    @rx.event
    def set_zone(self, value: str):
        self.zone = value

    @rx.event
    async def save_hours(self):
        therapist = await acting_therapist(self)
        weekly = [{"weekday": b.weekday, "start": b.start, "end": b.end} for b in self.blocks]
        saved, self.error = await call_service(availability.set_availability, therapist, self.zone, weekly)
        self.notice = "Weekly hours saved." if saved else ""

    @rx.event
    async def save_rules(self, form: dict):
        therapist = await acting_therapist(self)
        try:
            numbers = {name: int(form.get(name) or 0) for name in ("buffer_before_minutes", "buffer_after_minutes",
                                                                  "min_notice_hours", "booking_window_weeks")}
        except ValueError:
            self.error, self.notice = "Buffers, notice and booking window must be whole numbers.", ""
            return
        country = (form.get("holidays_country") or "").strip() or None
        saved, self.error = await call_service(practice.set_rules, therapist, holidays_country=country, **numbers)
        if saved:
            self.rules = {k: "" if v is None else str(v) for k, v in saved.items()}
        self.notice = "Practice rules saved." if saved else ""

    @rx.event
    async def add_time_off(self, form: dict):
        therapist = await acting_therapist(self)
        start, self.error = await call_service(therapist_views.local_instant, form.get("start_date", ""),
                                               form.get("start_time") or "00:00", self.zone, "start")
        end, error = await call_service(therapist_views.local_instant, form.get("end_date", ""),
                                        form.get("end_time") or "00:00", self.zone, "end")
        self.error = self.error or error
        if start is None or end is None:
            self.notice = ""
            return
        added, self.error = await call_service(practice.add_time_off, therapist, start, end,
                                               (form.get("reason") or "").strip() or None)
        self.notice = "Time off added." if added else ""
        await self._load_time_off(therapist)

    @rx.event
    async def remove_time_off(self, time_off_id: str):
        therapist = await acting_therapist(self)
        _, self.error = await call_service(practice.remove_time_off, therapist, time_off_id)
        self.notice = "" if self.error else "Time off removed."
        await self._load_time_off(therapist)


def _hours_row(block: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(block.day), rx.table.cell(block.start + "–" + block.end),
        rx.table.cell(rx.icon_button(rx.icon("trash-2", size=14), on_click=AvailabilityState.remove_block(block.key),
                                     variant="ghost", color_scheme="red",
                                     aria_label="Remove " + block.day + " " + block.start + "–" + block.end)),
    )


def _hours() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Weekly hours", size="4", as_="h2"),
        labelled("Time zone", rx.select(AvailabilityState.zones, value=AvailabilityState.zone, id="zone",
                                        on_change=AvailabilityState.set_zone, aria_label="Time zone"), "zone"),
        rx.cond(AvailabilityState.blocks.length() > 0,
                rx.table.root(rx.table.body(rx.foreach(AvailabilityState.blocks, _hours_row)), size="1",
                              aria_label="Weekly hours"),
                rx.text("No hours yet: clients cannot book until you add some.", color_scheme="gray", role="status")),
        rx.form(rx.flex(
            labelled("Weekday", rx.select(WEEKDAYS, default_value="Monday", name="weekday", id="weekday",
                                          aria_label="Weekday"), "weekday"),
            labelled("From", rx.input(type="time", name="start", id="block-start", default_value="09:00",
                                      aria_label="Block start", required=True), "block-start"),
            labelled("To", rx.input(type="time", name="end", id="block-end", default_value="17:00",
                                    aria_label="Block end", required=True), "block-end"),
            rx.button("Add block", type="submit", variant="soft", aria_label="Add block"),
            gap="2", align="end", wrap="wrap"), on_submit=AvailabilityState.add_block, reset_on_submit=False,
            aria_label="Add hours"),
        rx.button("Save hours", on_click=AvailabilityState.save_hours, aria_label="Save hours"),
        spacing="3", align="start", width="100%"))


def _number(label: str, name: str, low: int, high: int) -> rx.Component:
    return labelled(label, rx.input(type="number", name=name, id=name, min=low, max=high, width="8rem",
                                    default_value=AvailabilityState.rules[name], aria_label=label), name)


def _rules() -> rx.Component:
    return rx.card(rx.form(rx.vstack(
        rx.heading("Practice rules", size="4", as_="h2"),
        rx.grid(_number("Buffer before (minutes)", "buffer_before_minutes", 0, 240),
                _number("Buffer after (minutes)", "buffer_after_minutes", 0, 240),
                _number("Minimum notice (hours)", "min_notice_hours", 0, 1440),
                _number("Booking window (weeks)", "booking_window_weeks", 1, 104),
                labelled("Holidays country (e.g. DE, US)",
                         rx.input(name="holidays_country", id="holidays_country", max_length=2, width="8rem",
                                  default_value=AvailabilityState.rules["holidays_country"],
                                  aria_label="Holidays country"), "holidays_country"),
                columns=rx.breakpoints(initial="1", sm="2"), gap="3", width="100%"),
        rx.button("Save rules", type="submit", aria_label="Save rules"),
        spacing="3", align="start"), on_submit=AvailabilityState.save_rules, reset_on_submit=False,
        aria_label="Practice rules", key=AvailabilityState.rules.to_string()))


def _away_row(entry: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(entry.label), rx.table.cell(rx.cond(entry.holiday, "Public holiday", entry.reason)),
        rx.table.cell(rx.cond(entry.holiday, rx.fragment(), rx.icon_button(
            rx.icon("trash-2", size=14), on_click=AvailabilityState.remove_time_off(entry.id), variant="ghost",
            color_scheme="red", aria_label="Remove time off " + entry.label))),
    )


def _time_off() -> rx.Component:
    field = lambda label, name, kind: labelled(label, rx.input(type=kind, name=name, id=name, aria_label=label,  # noqa: E731
                                                               required=kind == "date"), name)
    return rx.card(rx.vstack(
        rx.heading("Time off", size="4", as_="h2"),
        rx.text("Sessions inside time off do not take place; they come back if you remove it.",
                color_scheme="gray", size="2"),
        rx.form(rx.flex(field("Start date", "start_date", "date"), field("Start time", "start_time", "time"),
                        field("End date", "end_date", "date"), field("End time", "end_time", "time"),
                        labelled("Reason", rx.input(name="reason", id="reason", aria_label="Reason", max_length=200),
                                 "reason"),
                        rx.button("Add time off", type="submit", aria_label="Add time off"),
                        gap="2", align="end", wrap="wrap"),
                on_submit=AvailabilityState.add_time_off, aria_label="Add time off"),
        rx.cond(AvailabilityState.time_off.length() > 0,
                rx.table.root(rx.table.body(rx.foreach(AvailabilityState.time_off, _away_row)), size="1",
                              aria_label="Time off and holidays", width="100%"),
                rx.text("No time off in the coming year.", color_scheme="gray", role="status")),
        spacing="3", align="start", width="100%"))


def availability_page() -> rx.Component:
    return page(rx.vstack(
        rx.heading("Availability", size="7", as_="h1"),
        rx.text("Times are in your practice's zone: ", AvailabilityState.zone, color_scheme="gray"),
        notice_callout(AvailabilityState.notice),
        error_callout(AvailabilityState.error),
        rx.cond(AvailabilityState.loading, loading_row("Loading your availability…")),
        rx.grid(_hours(), _rules(), columns=rx.breakpoints(initial="1", md="2"), gap="4", width="100%"),
        _time_off(),
        spacing="4", align="stretch", width="100%"), size="4")
