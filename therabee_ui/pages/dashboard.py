"""The practice dashboard: what Therabee wrote against what an eager scheduler would have.

The figures and their meanings come from `therabee.services.dashboard`; this page only
formats them, for the therapist's practice and for the whole installation.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from therabee.services import dashboard
from therabee_ui.auth import AuthState
from therabee_ui.components.layout import page

log = logging.getLogger(__name__)

# (figure, label, definition key, extra line: (template, figure) or None)
CARDS = [
    ("series", "Series stored", "series", None),
    ("sessions", "Sessions materialized", "sessions", None),
    ("therabee_rows", "Rows Therabee wrote", "therabee_rows", None),
    ("eager_rows", "Rows eager would have written", "eager_rows",
     ("{} rows not written", "rows_avoided")),
    ("video_calls", "Video API calls made", "video_calls", None),
    ("video_calls_avoided", "Video API calls avoided", "video_calls_avoided",
     ("eager: {} calls", "eager_video_calls")),
]


def _shown(figures: dict) -> dict[str, str]:
    """Numbers as text with thousands separators, plus the eager ÷ Therabee ratio."""
    shown = {key: f"{value:,}" for key, value in figures.items() if isinstance(value, int)}
    for _, _, _, extra in CARDS:
        if extra:
            shown[f"{extra[1]}_line"] = extra[0].format(shown[extra[1]])
    rows = figures["therabee_rows"]
    shown["ratio"] = f"{figures['eager_rows'] / rows:,.0f}× fewer rows" if rows else ""
    return shown


class DashboardState(rx.State):
    loading: bool = True
    failed: bool = False
    not_therapist: bool = False
    practice: dict[str, str] = {}
    installation: dict[str, str] = {}
    practice_chart: list[dict[str, int | str]] = []
    installation_chart: list[dict[str, int | str]] = []
    definitions: dict[str, str] = {}
    generated_at: str = ""

    @rx.event
    async def load(self):
        auth = await self.get_state(AuthState)
        if not auth.user_id:
            return  # require_user is on its way to sign-in
        self.loading, self.failed, self.not_therapist = True, False, False
        if auth.role != "therapist":
            self.not_therapist, self.loading = True, False
            return
        yield
        try:
            # blocking database reads: keep them off the event loop
            result = await asyncio.to_thread(dashboard.figures, auth.user_id)
        except Exception:
            log.exception("dashboard figures failed")
            self.failed = True
        else:
            self.practice = _shown(result["practice"])
            self.installation = _shown(result["installation"])
            self.practice_chart = result["practice"]["chart"]
            self.installation_chart = result["installation"]["chart"]
            self.definitions = result["definitions"]
            self.generated_at = f"{result['generated_at']:%Y-%m-%d %H:%M} UTC"
        finally:
            self.loading = False


def _card(figures: rx.Var, key: str, label: str, definition: str, extra) -> rx.Component:
    lines = [
        rx.text(label, size="2", weight="medium", color_scheme="gray", as_="div"),
        rx.text(figures[key], size="8", weight="bold", as_="div", data_testid=f"figure-{key}"),
    ]
    if extra:
        lines.append(rx.badge(figures[f"{extra[1]}_line"], variant="soft", color_scheme="grass"))
    lines.append(rx.text(DashboardState.definitions[definition], size="2", color_scheme="gray"))
    return rx.card(
        rx.vstack(*lines, spacing="1", align="start"),
        role="group",
        aria_label=label,
    )


def _chart(chart: rx.Var, figures: rx.Var, scope_label: str) -> rx.Component:
    return rx.cond(
        chart.length() > 0,
        rx.el.figure(
            rx.recharts.line_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.x_axis(data_key="week", min_tick_gap=24),
                rx.recharts.y_axis(width=64),
                rx.recharts.graphing_tooltip(),
                rx.recharts.legend(),
                rx.recharts.line(data_key="eager", name="Eager estimate", stroke=rx.color("orange", 9),
                                 stroke_width=2, dot=False, type_="linear", is_animation_active=False),
                rx.recharts.line(data_key="therabee", name="Therabee", stroke=rx.color("accent", 9),
                                 stroke_width=2, dot=False, type_="linear", is_animation_active=False),
                data=chart,
                margin={"top": 8, "right": 24, "bottom": 0, "left": 0},
                width="100%",
                height=300,
            ),
            rx.el.figcaption(
                rx.text("Cumulative rows written per week (", scope_label, "): Therabee ",
                        figures["therabee_rows"], ", eager estimate ", figures["eager_rows"], ".",
                        size="2", color_scheme="gray"),
            ),
            role="group",
            aria_label=f"Rows written over time, {scope_label}",
            style={"margin": 0},
        ),
        rx.text("No bookings yet: the chart appears with the first series.", color_scheme="gray",
                role="status", data_testid="dashboard-empty"),
    )


def _scope(figures: rx.Var, chart: rx.Var, scope_label: str) -> rx.Component:
    return rx.vstack(
        rx.cond(figures["ratio"] != "",
                rx.text("Therabee wrote ", figures["ratio"], " than an eager scheduler would have.",
                        size="3", weight="medium")),
        rx.grid(
            *[_card(figures, key, label, definition, extra) for key, label, definition, extra in CARDS],
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        rx.heading("Rows written over time", size="4", as_="h2", margin_top="1rem"),
        _chart(chart, figures, scope_label),
        spacing="3",
        align="stretch",
        padding_top="1rem",
    )


def _figures() -> rx.Component:
    return rx.cond(
        DashboardState.loading,
        rx.hstack(rx.spinner(size="2"), rx.text("Counting rows…", color_scheme="gray"),
                  role="status", aria_live="polite", spacing="2"),
        rx.cond(
            DashboardState.not_therapist,
            rx.callout("The dashboard is for therapists.", icon="info", role="status"),
            rx.cond(
                DashboardState.failed,
                rx.callout("The figures could not be computed. Please try again later.",
                           icon="triangle_alert", color_scheme="red", role="alert"),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("This practice", value="practice"),
                        rx.tabs.trigger("Whole installation", value="installation"),
                    ),
                    rx.tabs.content(_scope(DashboardState.practice, DashboardState.practice_chart,
                                           "this practice"), value="practice"),
                    rx.tabs.content(_scope(DashboardState.installation, DashboardState.installation_chart,
                                           "whole installation"), value="installation"),
                    default_value="practice",
                ),
            ),
        ),
    )


def dashboard_page() -> rx.Component:
    return page(
        rx.vstack(
            rx.heading("What we did not write", size=rx.breakpoints(initial="7", sm="8"), as_="h1"),
            rx.text(
                "Therabee stores each booking as one rule and writes a session only when it comes "
                "near. An eager scheduler writes every occurrence 26 weeks ahead — a session, a "
                "slot and a meeting each — and rewrites them on every change.",
                size="3", color_scheme="gray",
            ),
            _figures(),
            rx.cond(DashboardState.generated_at != "",
                    rx.text("Counted from the database at ", DashboardState.generated_at, ".",
                            size="1", color_scheme="gray")),
            spacing="3",
            align="stretch",
        ),
        size="3",
    )
