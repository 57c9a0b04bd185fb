"""Security basics of every HTTP answer (UI and API) and the sign-in brake's 429.

`SecureHeaders` wraps the outer app, so Reflex's pages, assets and `/api/v1` all get:
nosniff, no framing (X-Frame-Options and CSP frame-ancestors), no referrer (feed links
carry a secret), a Content-Security-Policy the Reflex UI runs under, and HSTS when
THERABEE_PUBLIC_URL is https. No CORS headers are added here: cross-origin callers are
refused by default (Reflex's own CORS is set to the public URL in rxconfig.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from therabee.api.problems import problem
from therabee.services.ratelimit import RateLimited
from therabee.settings import get_settings

HSTS = "max-age=63072000; includeSubDomains"
# FastAPI's interactive docs load Swagger UI from its CDN; only that page may.
_DOCS_PATHS = ("/api/v1/docs", "/api/v1/docs/oauth2-redirect")
_DOCS_CDN = "https://cdn.jsdelivr.net"


def websocket_origin(public_url: str) -> str:
    """The ws(s):// origin of the public URL (Reflex's event channel)."""
    parts = urlsplit(public_url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


def content_security_policy(public_url: str, docs: bool = False) -> str:
    # Reflex's build inlines a small boot script and Radix sets inline styles.
    scripts = "'self' 'unsafe-inline'" + (f" {_DOCS_CDN}" if docs else "")
    styles = "'self' 'unsafe-inline'" + (f" {_DOCS_CDN}" if docs else "")
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        f"style-src {styles}",
        "img-src 'self' data: blob:" + (" https://fastapi.tiangolo.com" if docs else ""),
        "font-src 'self' data:",
        f"connect-src 'self' {websocket_origin(public_url)}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(path: str, public_url: str) -> list[tuple[bytes, bytes]]:
    headers = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
        "content-security-policy": content_security_policy(public_url, docs=path in _DOCS_PATHS),
    }
    if public_url.startswith("https://"):
        headers["strict-transport-security"] = HSTS
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class SecureHeaders:
    """ASGI middleware: the headers above on every HTTP response (set, never duplicated)."""

    def __init__(self, app: ASGIApp, public_url: str | None = None) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("path", ""), self.public_url or get_settings().public_url)
        names = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, with_headers)


async def _rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
    response = problem(exc.status, exc.title, exc.detail)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install(app: FastAPI) -> None:
    """The 429 problem+json with Retry-After (more specific than the ServiceError handler)."""
    app.add_exception_handler(RateLimited, _rate_limited)


def client_address(request: Request) -> str | None:
    """The peer address as the ASGI server saw it (no forwarded headers are trusted)."""
    return request.client.host if request.client else None
