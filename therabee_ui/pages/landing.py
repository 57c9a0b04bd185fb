"""The landing page: what Therabee is, who practises here, where the API lives."""

import asyncio
import logging

import reflex as rx

from therabee.services.people import list_therapists
from therabee_ui import routes
from therabee_ui.components.layout import page

log = logging.getLogger(__name__)


class LandingState(rx.State):
    therapists: list[dict[str, str]] = []
    loading: bool = True
    failed: bool = False

    @rx.event
    async def load(self):
        self.loading = True
        self.failed = False
        yield
        try:
            # The service does blocking database I/O: keep it off the event loop.
            rows = await asyncio.to_thread(list_therapists)
        except Exception:
            log.exception("listing therapists failed")
            self.failed = True
            self.therapists = []
        else:
            self.therapists = [
                {"id": str(row["id"]), "name": row["name"], "timezone": row["timezone"]}
                for row in rows
            ]
        finally:
            self.loading = False


def _therapist_row(therapist: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.hstack(
                rx.text(therapist["name"], weight="medium"),
                rx.spacer(),
                rx.badge(therapist["timezone"], variant="soft", color_scheme="gray"),
                align="center",
            ),
        ),
        aria_label=therapist["name"] + ", time zone " + therapist["timezone"],
        data_testid="therapist",
        style={"list_style": "none"},
    )


def _therapists() -> rx.Component:
    return rx.cond(
        LandingState.loading,
        rx.hstack(
            rx.spinner(size="2"),
            rx.text("Loading therapists…", color_scheme="gray"),
            role="status",
            aria_live="polite",
            spacing="2",
        ),
        rx.cond(
            LandingState.failed,
            rx.callout(
                "The list of therapists could not be loaded. Please try again later.",
                icon="triangle_alert",
                color_scheme="red",
                role="alert",
            ),
            rx.cond(
                LandingState.therapists.length() > 0,
                rx.el.ul(
                    rx.foreach(LandingState.therapists, _therapist_row),
                    aria_labelledby="therapists-heading",
                    style={"display": "grid", "gap": "0.5rem", "padding": 0, "margin": 0},
                ),
                rx.text(
                    "No therapists yet.",
                    color_scheme="gray",
                    role="status",
                    data_testid="no-therapists",
                ),
            ),
        ),
    )


def landing() -> rx.Component:
    return page(
        rx.vstack(
            rx.heading("Recurring therapy sessions, booked once.", size="8", as_="h1"),
            rx.text(
                "Therabee keeps each recurring booking as one rule and creates "
                "sessions and video meetings only when they come near.",
                size="4",
                color_scheme="gray",
            ),
            rx.heading("Therapists", size="5", as_="h2", id="therapists-heading", margin_top="1.5rem"),
            _therapists(),
            rx.text(
                "Building an integration? Read the ",
                rx.link("API documentation", href=routes.API_DOCS),
                ".",
                margin_top="1.5rem",
            ),
            spacing="3",
            align="stretch",
        )
    )
