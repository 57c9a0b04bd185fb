"""Sign in and sign up: the same services and password hashing as the API."""

import reflex as rx

from therabee_ui import routes
from therabee_ui.auth import AuthState
from therabee_ui.components.layout import page

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
         "Europe/London", "Europe/Berlin", "Europe/Paris", "Australia/Sydney", "Asia/Tokyo", "UTC"]


def _field(label: str, name: str, kind: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"font_weight": 500}),
        rx.input(id=name, name=name, type=kind, aria_label=label, required=True, width="100%", **props),
        spacing="1", width="100%",
    )


def _error() -> rx.Component:
    return rx.cond(
        AuthState.auth_error != "",
        rx.callout(AuthState.auth_error, icon="triangle_alert", color_scheme="red", role="alert"),
    )


def sign_in_page() -> rx.Component:
    return page(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Sign in", as_="h1", size="6"),
                    _error(),
                    _field("Email", "email", "email", auto_complete="username"),
                    _field("Password", "password", "password", auto_complete="current-password"),
                    rx.button("Sign in", type="submit", loading=AuthState.busy, width="100%"),
                    rx.text("New here? ", rx.link("Create an account", href=routes.SIGN_UP), size="2"),
                    spacing="3", width="100%",
                ),
                on_submit=AuthState.sign_in,
                aria_label="Sign in",
            ),
            max_width="420px", margin="0 auto",
        )
    )


def sign_up_page() -> rx.Component:
    return page(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Create an account", as_="h1", size="6"),
                    _error(),
                    _field("Name", "name", auto_complete="name"),
                    _field("Email", "email", "email", auto_complete="username"),
                    _field("Password (8 characters or more)", "password", "password",
                           auto_complete="new-password", min_length=8),
                    rx.vstack(
                        rx.el.label("I am a", html_for="role", style={"font_weight": 500}),
                        rx.select(["client", "therapist"], default_value="client", name="role", id="role",
                                  aria_label="Role"),
                        spacing="1",
                    ),
                    rx.vstack(
                        rx.el.label("My time zone", html_for="timezone", style={"font_weight": 500}),
                        rx.select(ZONES, default_value="America/New_York", name="timezone", id="timezone",
                                  aria_label="Time zone"),
                        spacing="1",
                    ),
                    rx.button("Create account", type="submit", loading=AuthState.busy, width="100%"),
                    rx.text("Already registered? ", rx.link("Sign in", href=routes.SIGN_IN), size="2"),
                    spacing="3", width="100%",
                ),
                on_submit=AuthState.sign_up,
                aria_label="Sign up",
            ),
            max_width="420px", margin="0 auto",
        )
    )
