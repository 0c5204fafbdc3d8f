"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse the
# database calls the test makes (fixtures, assertions) from that thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _OneRequestAtATime:
    """Runs the WSGI app for one request at a time; connections are still accepted in threads.

    With SQLite's in-memory test database Django's live server hands every request thread the
    same connection; overlapping requests (HTMX cancels and re-sends while the user types) then
    fail with "database table is locked". Real servers use a connection per thread.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        with self.lock:
            return self.app(environ, start_response)


@pytest.fixture
def live_server(live_server):
    """pytest-django's live server, serving one request at a time (see `_OneRequestAtATime`)."""
    httpd = live_server.thread.httpd
    if not isinstance(httpd.get_app(), _OneRequestAtATime):
        httpd.set_app(_OneRequestAtATime(httpd.get_app()))
    return live_server


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # A time zone far from UTC shows that times are rewritten to the viewer's local time.
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="en-GB", timezone_id="Asia/Tokyo"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/ (gitignored): screenshots for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
