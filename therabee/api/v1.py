"""API v1: the routers of API.md, problem+json errors, the body-size limit."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from therabee.api import docs, problems, routes_people, routes_practice, routes_series, routes_webhooks, security
from therabee.api.limits import BodyLimit
from therabee.services import calendar_feed, health
from therabee.services.errors import DATABASE_RETRY_AFTER_SECONDS
from therabee.settings import get_settings


def create_v1() -> FastAPI:
    app = FastAPI(title="Therabee API", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", servers=[{"url": "/api/v1"}],
                  description="Store the intent, not the future. See API.md for the contract.")
    problems.install(app)
    docs.install(app)
    security.install(app)
    app.include_router(routes_people.router)
    app.include_router(routes_series.router)
    app.include_router(routes_webhooks.router)
    app.include_router(routes_practice.router)

    @app.get("/calendar/{feed_token}.ics", tags=["feeds"])
    def calendar(feed_token: str) -> Response:
        return Response(calendar_feed.feed(feed_token), media_type="text/calendar; charset=utf-8")

    @app.get("/health", tags=["health"])
    def health_check() -> JSONResponse:
        report = health.report()  # each of db, redis, worker: "ok" or what is wrong with it
        if report["db"] == "ok":
            return JSONResponse(report)
        return JSONResponse(report, status_code=503,
                            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})

    app.add_middleware(BodyLimit, max_bytes=get_settings().max_body_bytes)
    return app
