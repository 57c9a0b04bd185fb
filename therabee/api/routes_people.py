"""Auth, the current user, therapists and availability."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime

from therabee.api.deps import CurrentUser
from therabee.api.output import items, respond
from therabee.api.schemas import AvailabilityIn, RegisterIn, TokenIn
from therabee.api.security import client_address
from therabee.services import availability, people

router = APIRouter()


@router.post("/auth/register", status_code=201, tags=["auth"])
def register(body: RegisterIn):
    return respond(people.register(**body.model_dump()), 201)


@router.post("/auth/token", tags=["auth"])
def token(body: TokenIn, request: Request):
    return respond(people.sign_in(body.email, body.password, client_address(request)))


@router.get("/me", tags=["people"])
def me(user: CurrentUser):
    return respond(people.me(user))


@router.post("/me/feed-token", tags=["people"])
def rotate_feed_token(user: CurrentUser):
    return respond({"feed_url": people.rotate_feed_token(user)["feed_url"]})


@router.get("/therapists", tags=["people"])
def therapists(_: CurrentUser):
    return items(people.list_therapists())


@router.put("/therapists/me/availability", tags=["availability"])
def set_availability(body: AvailabilityIn, user: CurrentUser):
    weekly = [block.model_dump() for block in body.weekly]
    return respond(availability.set_availability(user, body.timezone, weekly))


@router.get("/therapists/{therapist_id}/availability", tags=["availability"])
def get_availability(therapist_id: str, _: CurrentUser):
    return respond(availability.get_availability(therapist_id))


@router.get("/therapists/{therapist_id}/slots", tags=["availability"])
def slots(therapist_id: str, _: CurrentUser,
          from_: Annotated[AwareDatetime, Query(alias="from")],
          to: Annotated[AwareDatetime, Query()],
          duration_minutes: Annotated[int, Query(ge=5, le=8 * 60)] = 50):
    return items(availability.slots(therapist_id, from_, to, duration_minutes))
