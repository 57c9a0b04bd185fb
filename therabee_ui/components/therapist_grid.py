"""The therapist's calendar grids: the week (time of day × days) and the month (7 × 6 days),
and the legend that explains their colours and outlines."""

from __future__ import annotations

import reflex as rx

from therabee_ui.components.therapist_common import STATUS_COLORS, STATUS_LABELS
from therabee_ui.pages.calendar_state import HOUR_PX, CalendarState

HOURS_COLUMN = "3.5rem"
COLUMN_WIDTH = "calc((100% - var(--tb-hours)) / 7 - 4px)"
AWAY_STRIPES = ("repeating-linear-gradient(45deg, var(--gray-a3), var(--gray-a3) 6px,"
                " var(--gray-a5) 6px, var(--gray-a5) 12px)")


def _away_badge(away: rx.Var) -> rx.Component:
    return rx.cond(away != "", rx.badge(rx.icon("plane", size=12), away, color_scheme="orange", variant="soft",
                                        size="1", aria_label="Away: " + away,
                                        style={"white_space": "normal", "max_width": "100%"}))


def _occurrence_button(item: rx.Var, compact: bool) -> rx.Component:
    label = item.client_name + ", " + item.date_label + " " + item.time_label + ", " + item.status_label
    text = [rx.text(item.local_time if compact else item.time_label, size="1", weight="bold"),
            rx.text(item.client_name, size="1", truncate=True)]
    style = {"background": item.background, "border": item.outline, "border_radius": "6px", "text_align": "left",
             "padding": "2px 6px", "cursor": "pointer", "overflow": "hidden", "color": "var(--gray-12)",
             "text_decoration": rx.cond(item.color == "gray", "line-through", "none")}
    if not compact:
        style |= {"position": "absolute", "left": "calc(" + item.left + " + 2px)", "width": COLUMN_WIDTH,
                  "top": item.top, "height": item.height, "z_index": 2}
    else:
        style |= {"display": "flex", "gap": "4px", "width": "100%"}
    return rx.el.button(*text, on_click=CalendarState.open_detail(item.id), aria_label=label,
                        data_testid="occurrence", data_status=item.status,
                        data_kind=rx.cond(item.materialized, "session", "virtual"), style=style)


def _day_header(day: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(day.label, size="2", weight=rx.cond(day.today, "bold", "medium"),
                color=rx.cond(day.today, "var(--accent-11)", "var(--gray-12)")),
        _away_badge(day.away),
        spacing="1", padding="6px 4px", align="center", data_testid="day-header",
        border_bottom=f"1px solid {rx.color('gray', 6)}",
        background=rx.cond(day.today, rx.color("accent", 3), "transparent"),
    )


def _hour_line(hour: rx.Var) -> rx.Component:
    return rx.box(rx.text(hour, size="1", color_scheme="gray", style={"position": "relative", "top": "-0.6em"}),
                  height=f"{HOUR_PX}px", border_top=f"1px solid {rx.color('gray', 4)}", padding_left="4px")


def _column(day: rx.Var) -> rx.Component:
    return rx.box(position="absolute", top="0", bottom="0", left=day.left, width="1px",
                  background=rx.color("gray", 5))


def _away_block(block: rx.Var) -> rx.Component:
    return rx.box(rx.text(block.label, size="1", weight="medium", color_scheme="orange"),
                  position="absolute", left="calc(" + block.left + " + 1px)",
                  width="calc((100% - var(--tb-hours)) / 7 - 2px)", top=block.top, height=block.height,
                  background=AWAY_STRIPES, padding="2px 6px", z_index=1, data_testid="away-block",
                  aria_label=block.label, role="note")


def week_grid() -> rx.Component:
    return rx.box(
        rx.box(
            rx.grid(rx.box(), rx.foreach(CalendarState.days, _day_header),
                    columns=f"{HOURS_COLUMN} repeat(7, minmax(0, 1fr))", width="100%"),
            rx.box(
                rx.foreach(CalendarState.hours, _hour_line),
                rx.foreach(CalendarState.days, _column),
                rx.foreach(CalendarState.blocks, _away_block),
                rx.foreach(CalendarState.items, lambda item: _occurrence_button(item, compact=False)),
                position="relative", height=CalendarState.grid_height, width="100%",
            ),
            style={"--tb-hours": HOURS_COLUMN, "min_width": "760px"},
            role="grid", aria_label="Week of " + CalendarState.range_label,
        ),
        overflow_x="auto", width="100%", background=rx.color("gray", 1), border_radius="8px",
        border=f"1px solid {rx.color('gray', 5)}",
    )


def _month_cell(day: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(day.number, size="2", weight=rx.cond(day.today, "bold", "regular"),
                    color=rx.cond(day.today, "var(--accent-11)", rx.cond(day.in_month, "var(--gray-12)",
                                                                          "var(--gray-8)"))),
            _away_badge(day.away), spacing="1", align="center", wrap="wrap",
        ),
        rx.foreach(day["items"], lambda item: _occurrence_button(item, compact=True)),
        rx.cond(day.more != "", rx.text(day.more, size="1", color_scheme="gray")),
        spacing="1", padding="4px", min_height="96px", align="stretch", min_width="0",
        background=rx.cond(day.away != "", AWAY_STRIPES, rx.cond(day.in_month, rx.color("gray", 1),
                                                                  rx.color("gray", 2))),
        border=f"1px solid {rx.color('gray', 4)}", aria_label=day.label, role="gridcell", data_testid="month-day",
    )


def month_grid() -> rx.Component:
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return rx.box(
        rx.grid(
            *[rx.text(name, size="1", weight="bold", color_scheme="gray", padding="4px") for name in names],
            rx.foreach(CalendarState.days, _month_cell),
            columns="repeat(7, minmax(0, 1fr))", width="100%", min_width="700px",
            role="grid", aria_label="Month of " + CalendarState.range_label,
        ),
        overflow_x="auto", width="100%", background=rx.color("gray", 1), border_radius="8px",
    )


def legend() -> rx.Component:
    seen = dict.fromkeys(STATUS_COLORS.values())
    swatches = [rx.hstack(rx.box(width="14px", height="14px", border_radius="4px", background=f"var(--{color}-3)",
                                 border=f"2px solid var(--{color}-9)"),
                          rx.text(" / ".join(label for key, label in STATUS_LABELS.items()
                                             if STATUS_COLORS[key] == color), size="1"),
                          spacing="1", align="center") for color in seen]
    outlines = [rx.hstack(rx.box(width="22px", height="14px", border_radius="4px", border=f"2px {kind} var(--gray-9)"),
                          rx.text(text, size="1"), spacing="1", align="center")
                for kind, text in (("dashed", "planned (not yet a session)"), ("solid", "session created"))]
    away = rx.hstack(rx.box(width="22px", height="14px", border_radius="4px", background=AWAY_STRIPES),
                     rx.text("time off / public holiday", size="1"), spacing="1", align="center")
    return rx.flex(*swatches, *outlines, away, wrap="wrap", column_gap="1.25rem", row_gap="0.5rem",
                   aria_label="Legend")
