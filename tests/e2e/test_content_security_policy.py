"""The Content-Security-Policy lets every page run, in Chromium, without a single violation.

The policy forbids inline and eval'd script; a page that still needed either would break silently
for users and only say so in the console, which is what this test reads.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from contacts.factories import DEFAULT_PASSWORD, ContactFactory, UserFactory
from tests.e2e.test_contact_lifecycle import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page: Page) -> list[str]:
    """CSP violations Chromium reports (console), and script errors they would cause."""
    found: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A 404 (the test's own missing page, the admin's favicon) is logged as an error too.
        not_found = "status of 404" in message.text
        if "Content Security Policy" in message.text or (message.type == "error" and not not_found):
            found.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(f"{page.url}: {error}"))
    return found


def _settled(page: Page) -> None:
    page.wait_for_load_state("networkidle")


def test_app_pages_run_under_the_policy_and_htmx_still_works(page, live_app, workspace, member, violations):
    contact = ContactFactory(workspace=workspace, first_name="Annabel", last_name="Leeds", tags=["vip"])
    ContactFactory(workspace=workspace, first_name="Bruno", last_name="Adams")
    base = live_app.url

    sign_in(page, base, member.user.username)  # the login page, then the list
    expect(page.locator(".results__count")).to_have_text("2 contacts")
    # The early script ran before the deferred ones: the page knows it is scripted.
    assert page.evaluate("document.documentElement.classList.contains('js')")

    # HTMX: typing swaps the results in place and keeps the address in step.
    page.locator("#search").fill("ann")
    expect(page).to_have_url(re.compile(r"\?search=ann$"))
    expect(page.locator(".person__name")).to_have_text(["Annabel Leeds"])
    _settled(page)

    page.goto(f"{base}/w/acme-sales/contacts/{contact.pk}/")
    expect(page.get_by_role("heading", name="Annabel Leeds", level=1)).to_be_visible()
    # The in-place tag editor (an HTMX form) still works.
    page.get_by_label("Add tags").fill("partner")
    page.get_by_label("Add tags").press("Enter")
    expect(page.get_by_label("Tags of Annabel Leeds").locator(".chip")).to_have_count(2)
    _settled(page)
    # Suggestions swapped in after a save: htmx settles attributes of the swapped elements, and
    # copying a `style` attribute would be inline style.
    page.get_by_label("Add tags").fill("p")
    expect(page.locator("[data-tag-suggestion]")).to_have_count(0)
    page.get_by_label("Add tags").fill("r&d, o'brien")
    page.get_by_label("Add tags").press("Enter")
    expect(page.get_by_label("Tags of Annabel Leeds").locator(".chip")).to_have_count(4)
    _settled(page)

    page.goto(f"{base}/w/acme-sales/contacts/new/")
    expect(page.get_by_label("First name")).to_be_visible()
    page.goto(f"{base}/no-such-page/")
    expect(page.get_by_role("heading", name="We can't find that page")).to_be_visible()
    _settled(page)

    assert violations == []


def test_the_admin_runs_under_the_apps_policy(page, live_app, workspace, violations):
    admin = UserFactory(username="ada-admin", is_staff=True, is_superuser=True)
    contact = ContactFactory(workspace=workspace, first_name="Annabel", last_name="Leeds")
    base = live_app.url

    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    for path in (
        "/admin/",
        "/admin/contacts/contact/",
        f"/admin/contacts/contact/{contact.pk}/change/",
        "/admin/auth/user/add/",
    ):
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, path
        _settled(page)

    # The admin's own scripts run: the navigation sidebar toggles.
    page.goto(f"{base}/admin/contacts/contact/")
    toggle = page.locator("#toggle-nav-sidebar")
    if toggle.count():
        toggle.click()

    assert violations == []


def test_the_api_docs_run_under_their_policy(page, live_app, db, violations):
    page.goto(f"{live_app.url}/api/docs/")

    # Swagger UI rendered the schema it fetched: its init script ran from a URL, not inline.
    expect(page.get_by_role("heading", name=re.compile("Contacts API"))).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    _settled(page)

    assert violations == []
