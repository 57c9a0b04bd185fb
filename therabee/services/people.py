"""Users: register, sign in, who is this token, therapists, the private calendar link."""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from sqlmodel import select

from therabee.db.engine import read_only, unit_of_work
from therabee.db.models import FeedToken, User
from therabee.scheduling.timezones import UnknownZone, zone
from therabee.services import auth, ratelimit
from therabee.services.errors import ServiceError, invalid, not_found, unauthorized
from therabee.settings import get_settings

ROLES = ("client", "therapist")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def public_user(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "timezone": user.timezone}


def _check_registration(email: str, password: str, name: str, role: str, timezone: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise invalid("email", "is not an email address")
    if not isinstance(password, str) or not 8 <= len(password) <= 128:
        raise invalid("password", "must be 8 to 128 characters")
    if not (name or "").strip() or len(name) > 120:
        raise invalid("name", "must be 1 to 120 characters")
    if role not in ROLES:
        raise invalid("role", "must be 'client' or 'therapist'")
    try:
        zone(timezone)
    except UnknownZone as exc:
        raise invalid("timezone", str(exc)) from exc
    return email


def register(email: str, password: str, name: str, role: str, timezone: str) -> dict:
    email = _check_registration(email, password, name, role, timezone)
    try:
        with unit_of_work() as db:
            user = User(email=email, name=name.strip(), role=role, timezone=timezone,
                        password_hash=auth.hash_password(password))
            db.add(user)
            db.flush()
            return public_user(user)
    except sa.exc.IntegrityError as exc:
        raise ServiceError("email: is already registered", 409, "Conflict",
                           [invalid("email", "is already registered").errors[0]]) from exc


def sign_in(email: str, password: str, address: str | None = None) -> dict:
    """A token for valid credentials; the same 401 whether the email or password is wrong.

    Failures are counted per account and per client `address`: past the limits, 429."""
    ratelimit.check_sign_in(email or "", address)
    with read_only() as db:
        user = db.exec(select(User).where(User.email == (email or "").strip().lower())).first()
    if user is None or not auth.verify_password(user.password_hash, password or ""):
        ratelimit.record_failure(email or "", address)
        raise unauthorized("Wrong email or password")
    ratelimit.record_success(email)
    token, expires_in = auth.issue_token(user.id, user.role)
    return {"access_token": token, "token_type": "bearer", "expires_in": expires_in}


def user_for_token(token: str) -> User:
    user_id = auth.token_subject(token)
    with read_only() as db:
        user = db.get(User, user_id)
    if user is None:
        raise unauthorized("The token's user no longer exists")
    return user


def get_user(user_id: str) -> User:
    with read_only() as db:
        user = db.get(User, user_id)
    if user is None:
        raise not_found("user")
    return user


def list_therapists() -> list[dict]:
    with read_only() as db:
        rows = db.exec(select(User).where(User.role == "therapist").order_by(User.name)).all()
    return [{"id": u.id, "name": u.name, "timezone": u.timezone} for u in rows]


def feed_url(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/api/v1/calendar/{token}.ics"


def me(user: User) -> dict:
    """The user plus their private calendar link (created on first ask)."""
    with read_only() as db:
        row = db.get(FeedToken, user.id)
    token = row.token if row else rotate_feed_token(user)["token"]
    return {**public_user(user), "feed_url": feed_url(token)}


def rotate_feed_token(user: User) -> dict:
    """A new unguessable feed token; the old link stops working."""
    token = secrets.token_urlsafe(32)
    with unit_of_work() as db:
        row = db.get(FeedToken, user.id)
        if row is None:
            db.add(FeedToken(user_id=user.id, token=token))
        else:
            row.token = token
    return {"token": token, "feed_url": feed_url(token)}


def user_for_feed_token(token: str) -> User:
    with read_only() as db:
        row = db.exec(select(FeedToken).where(FeedToken.token == token)).first()
        user = db.get(User, row.user_id) if row else None
    if user is None:
        raise not_found("calendar")
    return user
