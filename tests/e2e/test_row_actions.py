"""Each row of the list offers, on hover and on keyboard focus: e-mail, copy the address, call, edit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def opacity(locator) -> str:
    return locator.evaluate("(element) => getComputedStyle(element).opacity")


def test_a_rows_actions_show_on_hover_and_focus_and_do_what_they_say(
    open_page, live_app, workspace, annabel, artifacts
):
    page = open_page(f"/w/{workspace.slug}/contacts/?search=annabel")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_app.base)
    row = page.locator("#results tr[data-contact-id]").first
    actions = row.locator(".row-actions")
    assert opacity(actions) == "0"

    row.hover()
    assert opacity(actions) == "1"
    expect(actions.get_by_role("link", name="E-mail Annabel Leeds")).to_have_attribute(
        "href", "mailto:annabel.leeds@example.com"
    )
    expect(actions.get_by_role("link", name="Call Annabel Leeds")).to_have_attribute(
        "href", "tel:" + annabel.phone.replace(" ", "")
    )

    # Copy: the address is on the clipboard, the button says so, and so does a status line.
    actions.get_by_role("button", name="Copy the e-mail address of Annabel Leeds").click()
    expect(page.locator("#copy-status")).to_have_text("Copied annabel.leeds@example.com")
    expect(actions.locator("[data-copied]")).to_have_count(1)
    assert page.evaluate("() => navigator.clipboard.readText()") == "annabel.leeds@example.com"
    page.screenshot(path=artifacts / "row-actions-copied.png")

    # From the keyboard: the actions show once the focus is in the row.
    page.mouse.move(0, 0)
    expect(actions.locator("[data-copied]")).to_have_count(0)
    page.locator("#search").focus()
    assert opacity(actions) == "0"
    row.locator("input[data-select-row]").focus()
    page.keyboard.press("Tab")  # from the row's checkbox to its name
    expect(row.locator("a.person")).to_be_focused()
    assert opacity(actions) == "1"
    actions.get_by_role("link", name="Edit Annabel Leeds").click()
    expect(page).to_have_url(re.compile(rf"/contacts/{annabel.id}/edit/$"))


def test_on_a_phone_the_actions_are_always_there(open_page, workspace, annabel):
    page = open_page(f"/w/{workspace.slug}/contacts/?search=annabel", viewport=PHONE)
    actions = page.locator("#results tr[data-contact-id]").first.locator(".row-actions")
    assert opacity(actions) == "1"
    expect(actions.get_by_role("link", name="Call Annabel Leeds")).to_be_visible()
    box = actions.get_by_role("link", name="Call Annabel Leeds").bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24  # WCAG 2.5.8 target size
