"""Searching in a real browser: `/` focuses the box, typing narrows the list without a reload, best
match first, what matched marked, a notes match explained, hostile input harmless."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from contacts.factories import ContactFactory
from tests.e2e.helpers import sign_in_as
from tests.servers import AppServer

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def person(workspace, first: str, last: str, **fields):
    defaults = {"email": None, "phone": "", "company": "", "job_title": "", "notes": ""}
    return ContactFactory(workspace=workspace, first_name=first, last_name=last, **{**defaults, **fields})


def test_typing_narrows_the_list_best_match_first_with_matches_marked(
    browser: Browser, live_app: AppServer, workspace, member, artifacts
):
    person(workspace, "Zed", "Harbour", notes="Ask Annabel about the Porto order")
    person(workspace, "Anna", "Belle", company="Annabel Foods")
    person(workspace, "Annabel", "Leeds")
    person(workspace, "Bob", "Other")
    context = sign_in_as(
        browser.new_context(viewport={"width": 1366, "height": 900}), member.user, live_app.base
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_app.base}/w/{workspace.slug}/contacts/")
    rows = page.locator("tbody tr[data-contact-id]")
    expect(rows).to_have_count(4)
    page.evaluate("() => { window.notReloaded = true; }")

    page.keyboard.press("/")
    box = page.locator("#search")
    expect(box).to_be_focused()
    page.keyboard.type("ANNAB", delay=40)

    # Name match, then company, then notes; no full-page load on the way.
    expect(rows).to_have_count(3)
    expect(rows.locator(".person__name")).to_have_text(["Annabel Leeds", "Anna Belle", "Zed Harbour"])
    assert page.evaluate("() => window.notReloaded") is True
    expect(rows.nth(0).locator("mark")).to_have_text(["Annab"])
    expect(rows.nth(1).locator("td[data-label=Company] mark")).to_have_text("Annab")
    expect(rows.nth(2).locator(".person__notes")).to_contain_text("Ask Annabel about the Porto order")
    assert "annab" in page.url.lower()
    page.screenshot(path=str(artifacts / "search-results.png"), full_page=True)

    box.fill('annab "lee*" (-')
    expect(rows).to_have_count(1)
    expect(rows.locator(".person__name")).to_have_text(["Annabel Leeds"])

    box.fill("🙂")
    expect(rows).to_have_count(0)
    expect(page.get_by_text("No contacts match")).to_be_visible()
    context.close()
