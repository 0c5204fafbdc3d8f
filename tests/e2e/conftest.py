"""Browser tests: Playwright's sync API driving Debian's Chromium against the app under Daphne."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse the
# database calls the test makes (fixtures, assertions) from that thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, Page, sync_playwright

from tests.servers import AppServer, app_server

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


@pytest.fixture
def live_app(tmp_path: Path, transactional_db, settings) -> Iterator[AppServer]:
    """The app under Daphne, HTTP and WebSockets, in production mode (DEBUG=0), on the test database.

    Instead of pytest-django's WSGI live_server, which cannot answer the pages' live-update sockets.
    This process signs sessions with the server's key, so `Client.force_login` cookies work there.
    """
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    production = {"DEBUG": "0", "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    with app_server(tmp_path / "daphne.log", env=production) as server:
        yield server


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
