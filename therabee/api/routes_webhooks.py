"""Webhooks from outside: Zoom's event notifications (signed; the raw body is verified)."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from therabee.api.problems import problem
from therabee.services import webhooks

router = APIRouter()


@router.post("/webhooks/zoom", tags=["webhooks"], include_in_schema=False)
async def zoom(request: Request) -> JSONResponse:
    raw = await request.body()  # the signature covers these exact bytes
    status, body = await run_in_threadpool(webhooks.handle_zoom, raw, request.headers)
    if status >= 400:
        return problem(status, HTTPStatus(status).phrase, body["detail"])
    return JSONResponse(body, status_code=status)
