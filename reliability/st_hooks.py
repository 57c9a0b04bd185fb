"""Schemathesis hooks (SCHEMATHESIS_HOOKS=reliability.st_hooks): every error is problem+json."""

import schemathesis

REQUIRED = {"type", "title", "status", "detail"}


@schemathesis.check
def problem_json(ctx, response, case):
    """A 4xx/5xx answer is application/problem+json with type, title, status and detail."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(f"{response.status_code} answered as {content_type!r}, not problem+json")
    body = response.json()
    missing = REQUIRED - set(body) if isinstance(body, dict) else REQUIRED
    if missing or body.get("status") != response.status_code:
        raise AssertionError(f"problem body lacks {sorted(missing)} or its status differs")
    return None
