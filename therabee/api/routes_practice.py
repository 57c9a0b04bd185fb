"""Practice rules: time off (one row each) and the therapist's booking settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from therabee.api.deps import CurrentUser
from therabee.api.output import items, respond
from therabee.api.schemas import PracticeRulesIn, TimeOffIn
from therabee.services import practice

router = APIRouter(tags=["practice rules"])


@router.get("/therapists/me/rules")
def get_rules(user: CurrentUser):
    return respond(practice.get_rules(user.id))


@router.put("/therapists/me/rules")
def set_rules(body: PracticeRulesIn, user: CurrentUser):
    return respond(practice.set_rules(user, **body.model_dump()))


@router.get("/therapists/{therapist_id}/rules")
def therapist_rules(therapist_id: str, _: CurrentUser):
    return respond(practice.get_rules(therapist_id))


@router.post("/therapists/me/time-off", status_code=201)
def add_time_off(body: TimeOffIn, user: CurrentUser):
    return respond(practice.add_time_off(user, body.start, body.end, body.reason), 201)


@router.put("/therapists/me/time-off/{time_off_id}")
def change_time_off(time_off_id: str, body: TimeOffIn, user: CurrentUser):
    return respond(practice.change_time_off(user, time_off_id, body.start, body.end, body.reason))


@router.delete("/therapists/me/time-off/{time_off_id}", status_code=204)
def remove_time_off(time_off_id: str, user: CurrentUser):
    practice.remove_time_off(user, time_off_id)
    return Response(status_code=204)


@router.get("/therapists/{therapist_id}/time-off")
def list_time_off(therapist_id: str, user: CurrentUser,
                  from_: Annotated[AwareDatetime, Query(alias="from")],
                  to: Annotated[AwareDatetime, Query()]):
    """Time off and public holidays; the reason is shown to the therapist only."""
    return items(practice.list_time_off(user, therapist_id, from_, to))
