"""Joining a session from a page, for the therapist's calendar and the client's sessions.

Join is offered only while it is open (`scheduling.live.can_join`: from an hour before
the start to the end), always inside the horizon: opening the occurrence then
materializes it and queues its meeting, which the job makes within seconds. The page
shows progress while `meeting_link` waits for the link, and gives up with a plain
message after `JOIN_WAIT_SECONDS` — never an endless "try again".
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import reflex as rx

from therabee.scheduling.live import can_join
from therabee.services import clock, occurrences
from therabee.services.people import User
from therabee_ui.components.therapist_common import call_service, loading_row

JOIN_WAIT_SECONDS = 30.0
POLL_SECONDS = 0.5
CLOSED = "This session cannot be joined now: Join opens an hour before the start and closes at its end."
NOT_READY = (f"The video meeting is not ready after {int(JOIN_WAIT_SECONDS)} s: the video service or "
             "the background worker is not answering. Please try again in a few minutes.")
PREPARING = "Preparing the video meeting…"


def join_open(status: str, start: str, end: str, now: datetime) -> bool:
    """Is Join open at `now` for an occurrence with this status and ISO start and end?"""
    return can_join(status, datetime.fromisoformat(start), datetime.fromisoformat(end), now)


async def meeting_link(actor: User, occurrence_id: str) -> tuple[str, str]:
    """(join link, "") once the occurrence's meeting exists, else ("", why not).

    Opens the occurrence (materializing it and queueing its meeting, see get_occurrence),
    then opens it again every `POLL_SECONDS` until the link is there, for at most
    `JOIN_WAIT_SECONDS`."""
    deadline = time.monotonic() + JOIN_WAIT_SECONDS
    while True:
        found, error = await call_service(occurrences.get_occurrence, actor, occurrence_id)
        if found is None:
            return "", error
        if not can_join(found["status"], found["start"], found["end"], clock.now()):
            return "", CLOSED
        if found["join_url"]:
            return found["join_url"], ""
        if time.monotonic() >= deadline:
            return "", NOT_READY
        await asyncio.sleep(POLL_SECONDS)


def progress_and_link(preparing: rx.Var, link: rx.Var) -> rx.Component:
    """"Preparing…" while the meeting is made, then the link (opened in a new tab as well,
    which a browser may block after a wait: the link is always there to click)."""
    return rx.fragment(
        rx.cond(preparing, loading_row(PREPARING)),
        rx.cond(link != "", rx.link(rx.hstack(rx.icon("external_link", size=16), rx.text("Open the video meeting"),
                                              align="center", spacing="1"),
                                    href=link, is_external=True, aria_label="Open the video meeting",
                                    data_testid="meeting-link")),
    )
