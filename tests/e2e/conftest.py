"""Browser tests: Playwright's sync API driving Debian's Chromium against the app under Daphne."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db.models import F

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse the
# database calls the test makes (fixtures, assertions) from that thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, Page, expect, sync_playwright

from contacts import services
from contacts.factories import ContactFactory
from contacts.jobs.models import ActivationRun, RunStatus
from contacts.models import Contact, ContactStatus, Workspace
from tests.e2e.helpers import sign_in_as
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
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
COMPANIES = ["Initech", "Globex", "Umbrella", "Stark Industries", "Wayne Enterprises", "Hooli", ""]
TAGS = ["vip", "newsletter", "partner", "trade fair", "supplier", "prospect"]


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


@pytest.fixture
def annabel(workspace) -> Contact:
    """A workspace like one in use: 40 contacts over companies, tags, statuses and the last two
    years; and Annabel Leeds (Initech, a lead, four tags), the contact whose pages the tests open."""
    now = datetime.now(UTC)
    statuses = [ContactStatus.LEAD, ContactStatus.ACTIVE, ContactStatus.LEAD, ContactStatus.ARCHIVED]
    for number in range(40):
        contact = ContactFactory(
            workspace=workspace,
            company=COMPANIES[number % len(COMPANIES)],
            status=statuses[number % 4],
            tags=[tag for position, tag in enumerate(TAGS) if number % (position + 2) == 0],
        )
        Contact.objects.filter(pk=contact.pk).update(created_at=now - timedelta(days=number * 19))
    annabel = ContactFactory(
        workspace=workspace,
        first_name="Annabel",
        last_name="Leeds",
        email="annabel.leeds@example.com",
        company="Initech",
        job_title="Head of Purchasing",
        status=ContactStatus.LEAD,
        tags=["vip", "partner", "trade fair", "newsletter"],
    )
    Workspace.objects.filter(pk=workspace.pk).update(change_version=F("change_version") + 1)
    return annabel


def start_activation(workspace: Workspace, user) -> ActivationRun:
    """An activation run under way (no worker: its panel stays as it is), shown on the list."""
    now = datetime.now(UTC)
    run = ActivationRun.objects.create(
        workspace=workspace, created_by=user, status=RunStatus.RUNNING, total=40, sent=14, failed=1,
        started_at=now, heartbeat_at=now,
    )  # fmt: skip
    # Made here rather than by the service, so it moves the workspace's version as the service does:
    # the list page reads runs only when its cached run ends (per version) may show one.
    services.workspace_bump_version(workspace=workspace)
    return run


@pytest.fixture
def open_page(browser: Browser, live_app: AppServer, workspace_admin) -> Iterator[Callable[..., Page]]:
    """`open_page(path, theme="light", viewport=DESKTOP)`: a new browser context signed in as a
    workspace admin (a member's pages, plus the rows' checkboxes for bulk activation), its system
    colour scheme `theme`; the page once its live updates are connected."""
    contexts = []

    def open_page(path: str, theme: str = "light", viewport: dict[str, int] = DESKTOP) -> Page:
        context = sign_in_as(
            browser.new_context(viewport=viewport, locale="en-GB", color_scheme=theme),
            workspace_admin.user,
            live_app.base,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(live_app.base + path)
        page.wait_for_load_state("load")
        expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
        return page

    yield open_page
    for context in contexts:
        context.close()
