"""Series (the intent) and occurrences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from therabee.api.deps import CurrentUser
from therabee.api.output import items, respond
from therabee.api.schemas import AttendanceIn, CancelIn, FromIn, MoveIn, PauseIn, SeriesIn, SplitIn
from therabee.services import booking, occurrences, series_changes

router = APIRouter()


@router.post("/series", status_code=201, tags=["series"])
def book(body: SeriesIn, user: CurrentUser):
    return respond(booking.book(user, **body.model_dump()), 201)


@router.get("/series", tags=["series"])
def list_series(user: CurrentUser):
    return items(booking.list_series(user))


@router.get("/series/{series_id}", tags=["series"])
def get_series(series_id: str, user: CurrentUser):
    return respond(booking.get_series(user, series_id))


@router.post("/series/{series_id}/pauses", status_code=201, tags=["series"])
def pause(series_id: str, body: PauseIn, user: CurrentUser):
    return respond(series_changes.pause(user, series_id, body.from_, body.until), 201)


@router.delete("/series/{series_id}/pauses/{pause_id}", status_code=204, tags=["series"])
def unpause(series_id: str, pause_id: str, user: CurrentUser):
    series_changes.unpause(user, series_id, pause_id)
    return Response(status_code=204)


@router.post("/series/{series_id}/end", tags=["series"])
def end(series_id: str, body: FromIn, user: CurrentUser):
    return respond(series_changes.end(user, series_id, body.from_))


@router.post("/series/{series_id}/split", status_code=201, tags=["series"])
def split(series_id: str, body: SplitIn, user: CurrentUser):
    changes = body.model_dump(exclude_unset=True, exclude={"from_"})
    return respond(series_changes.split(user, series_id, body.from_, **changes), 201)


@router.get("/occurrences", tags=["occurrences"])
def list_occurrences(user: CurrentUser,
                     from_: Annotated[AwareDatetime, Query(alias="from")],
                     to: Annotated[AwareDatetime, Query()],
                     therapist_id: Annotated[str | None, Query(max_length=64)] = None,
                     series_id: Annotated[str | None, Query(max_length=64)] = None):
    return items(occurrences.list_occurrences(user, from_, to, therapist_id, series_id))


@router.get("/occurrences/{occurrence_id}", tags=["occurrences"])
def get_occurrence(occurrence_id: str, user: CurrentUser):
    return respond(occurrences.get_occurrence(user, occurrence_id))


@router.post("/occurrences/{occurrence_id}/cancel", tags=["occurrences"])
def cancel(occurrence_id: str, user: CurrentUser, body: CancelIn | None = None):
    return respond(occurrences.cancel(user, occurrence_id, body.reason if body else None))


@router.post("/occurrences/{occurrence_id}/move", tags=["occurrences"])
def move(occurrence_id: str, body: MoveIn, user: CurrentUser):
    return respond(occurrences.move(user, occurrence_id, body.start, body.duration_minutes))


@router.post("/occurrences/{occurrence_id}/attendance", tags=["occurrences"])
def attendance(occurrence_id: str, body: AttendanceIn, user: CurrentUser):
    return respond(occurrences.attendance(user, occurrence_id, body.status))
