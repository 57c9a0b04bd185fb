"""The detail of one occurrence, for its therapist: who, when, the rule in words, join,
attendance, cancel, move, and "this and following"."""

from __future__ import annotations

import reflex as rx

from therabee_ui.components.therapist_common import error_callout, labelled, notice_callout
from therabee_ui.joining import progress_and_link
from therabee_ui.pages.calendar_state import CalendarState

S = CalendarState.selected


def _facts() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(S.status_label, color_scheme=S.color, variant="solid", size="2", aria_label="Status: " + S.status_label,
                     data_testid="detail-status"),
            rx.badge(rx.cond(S.materialized, "session created", "planned (not yet a session)"), variant="outline",
                     color_scheme="gray"),
            wrap="wrap", spacing="2",
        ),
        rx.text(S.date_label + ", " + S.time_label + " (" + CalendarState.zone + ")", weight="medium"),
        rx.text(rx.cond(S.rule_in_words != "", S.rule_in_words, "One session"), color_scheme="gray",
                size="2", data_testid="rule-in-words"),
        spacing="2", align="start",
    )


def _attendance() -> rx.Component:
    return rx.cond(S.can_attend, rx.hstack(
        rx.button("Mark completed", on_click=CalendarState.mark("completed"), color_scheme="green",
                  aria_label="Mark completed", loading=CalendarState.busy),
        rx.button("Mark no show", on_click=CalendarState.mark("no_show"), color_scheme="red", variant="soft",
                  aria_label="Mark no show", loading=CalendarState.busy),
        spacing="2", wrap="wrap"))


def _join() -> rx.Component:
    """Join while it is open (an hour before the start to the end), else when it opens."""
    return rx.cond(
        S.can_join,
        rx.button(rx.icon("video", size=16), "Join video session", on_click=CalendarState.join,
                  aria_label="Join video session", loading=CalendarState.joining,
                  disabled=CalendarState.joining),
        rx.cond(S.join_note != "", rx.text(S.join_note, size="2", color_scheme="gray", data_testid="join-note")),
    )


def _time_inputs(prefix: str) -> list[rx.Component]:
    return [
        labelled("Date", rx.input(type="date", name="date", id=f"{prefix}-date", default_value=S.local_date,
                                  aria_label=f"{prefix.title()} date", required=True), f"{prefix}-date"),
        labelled("Time", rx.input(type="time", name="time", id=f"{prefix}-time", default_value=S.local_time,
                                  aria_label=f"{prefix.title()} time", required=True), f"{prefix}-time"),
    ]


def _changes() -> rx.Component:
    return rx.cond(S.can_change, rx.vstack(
        rx.divider(),
        rx.heading("Move this occurrence", size="3", as_="h3"),
        rx.form(rx.hstack(*_time_inputs("move"),
                          rx.button("Move", type="submit", aria_label="Move occurrence", loading=CalendarState.busy),
                          align="end", wrap="wrap", spacing="2"),
                on_submit=CalendarState.move, aria_label="Move occurrence", reset_on_submit=False),
        rx.heading("Change this and following", size="3", as_="h3"),
        rx.form(rx.hstack(*_time_inputs("following"),
                          labelled("Minutes", rx.input(type="number", name="duration", id="following-duration",
                                                       default_value=S.duration.to_string(), min=5, max=480,
                                                       aria_label="Following duration minutes", width="6rem"),
                                   "following-duration"),
                          rx.button("Apply to following", type="submit", aria_label="Change this and following",
                                    loading=CalendarState.busy, variant="soft"),
                          align="end", wrap="wrap", spacing="2"),
                on_submit=CalendarState.split, aria_label="Change this and following", reset_on_submit=False),
        rx.divider(),
        rx.button("Cancel this occurrence", on_click=CalendarState.cancel, color_scheme="red", variant="outline",
                  aria_label="Cancel this occurrence", loading=CalendarState.busy),
        spacing="2", align="start", width="100%",
    ))


def occurrence_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.hstack(
                    rx.dialog.title(S.client_name, margin="0"),
                    rx.spacer(),
                    rx.dialog.close(rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close details")),
                    width="100%", align="center",
                ),
                rx.dialog.description("Occurrence details", size="1", color_scheme="gray"),
                _facts(),
                notice_callout(CalendarState.notice),
                error_callout(CalendarState.action_error),
                rx.hstack(_join(), _attendance(), wrap="wrap", spacing="2"),
                progress_and_link(CalendarState.joining, CalendarState.join_link),
                _changes(),
                spacing="3", align="start", width="100%",
            ),
            max_width="560px", aria_label="Occurrence details",
        ),
        open=CalendarState.detail_open,
        on_open_change=CalendarState.set_detail_open,
    )
