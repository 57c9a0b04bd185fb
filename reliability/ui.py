"""The Reflex UI under the security headers, in Chromium: no console errors, no CSP
violations, the headers on pages and assets, and Reflex's CORS open to the public URL only.

Starts the production build (`reflex run --env prod`) the way tests/e2e does, holding
/tmp/therabee-web.lock while it runs: the .web build directory is shared.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import httpx

from reliability.access import check_headers
from tests.e2e.conftest import CHROMIUM_ARGS, _app_env, _free_port, _stop, _wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
LOCK = Path("/tmp/therabee-web.lock")
PAGES = ["/", "/signin", "/signup"]


def _visit(base_url: str) -> dict:
    from playwright.sync_api import sync_playwright

    errors, violations, statuses = [], [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=base_url)
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
            for path in PAGES:
                response = page.goto(path, wait_until="networkidle")
                statuses[path] = response.status if response else None
                page.wait_for_timeout(500)  # the event websocket connects after load
            connected = page.evaluate("() => document.body.innerText.length") > 0
            context.close()
        finally:
            browser.close()
    return {"console_errors": errors[:10], "csp_violations": violations[:10], "statuses": statuses,
            "rendered": connected}


def ui_under_csp(env) -> dict:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = env.workdir / "reflex.log"
    app_env = _app_env(env.database_url, base_url)
    app_env.pop("THERABEE_REDIS_URL", None)  # one process; Redis would start 2×cores+1 workers
    app_env["THERABEE_JWT_SECRET"] = env.jwt_secret
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with log.open("w") as out:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod",
                 "--frontend-port", str(port), "--backend-port", str(port)],
                cwd=ROOT, env=app_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_until_serving(process, base_url, log)
            seen = _visit(base_url)
            with httpx.Client(base_url=base_url, timeout=10) as http:
                checked = {path: check_headers(http.get(path)) for path in PAGES + ["/favicon.svg", "/api/v1/health"]}
                evil = http.options("/api/v1/series", headers={"Origin": "https://evil.example",
                                                                "Access-Control-Request-Method": "POST"})
                own = http.options("/api/v1/series", headers={"Origin": base_url,
                                                               "Access-Control-Request-Method": "POST"})
        finally:
            _stop(process)
    figures = {**seen, "missing_headers": {p: w for p, w in checked.items() if w},
               "cors_evil_origin_allowed": evil.headers.get("access-control-allow-origin"),
               "cors_public_url_allowed": own.headers.get("access-control-allow-origin")}
    ok = (not seen["console_errors"] and not seen["csp_violations"] and seen["rendered"]
          and all(s == 200 for s in seen["statuses"].values()) and not figures["missing_headers"]
          and figures["cors_evil_origin_allowed"] is None and figures["cors_public_url_allowed"] == base_url)
    return {"figures": figures, "ok": ok}
