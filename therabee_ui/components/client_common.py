"""What the client's pages share: who is acting, and small labelled widgets. Friendly errors,
status words and callouts are the ones the therapist's pages use (therapist_common)."""

from __future__ import annotations

import asyncio

import reflex as rx

from therabee.services.people import User
from therabee_ui import routes
from therabee_ui.auth import AuthState


async def acting_client(state: rx.State) -> User | None:
    """The signed-in client behind the page's cookie (None for anyone else)."""
    auth = await state.get_state(AuthState)
    user = await asyncio.to_thread(auth.current_user)
    return user if user is not None and user.role == "client" else None


def away_from_client_pages(role: str):
    """Therapists run their calendar; strangers sign in."""
    return rx.redirect(routes.CALENDAR if role == "therapist" else routes.SIGN_IN)


def section(title: str, *children: rx.Component, heading_id: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, as_="h2", size="4", id=heading_id), *children,
                  spacing="3", align="stretch", width="100%"),
        width="100%",
    )


def radio(value: str, label: str) -> rx.Component:
    """One labelled choice of a radio group (the label is its accessible name)."""
    return rx.el.label(
        rx.hstack(rx.radio_group.item(value=value, aria_label=label), rx.text(label, size="2"),
                  align="center", spacing="2"),
        style={"cursor": "pointer"},
    )
