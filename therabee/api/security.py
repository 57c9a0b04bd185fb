"""Security basics of every HTTP answer (UI and API) and the sign-in brake's 429.

`SecureHeaders` wraps the outer app, so Reflex's pages, assets and `/api/v1` all get:
nosniff, no framing (X-Frame-Options and CSP frame-ancestors), no referrer (feed links
carry a secret), a Content-Security-Policy the Reflex UI runs under, and HSTS when
THERABEE_PUBLIC_URL is https. No CORS headers are added here: cross-origin callers are
refused by default (Reflex's own CORS is set to the public URL in rxconfig.py).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from therabee.api.problems import problem
from therabee.services.ratelimit import RateLimited
from therabee.settings import browser_origins, get_settings

HSTS = "max-age=63072000; includeSubDomains"


def websocket_origins(public_url: str) -> list[str]:
    """The ws(s):// origins of Reflex's event channel, one per origin the UI may be
    loaded from (`browser_origins`)."""
    return [origin.replace("http", "ws", 1) for origin in browser_origins(public_url)]


def content_security_policy(public_url: str) -> str:
    # Reflex's build inlines a small boot script and Radix sets inline styles; the API
    # docs' Swagger UI is served from our own origin (therabee/api/docs.py).
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src 'self' {' '.join(websocket_origins(public_url))}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(public_url: str) -> list[tuple[bytes, bytes]]:
    headers = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
        "content-security-policy": content_security_policy(public_url),
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
        extra = security_headers(self.public_url or get_settings().public_url)
        names = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, with_headers)


class RefuseNul:
    """ASGI middleware: 422 for a NUL character in the path, query or body.

    PostgreSQL text cannot hold NUL, so such input would otherwise fail deep in a query;
    no field of ours can legitimately contain one. The body is read once (BodyLimit,
    outside this, bounds it) and handed on unchanged, so signatures still verify.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").lower()
        if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
            await _refuse_nul(send, "path" if "\x00" in scope.get("path", "") else "query")
            return
        messages, more = [], True
        while more:
            message = await receive()
            messages.append(message)
            more = message["type"] == "http.request" and message.get("more_body", False)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if b"\x00" in body or b"\\u0000" in body:
            await _refuse_nul(send, "body")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse_nul(send: Send, field_name: str) -> None:
    body = problem(422, "Invalid request", f"{field_name}: contains a NUL character",
                   errors=[{"field": field_name, "message": "contains a NUL character"}]).body
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
    response = problem(exc.status, exc.title, exc.detail)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install(app: FastAPI) -> None:
    """The 429 problem+json with Retry-After (more specific than the ServiceError handler),
    and NUL characters refused at the door (install before the body limit, which wraps it)."""
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_middleware(RefuseNul)


def client_address(request: Request) -> str | None:
    """The peer address as the ASGI server saw it (no forwarded headers are trusted)."""
    return request.client.host if request.client else None
