"""Who is signed in. The access token lives in a cookie, so a reload keeps the session;
every page that needs a user runs `AuthState.require_user` on load.

States stay thin: they call the same services (and password hashing) as the API.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from therabee.services import people
from therabee.services.errors import ServiceError
from therabee.services.people import User
from therabee.settings import get_settings
from therabee_ui import routes

SESSION_SECONDS = 12 * 3600


class AuthState(rx.State):
    # Secure (sent over HTTPS only) whenever users reach the app over https
    token: str = rx.Cookie("", name="therabee_session", max_age=SESSION_SECONDS, same_site="strict",
                           path="/", secure=get_settings().public_url.startswith("https://"))
    user_id: str = ""
    user_name: str = ""
    user_email: str = ""
    role: str = ""
    user_timezone: str = ""
    auth_error: str = ""
    busy: bool = False

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.user_id)

    @rx.var
    def is_therapist(self) -> bool:
        return self.role == "therapist"

    def current_user(self) -> User | None:
        """The user behind the cookie (None when it is missing, expired or tampered)."""
        if not self.token:
            return None
        try:
            return people.user_for_token(self.token)
        except ServiceError:
            return None

    def _remember(self, user: User | None) -> None:
        self.user_id = user.id if user else ""
        self.user_name = user.name if user else ""
        self.user_email = user.email if user else ""
        self.role = user.role if user else ""
        self.user_timezone = user.timezone if user else ""

    @rx.event
    async def require_user(self):
        """On load of a protected page: who is it, or off to sign-in."""
        user = await asyncio.to_thread(self.current_user)
        self._remember(user)
        if user is None:
            self.token = ""
            return rx.redirect(routes.SIGN_IN)

    @rx.event
    async def refresh_user(self):
        """On load of a public page: show who is signed in, if anyone."""
        self._remember(await asyncio.to_thread(self.current_user))

    def _home(self) -> str:
        return routes.CALENDAR if self.role == "therapist" else routes.MY_SESSIONS

    async def _enter(self, form: dict, register: bool):
        """Register first when asked, then sign in and go to the user's home page."""
        self.auth_error, self.busy = "", True
        yield
        email, password = form.get("email", ""), form.get("password", "")
        try:
            if register:
                await asyncio.to_thread(people.register, email, password, form.get("name", ""),
                                        form.get("role", "client"), form.get("timezone", ""))
            answer = await asyncio.to_thread(people.sign_in, email, password)
        except ServiceError as exc:
            self.auth_error, self.busy = exc.detail, False
            return
        self.token = answer["access_token"]
        self._remember(await asyncio.to_thread(self.current_user))
        self.busy = False
        yield rx.redirect(self._home())

    @rx.event
    async def sign_in(self, form: dict):
        async for update in self._enter(form, register=False):
            yield update

    @rx.event
    async def sign_up(self, form: dict):
        async for update in self._enter(form, register=True):
            yield update

    @rx.event
    def sign_out(self):
        self.token = ""
        self._remember(None)
        return rx.redirect(routes.INDEX)
