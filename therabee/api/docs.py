"""The interactive API docs, with Swagger UI served from our own origin (no CDN: the
docs work offline and under the same Content-Security-Policy as everything else)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

PREFIX = "/api/v1"
ASSETS = "/docs-assets"


def install(app: FastAPI) -> None:
    # swagger-ui-py ships Swagger UI 5 (OpenAPI 3.1, which FastAPI writes)
    app.mount(ASSETS, StaticFiles(directory=str(files("swagger_ui") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url=f"{PREFIX}{app.openapi_url}", title=f"{app.title} — docs",
            swagger_js_url=f"{PREFIX}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}{ASSETS}/favicon-32x32.png")
