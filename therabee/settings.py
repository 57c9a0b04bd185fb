"""One settings object for the whole product: every knob is a THERABEE_* variable.

Read once at start-up (`get_settings()`); Alembic's env.py, rxconfig.py, the API,
the tasks and the tests all read the same object.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = PROJECT_ROOT / ".therabee"
# A pinned test date (THERABEE_TEST_NOW=2026-11-29) starts at this time of day: 10:00 UTC is
# the same calendar day in every zone from UTC-10 to UTC+13, New York and Berlin included.
PINNED_TIME = time(10, 0, tzinfo=timezone.utc)


def _local_jwt_secret() -> str:
    """The default set-up's secret: generated once, kept in .therabee/ (never in git)."""
    path = LOCAL_DIR / "jwt-secret"
    if not path.exists():
        LOCAL_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THERABEE_", extra="ignore")

    database_url: str = f"sqlite:///{LOCAL_DIR / 'therabee.db'}"
    redis_url: str | None = None
    jwt_secret: str = Field(default_factory=_local_jwt_secret, min_length=32)
    jwt_ttl_minutes: int = Field(default=60 * 12, ge=1)
    public_url: str = "http://localhost:3000"

    horizon_hours: int = Field(default=72, ge=1, le=24 * 30)
    conflict_window_weeks: int = Field(default=52, ge=1, le=104)
    late_cancel_hours: int = Field(default=24, ge=0)
    # how long a worker may take to create a meeting before another one may take over
    meeting_claim_seconds: int = Field(default=180, ge=1, le=3600)
    # without Redis: seconds between the in-process runs of the periodic jobs (horizon,
    # reminders, pruning); 0 runs none (jobs queued after a commit still run)
    tick_seconds: float = Field(default=60.0, ge=0)
    # a failed background job (meetings, notices) runs at most job_attempts times in all,
    # waiting a jittered exponential backoff from job_backoff_seconds up to the cap between
    # runs, or the provider's Retry-After when that is longer (one longer than the cap: given
    # up; the periodic sweep queues it again later). Celery and the in-process runner alike.
    job_attempts: int = Field(default=5, ge=1, le=20)
    job_backoff_seconds: float = Field(default=2.0, gt=0)
    job_backoff_cap_seconds: float = Field(default=60.0, gt=0, le=900)

    # limits on what one request may ask for
    max_body_bytes: int = 1024 * 1024
    max_count: int = Field(default=520, ge=1)
    max_duration_minutes: int = Field(default=8 * 60, ge=1)
    max_list_days: int = Field(default=400, ge=1)

    # sign-in failures allowed per account and per client address within the window
    signin_max_failures_per_account: int = Field(default=5, ge=1)
    signin_max_failures_per_address: int = Field(default=20, ge=1)
    signin_failure_window_seconds: int = Field(default=15 * 60, ge=1)

    # video: Zoom when credentials are set, otherwise a credential-free provider
    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: str | None = None
    zoom_user_id: str = "me"
    zoom_webhook_secret: str | None = None
    zoom_oauth_url: str = "https://zoom.us/oauth/token"
    zoom_api_url: str = "https://api.zoom.us/v2"
    free_video_base_url: str = "https://meet.jit.si"

    # mail: printed to the log when no SMTP host is set
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "Therabee <no-reply@therabee.local>"

    # Tests only: the instant the clock starts from (services/clock.py), an ISO instant with
    # its offset or a date (at PINNED_TIME). Refused unless THERABEE_TESTING=1, so a
    # deployment cannot run on another date by accident.
    testing: bool = False
    test_now: datetime | None = None
    # the real instant at which test_now was the time (set for the processes a run starts)
    test_now_at: datetime | None = None

    @field_validator("jwt_secret")
    @classmethod
    def _no_placeholder_secret(cls, value: str) -> str:
        if value.lower() in {"changeme", "change-me", "secret"}:
            raise ValueError("THERABEE_JWT_SECRET is a placeholder; set a real secret")
        return value

    @field_validator("test_now", mode="before")
    @classmethod
    def _instant_or_date(cls, value):
        if isinstance(value, str) and len(value) == len("2026-11-29"):
            return datetime.combine(date.fromisoformat(value), PINNED_TIME)
        return value

    @field_validator("test_now", "test_now_at")
    @classmethod
    def _with_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("THERABEE_TEST_NOW(_AT) needs an offset (e.g. 2026-11-29T10:00:00+00:00)")
        return value

    @model_validator(mode="after")
    def _test_clock_only_when_testing(self) -> Settings:
        if self.test_now is not None and not self.testing:
            raise ValueError("THERABEE_TEST_NOW is for test runs only: it needs THERABEE_TESTING=1")
        return self

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def zoom_enabled(self) -> bool:
        return bool(self.zoom_account_id and self.zoom_client_id and self.zoom_client_secret)


@lru_cache
def get_settings() -> Settings:
    return Settings()


# What people type for "this machine". Not [::1]: a CSP source list cannot name an IPv6
# address (CSP 3 host-source), so the browser would drop it with an error.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def browser_origins(public_url: str) -> list[str]:
    """The origins (RFC 6454: scheme://host[:port]) a browser may load the UI from.

    The public URL's own origin; when it is a loopback host (the default set-up,
    http://localhost:3000) also its loopback aliases on the same scheme and port, since
    people type either localhost or 127.0.0.1. A real deployment allows only its own.
    """
    parts = urlsplit(public_url)
    own = f"{parts.scheme}://{parts.netloc}"
    if parts.hostname not in LOOPBACK_HOSTS:
        return [own]
    port = f":{parts.port}" if parts.port else ""
    return [own] + [f"{parts.scheme}://{alias}{port}" for alias in LOOPBACK_HOSTS
                    if f"{parts.scheme}://{alias}{port}" != own]
