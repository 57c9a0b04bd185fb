"""Named dependencies so routes stay one-liners."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from therabee.services import people
from therabee.services.people import User
from therabee.services.errors import unauthorized

_bearer = HTTPBearer(auto_error=False)


def current_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    return people.user_for_token(credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]
