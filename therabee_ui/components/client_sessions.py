"""My sessions' parts: the list of upcoming sessions, the manage dialog (cancel, move, this
and following, pause, stop), the series with their pauses, the calendar feed. Each takes
the page's state class (pages/my_sessions.py)."""

from __future__ import annotations

import reflex as rx

from therabee_ui import routes
from therabee_ui.components.client_common import section
from therabee_ui.components.therapist_common import error_callout, labelled, loading_row, notice_callout
from therabee_ui.joining import progress_and_link


def _session(S, o: rx.Var) -> rx.Component:
    who = o.when + " with " + o.therapist
    return rx.el.li(
        rx.card(
            rx.flex(
                rx.vstack(
                    rx.hstack(rx.text(o.when, weight="bold", size="3"),
                              rx.badge(o.status_label, color_scheme=o.color, variant="soft",
                                       aria_label="Status: " + o.status_label),
                              align="center", spacing="2", wrap="wrap"),
                    rx.text(o.therapist, size="2"),
                    rx.text(o.rule, size="1", color_scheme="gray"),
                    spacing="1", align="start", flex="1", min_width="14rem",
                ),
                rx.hstack(
                    rx.cond(
                        o.can_join,
                        rx.button(rx.icon("video", size=16), "Join", on_click=S.join(o.id),
                                  loading=S.joining_id == o.id, disabled=S.joining_id != "",
                                  aria_label="Join session on " + o.when),
                        rx.cond(o.join_from != "",
                                rx.text("Join opens 1 h before", size="1", color_scheme="gray")),
                    ),
                    rx.cond(o.can_change,
                            rx.button("Manage", on_click=S.manage(o.id), variant="soft",
                                      aria_label="Manage session on " + o.when)),
                    spacing="2", align="start",
                ),
                gap="3", wrap="wrap", justify="between", width="100%",
            ),
            progress_and_link(S.joining_id == o.id, rx.cond(S.join_link_id == o.id, S.join_link, "")),
        ),
        aria_label="Session on " + who + ", " + o.status_label,
        style={"list_style": "none"},
    )


def _upcoming(S) -> rx.Component:
    return rx.cond(
        S.loading & (S.items.length() == 0),
        loading_row("Loading your sessions…"),
        rx.cond(
            S.items.length() > 0,
            rx.el.ul(rx.foreach(S.items, lambda o: _session(S, o)), aria_label="Upcoming sessions",
                     style={"display": "grid", "gap": "0.5rem", "padding": 0, "margin": 0}),
            rx.vstack(rx.text("No upcoming sessions.", color_scheme="gray"),
                      rx.link("Book a session", href=routes.BOOK), role="status", spacing="1"),
        ),
    )


def _date_time(S, prefix: str, date_field: str, time_field: str, date_value, time_value) -> rx.Component:
    return rx.flex(
        labelled(f"{prefix} date", rx.input(type="date", value=date_value, aria_label=f"{prefix} date",
                                            on_change=lambda v: S.set_field(date_field, v))),
        labelled(f"{prefix} time", rx.input(type="time", value=time_value, aria_label=f"{prefix} time",
                                            on_change=lambda v: S.set_field(time_field, v))),
        gap="2", wrap="wrap",
    )


def _block(title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.separator(size="4"), rx.text(title, weight="bold", size="2"), *children,
                     spacing="2", width="100%", align="start")


