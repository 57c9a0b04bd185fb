"""The frame every page sits in: a header with the logo, the page, a footer."""

import reflex as rx

from therabee_ui import routes
from therabee_ui.auth import AuthState
from therabee_ui.errors import error_banner


def _nav() -> rx.Component:
    """Links for who is signed in: clients book and see their sessions, therapists run
    their calendar."""
    return rx.el.nav(
        rx.hstack(
            rx.cond(
                AuthState.signed_in,
                rx.cond(
                    AuthState.is_therapist,
                    rx.hstack(
                        rx.link("Calendar", href=routes.CALENDAR),
                        rx.link("Clients", href=routes.CLIENTS),
                        rx.link("Availability", href=routes.AVAILABILITY),
                        rx.link("Dashboard", href=routes.DASHBOARD),
                        spacing="4", wrap="wrap",
                    ),
                    rx.hstack(
                        rx.link("Book", href=routes.BOOK),
                        rx.link("My sessions", href=routes.MY_SESSIONS),
                        spacing="4",
                    ),
                ),
            ),
            rx.link("API docs", href=routes.API_DOCS),
            rx.cond(
                AuthState.signed_in,
                rx.hstack(
                    rx.text(AuthState.user_name, color_scheme="gray", size="2"),
                    rx.button("Sign out", on_click=AuthState.sign_out, variant="soft", size="1",
                              aria_label="Sign out"),
                    align="center", spacing="2",
                ),
                rx.link("Sign in", href=routes.SIGN_IN),
            ),
            spacing="4", align="center", wrap="wrap",
        ),
        aria_label="Main",
    )


def _header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.image(src="/logo.svg", alt="", width="32px", height="32px"),
                    rx.text("Therabee", size="5", weight="bold"),
                    align="center",
                    spacing="2",
                ),
                href=routes.INDEX,
                underline="none",
                color_scheme="gray",
                high_contrast=True,
                aria_label="Therabee home",
            ),
            rx.spacer(),
            _nav(),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        style={"padding": "1rem 1.5rem", "border_bottom": f"1px solid {rx.color('gray', 5)}"},
    )


def page(*children: rx.Component, size: str = "2") -> rx.Component:
    return rx.box(
        _header(),
        rx.el.main(
            rx.container(error_banner(), *children, size=size, padding_y="2rem", padding_x="1rem"),
            id="main",
        ),
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )
