"""The therapist's clients and each of their series: the rule in words, status, next
occurrence; pause a range of days, or end a series from its next occurrence."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import reflex as rx

from therabee.services import series_changes, therapist_views
from therabee_ui.auth import AuthState
from therabee_ui.components.layout import page
from therabee_ui.components.therapist_common import (acting_therapist, away_redirect, call_service, error_callout,
                                                     labelled, loading_row, notice_callout)


@dataclasses.dataclass
class SeriesRow:
    id: str = ""
    rule_in_words: str = ""
    status: str = ""
    ends_label: str = ""
    next_label: str = ""
    next_start: str = ""
    pauses: str = ""
    active: bool = True


@dataclasses.dataclass
class ClientRow:
    id: str = ""
    name: str = ""
    email: str = ""
    timezone: str = ""
    series: list[SeriesRow] = dataclasses.field(default_factory=list)


def _series_row(s: dict, tz: ZoneInfo) -> SeriesRow:
    upcoming: datetime | None = s["next_occurrence"]
    ends: datetime | None = s["ends_before"] if s["status"] == "active" else None
    return SeriesRow(
        id=s["id"], rule_in_words=s["rule_in_words"], status=s["status"], active=s["status"] == "active",
        ends_label=f"{ends.astimezone(tz):%a %d %b %Y, %H:%M}" if ends else "",
        next_label=f"{upcoming.astimezone(tz):%a %d %b %Y, %H:%M}" if upcoming else "none",
        next_start=upcoming.isoformat() if upcoming else "",
        pauses=", ".join(f"{p['from']:%d %b}–{p['until']:%d %b %Y}" for p in s["pauses"]))


class ClientsState(rx.State):
    loading: bool = True
    error: str = ""
    notice: str = ""
    clients: list[ClientRow] = []

    @rx.event
    async def load(self):
        auth = await self.get_state(AuthState)
        if auth.role != "therapist":
            return away_redirect(auth.role)
        return ClientsState.reload

    @rx.event
    async def reload(self):
        self.loading = True
        yield
        await self._read()
        self.loading = False

    async def _read(self) -> None:
        therapist = await acting_therapist(self)
        if therapist is None:
            self.error = "Please sign in as a therapist."
            return
        zone_name, _ = await call_service(therapist_views.practice_zone, therapist)
        tz = ZoneInfo(zone_name or therapist.timezone)
        found, error = await call_service(therapist_views.clients_with_series, therapist)
        self.error = self.error or error
        self.clients = [ClientRow(c["id"], c["name"], c["email"], c["timezone"],
                                  [_series_row(s, tz) for s in c["series"]]) for c in found or []]

    @rx.event
    async def pause(self, form: dict):
        self.error, self.notice = "", ""
        series_id = form.get("series_id", "")
        therapist = await acting_therapist(self)
        first, self.error = await call_service(therapist_views.parse_day, form.get("from", ""), "from")
        last, error = await call_service(therapist_views.parse_day, form.get("until", ""), "until")
        self.error = self.error or error
        if first is None or last is None:
            return
        done, self.error = await call_service(series_changes.pause, therapist, series_id, first, last)
        self.notice = "Series paused." if done else ""
        await self._read()

    @rx.event
    async def end(self, series_id: str, next_start: str):
        self.error, self.notice = "", ""
        therapist = await acting_therapist(self)
        if not next_start:
            self.error = "This series has no next occurrence to end from."
            return
        done, self.error = await call_service(series_changes.end, therapist, series_id,
                                              datetime.fromisoformat(next_start))
        self.notice = "Series ended from its next occurrence." if done else ""
        await self._read()


def _series_card(s: rx.Var, client: rx.Var) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.vstack(
                rx.text(s.rule_in_words, weight="medium"),
                rx.hstack(rx.badge(s.status, color_scheme=rx.cond(s.active, "green", "gray"), variant="soft"),
                          rx.text("Next: " + s.next_label, size="2", color_scheme="gray"),
                          rx.cond(s.ends_label != "", rx.text("Ends before " + s.ends_label, size="2",
                                                              color_scheme="gray")), wrap="wrap"),
                rx.cond(s.pauses != "", rx.text("Paused " + s.pauses, size="2", color_scheme="orange")),
                spacing="1", align="start",
            ),
            rx.cond(s.active, rx.flex(
                rx.form(rx.flex(
                    rx.el.input(type="hidden", name="series_id", value=s.id),
                    labelled("Pause from", rx.input(type="date", name="from", aria_label="Pause from " + client.name,
                                                    required=True)),
                    labelled("until", rx.input(type="date", name="until", aria_label="Pause until " + client.name,
                                               required=True)),
                    rx.button("Pause", type="submit", variant="soft", aria_label="Pause series of " + client.name),
                    gap="2", align="end", wrap="wrap"),
                    on_submit=ClientsState.pause, aria_label="Pause series"),
                rx.button("End from next", on_click=ClientsState.end(s.id, s.next_start), color_scheme="red",
                          variant="outline", aria_label="End series of " + client.name + " from next occurrence",
                          disabled=s.next_start == ""),
                gap="3", align="end", wrap="wrap")),
            justify="between", gap="3", wrap="wrap", width="100%",
        ),
        padding="0.75rem 0", border_top=f"1px solid {rx.color('gray', 4)}", width="100%", data_testid="series",
    )


def _client_card(client: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(client.name, size="4", as_="h2"),
                      rx.badge(client.timezone, variant="soft", color_scheme="gray"), align="center", wrap="wrap"),
            rx.text(client.email, size="2", color_scheme="gray"),
            rx.foreach(client.series, lambda s: _series_card(s, client)),
            spacing="2", align="start", width="100%",
        ),
        aria_label="Client " + client.name, width="100%",
    )


def clients_page() -> rx.Component:
    return page(rx.vstack(
        rx.heading("Clients & series", size="7", as_="h1"),
        notice_callout(ClientsState.notice),
        error_callout(ClientsState.error),
        rx.cond(ClientsState.loading, loading_row("Loading your clients…"),
                rx.cond(ClientsState.clients.length() > 0, rx.foreach(ClientsState.clients, _client_card),
                        rx.text("No clients yet. Clients appear here once they book with you.",
                                color_scheme="gray", role="status"))),
        spacing="4", align="stretch", width="100%"), size="4")
