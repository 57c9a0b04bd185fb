"""The outer FastAPI app given to Reflex's `api_transformer`; v1 lives at /api/v1."""

from __future__ import annotations

from fastapi import FastAPI

from therabee.api import problems, v1
from therabee.api.security import SecureHeaders


def create_app() -> FastAPI:
    outer = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    outer.mount("/api/v1", v1.create_v1())
    problems.install(outer)  # what no mount matches (e.g. a newline in a path) is problem+json too
    outer.add_middleware(SecureHeaders)  # UI and API alike: Reflex mounts under this app
    return outer
