"""Passwords (argon2) and access tokens (JWT, HS256, with expiry)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from therabee.services.errors import unauthorized
from therabee.settings import get_settings

_hasher = PasswordHasher()
_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: str, role: str) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    settings = get_settings()
    ttl = timedelta(minutes=settings.jwt_ttl_minutes)
    issued = datetime.now(timezone.utc)  # real time: token expiry is about security, not schedules
    claims = {"sub": user_id, "role": role, "iat": issued, "exp": issued + ttl}
    return jwt.encode(claims, settings.jwt_secret, algorithm=_ALGORITHM), int(ttl.total_seconds())


def token_subject(token: str) -> str:
    """The user id in a valid token; 401 for anything tampered, expired or unsigned."""
    try:
        claims = jwt.decode(token, get_settings().jwt_secret, algorithms=[_ALGORITHM],
                            options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise unauthorized("The token has expired") from exc
    except jwt.PyJWTError as exc:
        raise unauthorized("The token is not valid") from exc
    return str(claims["sub"])
