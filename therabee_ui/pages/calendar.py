"""The therapist's calendar: a week or month grid of their occurrences, time off and holidays,
and the detail of one occurrence. State: calendar_state.CalendarState."""

from __future__ import annotations

import reflex as rx

from therabee_ui.components.layout import page
from therabee_ui.components.therapist_common import error_callout, loading_row
from therabee_ui.components.therapist_grid import legend, month_grid, week_grid
from therabee_ui.components.therapist_occurrence import occurrence_dialog
from therabee_ui.pages.calendar_state import CalendarState

__all__ = ["CalendarState", "calendar_page"]


def _toolbar() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.button(rx.icon("chevron-left", size=16), "Previous", on_click=CalendarState.previous,
                      variant="soft", aria_label="Previous"),
            rx.button("Today", on_click=CalendarState.today, variant="soft", aria_label="Today"),
            rx.button("Next", rx.icon("chevron-right", size=16), on_click=CalendarState.next,
                      variant="soft", aria_label="Next"),
            spacing="2",
        ),
        rx.heading(CalendarState.range_label, size="4", as_="h2", aria_live="polite", data_testid="range-label"),
        rx.hstack(
            rx.button("Week", on_click=CalendarState.show("week"), aria_label="Week view",
                      aria_pressed=CalendarState.view == "week",
                      variant=rx.cond(CalendarState.view == "week", "solid", "outline")),
            rx.button("Month", on_click=CalendarState.show("month"), aria_label="Month view",
                      aria_pressed=CalendarState.view == "month",
                      variant=rx.cond(CalendarState.view == "month", "solid", "outline")),
            spacing="1",
        ),
        justify="between", align="center", wrap="wrap", gap="3", width="100%",
    )


def _body() -> rx.Component:
    return rx.cond(
        CalendarState.error != "",
        error_callout(CalendarState.error),
        rx.vstack(
            rx.cond(CalendarState.loading, loading_row("Loading your calendar…")),
            rx.cond(CalendarState.empty,
                    rx.text("Nothing booked in this period.", color_scheme="gray", role="status",
                            data_testid="calendar-empty")),
            rx.cond(CalendarState.view == "week", week_grid(), month_grid()),
            width="100%", spacing="2",
        ),
    )


def calendar_page() -> rx.Component:
    return page(
        rx.vstack(
            rx.hstack(
                rx.heading("Calendar", size="7", as_="h1"),
                rx.cond(CalendarState.zone != "", rx.badge("Times in " + CalendarState.zone, variant="soft",
                                                            color_scheme="gray")),
                align="center", spacing="3", wrap="wrap",
            ),
            _toolbar(),
            legend(),
            _body(),
            occurrence_dialog(),
            spacing="4", align="stretch", width="100%",
        ),
        size="4",
    )
