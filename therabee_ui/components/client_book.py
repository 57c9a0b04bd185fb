"""The booking form's parts: therapists, free days and times, the repeat and end pickers,
the summary and the outcome. Each takes the page's state class (pages/book.py)."""

from __future__ import annotations

import reflex as rx

from therabee_ui import routes
from therabee_ui.components.client_common import radio, section
from therabee_ui.components.therapist_common import error_callout, loading_row

WEEKDAYS = [("MO", "Mon"), ("TU", "Tue"), ("WE", "Wed"), ("TH", "Thu"), ("FR", "Fri"), ("SA", "Sat"), ("SU", "Sun")]


def _therapists(S) -> rx.Component:
    def one(t: rx.Var) -> rx.Component:
        chosen = S.therapist_id == t["id"]
        return rx.button(t["name"], on_click=S.pick_therapist(t["id"]), aria_label="Book with " + t["name"],
                         aria_pressed=rx.cond(chosen, "true", "false"),
                         variant=rx.cond(chosen, "solid", "outline"), size="2")

    return section(
        "1. Therapist",
        rx.cond(S.loading, loading_row("Loading therapists…"),
                rx.cond(S.therapists.length() > 0,
                        rx.flex(rx.foreach(S.therapists, one), wrap="wrap", gap="2"),
                        rx.text("No therapists yet.", color_scheme="gray", role="status"))),
    )


def _times(S) -> rx.Component:
    def day(d: rx.Var) -> rx.Component:
        chosen = S.day == d.day
        return rx.button(rx.vstack(rx.text(d.label, weight="medium"), rx.text(d.count, size="1"),
                                   spacing="0", align="center"),
                         on_click=S.pick_day(d.day), aria_label=d.label + ", " + d.count,
                         aria_pressed=rx.cond(chosen, "true", "false"),
                         variant=rx.cond(chosen, "solid", "soft"), height="auto", padding_y="0.4rem")

    def slot(s: rx.Var) -> rx.Component:
        chosen = S.start == s.start
        return rx.button(s.time, on_click=S.pick_slot(s.start, s.label), aria_label=s.label,
                         aria_pressed=rx.cond(chosen, "true", "false"),
                         variant=rx.cond(chosen, "solid", "outline"), size="2", min_width="4.5rem")

    return rx.cond(
        S.therapist_id != "",
        section(
            "2. A free time",
            rx.cond(
                S.slots_loading, loading_row("Looking for free times…"),
                rx.cond(
                    S.days.length() > 0,
                    rx.vstack(
                        rx.flex(rx.foreach(S.days, day), wrap="wrap", gap="2", role="group",
                                aria_label="Days with free times"),
                        rx.flex(rx.foreach(S.day_slots, slot), wrap="wrap", gap="2", role="group",
                                aria_label="Free times"),
                        spacing="3", width="100%",
                    ),
                    rx.text("No free times in the coming four weeks.", color_scheme="gray", role="status"),
                ),
            ),
        ),
    )


def _repeat(S) -> rx.Component:
    def weekday(code_and_name) -> rx.Component:
        code, name = code_and_name
        return rx.el.label(
            rx.hstack(rx.checkbox(checked=S.weekdays.contains(code), on_change=S.toggle_weekday(code),
                                  disabled=S.start_weekday == code, aria_label=name),
                      rx.text(name, size="2"), spacing="1", align="center"),
        )

    return rx.vstack(
        rx.text("Repeats", weight="medium"),
        rx.radio_group.root(
            rx.flex(radio("none", "Does not repeat"), radio("weekly", "Weekly"),
                    radio("biweekly", "Every 2 weeks"), radio("monthly", "Monthly on this weekday"),
                    radio("weekdays", "Several weekdays"), wrap="wrap", style={"gap": "0.5rem 1.5rem"}),
            value=S.repeat, on_change=S.set_repeat, aria_label="Repeats",
        ),
        rx.cond(S.repeat == "weekdays",
                rx.flex(*[weekday(w) for w in WEEKDAYS], wrap="wrap", gap="3", role="group",
                        aria_label="Weekdays")),
        spacing="2", width="100%",
    )


def _ends(S) -> rx.Component:
    return rx.cond(
        S.repeat != "none",
        rx.vstack(
            rx.text("Ends", weight="medium"),
            rx.radio_group.root(
                rx.flex(radio("never", "Never"), radio("until", "On a date"),
                        radio("count", "After a number of sessions"),
                        radio("held", "After a number of held sessions"), wrap="wrap", style={"gap": "0.5rem 1.5rem"}),
                value=S.ends, on_change=S.set_ends, aria_label="Ends",
            ),
            rx.cond(S.ends == "until",
                    rx.input(type="date", value=S.until, on_change=S.set_until, aria_label="Last date",
                             max_width="12rem")),
            rx.cond((S.ends == "count") | (S.ends == "held"),
                    rx.input(type="number", min="1", value=S.count, on_change=S.set_count,
                             aria_label="Number of sessions", max_width="8rem")),
            spacing="2", width="100%",
        ),
    )


def _outcome(S) -> rx.Component:
    return rx.vstack(
        error_callout(S.error),
        rx.cond(S.conflicts.length() > 0,
                rx.el.ul(rx.foreach(S.conflicts, lambda c: rx.el.li(c)), aria_label="Colliding dates",
                         style={"margin": 0, "padding_left": "1.25rem"})),
        rx.cond(S.booked != "",
                rx.callout(rx.text("Booked: ", S.booked, ". ",
                                   rx.link("See my sessions", href=routes.MY_SESSIONS)),
                           icon="check", color_scheme="green", role="status", width="100%")),
        spacing="2", width="100%",
    )


def _choose(S) -> rx.Component:
    return rx.cond(
        S.start != "",
        section(
            "3. How often",
            rx.text("First session: ", rx.text.strong(S.start_label), " with ", S.therapist_name),
            _repeat(S),
            _ends(S),
            rx.cond(S.summary != "",
                    rx.callout(S.summary, icon="calendar", color_scheme="blue", data_testid="summary",
                               aria_label="Summary", width="100%")),
            rx.button("Confirm booking", on_click=S.confirm, loading=S.busy, aria_label="Confirm booking",
                      size="3", disabled=S.summary == ""),
        ),
    )


def book_form(S) -> rx.Component:
    return rx.vstack(_therapists(S), _times(S), _choose(S), _outcome(S), spacing="4", width="100%")