def _manage_dialog(S) -> rx.Component:
    o = S.selected
    late_notice = rx.callout(
        "Inside " + S.late_hours.to_string() + " h: this will count as a late cancellation.",
        icon="triangle_alert", color_scheme="amber", role="note", size="1")
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.hstack(rx.dialog.title(o.when, margin="0"), rx.spacer(),
                          rx.dialog.close(rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close")),
                          width="100%", align="center"),
                rx.dialog.description(o.therapist + " · " + o.rule, size="1", color_scheme="gray"),
                error_callout(S.action_error),
                _block("Cancel this session", rx.cond(o.late, late_notice),
                       rx.button("Cancel this session", on_click=S.cancel, color_scheme="red", variant="soft",
                                 loading=S.busy, aria_label="Cancel this session")),
                _block("Reschedule this session (your time)",
                       _date_time(S, "New", "move_date", "move_time", S.move_date, S.move_time),
                       rx.button("Move this session", on_click=S.reschedule, loading=S.busy,
                                 aria_label="Move this session")),
                rx.cond(o.repeats, rx.vstack(
                    _block("Change this and following",
                           _date_time(S, "From now on", "follow_date", "follow_time", S.follow_date, S.follow_time),
                           rx.button("Change this and following", on_click=S.change_following, loading=S.busy,
                                     aria_label="Change this and following")),
                    _block("Pause the series",
                           rx.flex(labelled("Pause from", rx.input(type="date", value=S.pause_from,
                                                                   aria_label="Pause from",
                                                                   on_change=lambda v: S.set_field("pause_from", v))),
                                   labelled("Pause until", rx.input(type="date", value=S.pause_until,
                                                                    aria_label="Pause until",
                                                                    on_change=lambda v: S.set_field("pause_until", v))),
                                   gap="2", wrap="wrap"),
                           rx.button("Pause", on_click=S.pause, loading=S.busy, aria_label="Pause the series")),
                    _block("Stop the series",
                           rx.text("This session and every later one are cancelled.", size="1", color_scheme="gray"),
                           rx.button("Stop the series from here", on_click=S.stop, color_scheme="red",
                                     variant="outline", loading=S.busy, aria_label="Stop the series")),
                    spacing="3", width="100%")),
                spacing="3", align="start", width="100%",
            ),
            max_width="560px", aria_label="Manage session",
        ),
        open=S.manage_open,
        on_open_change=S.set_manage_open,
    )


def _series(S) -> rx.Component:
    def one(s: rx.Var) -> rx.Component:
        return rx.el.li(
            rx.vstack(
                rx.text(s.rule, size="2"),
                rx.text(s.therapist, size="1", color_scheme="gray"),
                rx.cond(s.pauses.length() > 0,
                        rx.text("Paused: ", rx.foreach(s.pauses, lambda p: rx.badge(p, variant="soft",
                                                                                     margin_right="0.25rem")),
                                size="1"),
                        rx.text("No pauses", size="1", color_scheme="gray")),
                spacing="1", align="start",
            ),
            aria_label="Series: " + s.rule,
            style={"list_style": "none"},
        )

    return rx.cond(S.series.length() > 0,
                   section("Your series", rx.el.ul(rx.foreach(S.series, one), style={
                       "display": "grid", "gap": "0.75rem", "padding": 0, "margin": 0}), heading_id="series"))


def _feed(S) -> rx.Component:
    return rx.cond(
        S.feed_url != "",
        section(
            "Calendar feed",
            rx.text("Subscribe in your calendar app to see your sessions there.", size="2", color_scheme="gray"),
            rx.flex(
                rx.input(value=S.feed_url, read_only=True, aria_label="Calendar feed link", flex="1",
                         min_width="12rem"),
                rx.button(rx.icon("copy", size=16), "Copy", on_click=[rx.set_clipboard(S.feed_url),
                                                                      rx.toast("Link copied")],
                          variant="soft", aria_label="Copy calendar feed link"),
                gap="2", width="100%", wrap="wrap",
            ),
        ),
    )


def sessions_view(S) -> rx.Component:
    return rx.vstack(
        rx.flex(rx.heading("My sessions", as_="h1", size="7"), rx.spacer(),
                rx.link(rx.button("Book a session", variant="soft"), href=routes.BOOK),
                align="center", width="100%", wrap="wrap", gap="2"),
        rx.text("Times are in your time zone. The next 12 weeks.", color_scheme="gray"),
        notice_callout(S.notice),
        error_callout(S.error),
        _upcoming(S),
        _series(S),
        _feed(S),
        _manage_dialog(S),
        rx.box(rx.moment(interval=30_000, on_change=S.tick, format="HH:mm"), display="none", aria_hidden="true"),
        spacing="4", align="stretch",
    )
