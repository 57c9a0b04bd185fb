"""What the therapist's pages share: who is acting, friendly errors, status words and colours,
loading / error / notice widgets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import reflex as rx

from therabee.services.errors import ServiceError
from therabee.services.people import User
from therabee_ui import routes
from therabee_ui.auth import AuthState

log = logging.getLogger(__name__)

STATUS_LABELS = {"scheduled": "scheduled", "in_progress": "in progress", "completed": "completed",
                 "no_show": "no show", "cancelled": "cancelled", "late_cancelled": "late cancelled"}
STATUS_COLORS = {"scheduled": "blue", "in_progress": "amber", "completed": "green",
                 "no_show": "red", "cancelled": "gray", "late_cancelled": "gray"}
UNEXPECTED = "Something went wrong on our side. Please try again in a moment."


async def acting_therapist(state: rx.State) -> User | None:
    """The signed-in therapist behind the page's cookie (None for anyone else)."""
    auth = await state.get_state(AuthState)
    user = await asyncio.to_thread(auth.current_user)
    return user if user is not None and user.role == "therapist" else None


def away_redirect(user_role: str):
    """Clients have their own pages; strangers sign in."""
    return rx.redirect(routes.MY_SESSIONS if user_role == "client" else routes.SIGN_IN)


async def call_service(fn: Callable[..., Any], *args, **kwargs) -> tuple[Any, str]:
    """Run a blocking service call off the event loop: (result, "") or (None, friendly message)."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs), ""
    except ServiceError as exc:
        return None, exc.detail
    except Exception:
        log.exception("therapist page: %s failed", getattr(fn, "__name__", fn))
        return None, UNEXPECTED


def error_callout(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon="triangle_alert", color_scheme="red",
                                             role="alert", width="100%"))


def notice_callout(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon="check", color_scheme="green",
                                             role="status", width="100%"))


def loading_row(text: str) -> rx.Component:
    return rx.hstack(rx.spinner(size="2"), rx.text(text, color_scheme="gray"),
                     role="status", aria_live="polite", spacing="2")


def labelled(label: str, control: rx.Component, html_for: str = "") -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=html_for, style={"font_weight": 500, "font_size": "0.85rem"}),
                     control, spacing="1")
