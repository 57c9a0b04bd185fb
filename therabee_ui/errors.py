"""What a person sees when a page's work fails on the server.

Reflex's default handler answers a failed event with a toast that the browser must
`eval`, which our Content-Security-Policy forbids (script-src has no 'unsafe-eval'), so
the page showed nothing at all. Ours answers with an ordinary state event instead: the
message arrives as state and `error_banner` shows it on every page. The policy stays
as strict as it was.
"""

from __future__ import annotations

import logging

import reflex as rx
from reflex.event import EventSpec

log = logging.getLogger("therabee.ui")

MESSAGE = ("Something went wrong on our side, and this page could not finish. "
           "Please try again in a moment; if it keeps happening, tell the practice.")


class PageErrorState(rx.State):
    """The message of the last failed event, shown until the person dismisses it."""

    message: str = ""

    @rx.event
    def show(self, message: str) -> None:
        self.message = message

    @rx.event
    def dismiss(self) -> None:
        self.message = ""


def report_backend_error(exception: Exception) -> EventSpec:
    """Reflex's backend_exception_handler: log the failure (type and traceback only, never
    the state, which can hold client names) and show `MESSAGE` to the person."""
    log.error("a UI event failed: %s", type(exception).__name__, exc_info=exception)
    return PageErrorState.show(MESSAGE)


def error_banner() -> rx.Component:
    return rx.cond(
        PageErrorState.message != "",
        rx.callout.root(
            rx.hstack(
                rx.callout.icon(rx.icon("triangle-alert")),
                rx.callout.text(PageErrorState.message),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=16), on_click=PageErrorState.dismiss, variant="ghost",
                               color_scheme="red", aria_label="Dismiss"),
                align="center", width="100%",
            ),
            color="red", role="alert", id="page-error", margin_bottom="1rem",
        ),
    )
