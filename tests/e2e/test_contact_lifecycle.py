"""A member signs in, creates a contact, finds it with the search box, edits it and deletes it.

Screenshots land in test-artifacts/ for people to look at (list, detail, form with errors,
empty state, phone-width list).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from contacts.factories import DEFAULT_PASSWORD, ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base_url: str, username: str, screenshot_to=None) -> list[Response]:
    """Sign in through the real login form; returns the responses the landing page loaded."""
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"{base_url}/accounts/login/")
    if screenshot_to is not None:
        page.screenshot(path=screenshot_to)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    return responses


def assets_loaded(responses: list[Response]) -> dict[str, int]:
    return {
        name: response.status
        for response in responses
        for name in ("css/app.css", "vendor/htmx/htmx.min.js", "js/app.js")
        if response.url.endswith(name)
    }


def test_contact_lifecycle(page: Page, live_app, workspace, member, artifacts):
    base = live_app.url
    # Script errors (including htmx's own, e.g. a bad hx-trigger) would otherwise go unnoticed.
    script_errors: list[str] = []
    page.on(
        "console", lambda message: script_errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: script_errors.append(str(error)))

    # Sign in: an empty workspace says what to do, and the stylesheet and scripts are served.
    responses = sign_in(page, base, member.user.username, screenshot_to=artifacts / "00-login.png")
    expect(page).to_have_url(f"{base}/w/acme-sales/contacts/")
    assert assets_loaded(responses) == {"css/app.css": 200, "vendor/htmx/htmx.min.js": 200, "js/app.js": 200}
    expect(page.get_by_role("heading", name="No contacts yet")).to_be_visible()
    page.screenshot(path=artifacts / "01-empty-state.png", full_page=True)

    # Colleagues' contacts appear (with tags the form will suggest).
    for first, last, company, tags in [
        ("Bruno", "Adams", "Acme", ["vip", "supplier"]),
        ("Chloé", "Zola", "Umbrella", ["partner"]),
        ("Dmitri", "Ivanov", "Globex", ["prospect", "event 2026"]),
        ("Ellen", "Ripley", "Weyland", []),
        ("Farid", "Haddad", "Initech", ["vip"]),
    ]:
        ContactFactory(workspace=workspace, first_name=first, last_name=last, company=company, tags=tags)
    page.reload()
    expect(page.locator(".results__count")).to_have_text("5 contacts")
    page.screenshot(path=artifacts / "02-list.png", full_page=True)

    # The "n" shortcut opens the new-contact form; bad input is refused next to each field.
    page.keyboard.press("n")
    expect(page).to_have_url(f"{base}/w/acme-sales/contacts/new/")
    page.get_by_label("E-mail").fill("not-an-email")
    page.get_by_label("Phone").fill("call me")
    page.get_by_label("Tags").fill("ok, !!bad")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_text("The contact was not saved.")).to_be_visible()
    expect(page.locator("#id_first_name_error")).to_have_text("This field is required.")
    expect(page.locator("#id_email_error")).to_contain_text("Enter a valid email address.")
    expect(page.locator("#id_phone_error")).to_contain_text("Enter a phone number")
    expect(page.locator("#id_tags_error")).to_contain_text("Tag “!!bad”")
    expect(page.get_by_label("First name")).to_be_focused()
    page.screenshot(path=artifacts / "03-form-with-errors.png", full_page=True)

    # Corrected, with a tag picked from the suggestions.
    page.get_by_label("First name").fill("Annabel")
    page.get_by_label("Last name").fill("Leeds")
    page.get_by_label("E-mail").fill("annabel.leeds@example.com")
    page.get_by_label("Phone").fill("+44 20 7946 0958")
    page.get_by_label("Company").fill("Initech")
    page.get_by_label("Job title").fill("Head of Buying")
    page.get_by_label("Tags").fill("newsletter, v")
    page.get_by_role("button", name="Add tag vip").click()
    expect(page.get_by_label("Tags")).to_have_value("newsletter, vip, ")
    page.get_by_label("Notes").fill("Met at the spring fair.\nPrefers e-mail.")
    page.get_by_role("button", name="Create contact").click()

    expect(page.get_by_role("heading", name="Annabel Leeds", level=1)).to_be_visible()
    expect(page.get_by_text("Saved Annabel Leeds.")).to_be_visible()
    expect(page.get_by_label("Tags of Annabel Leeds").locator(".chip")).to_have_count(2)
    # Stored in UTC, shown in the viewer's zone (Tokyo): the " UTC" fallback text is gone.
    expect(page.locator("time").first).not_to_contain_text("UTC")

    # The in-place tag editor adds a tag without leaving the page.
    page.get_by_label("Add tags").fill("partner")
    page.get_by_label("Add tags").press("Enter")
    expect(page.get_by_label("Tags of Annabel Leeds").locator(".chip")).to_have_count(3)
    page.screenshot(path=artifacts / "04-detail.png", full_page=True)

    # Find her with the search box ("/" focuses it); HTMX swaps the results and keeps the address.
    with page.expect_navigation():  # waits for "load": the shortcut script is deferred
        page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Contacts").click()
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("ann lee")
    expect(page).to_have_url(re.compile(r"/w/acme-sales/contacts/\?search=ann\+lee$"))
    expect(page.locator(".results__count")).to_have_text("1 of 6 matches")
    expect(page.locator(".person__name")).to_have_text(["Annabel Leeds"])
    page.screenshot(path=artifacts / "05-list-search.png", full_page=True)

    # Back and forward keep the query: the address is the state.
    page.go_back()
    expect(page.locator(".results__count")).to_have_text("6 contacts")
    page.go_forward()
    expect(page.locator(".results__count")).to_have_text("1 of 6 matches")
    expect(page.locator("#search")).to_have_value("ann lee")

    # Edit her (her name link, not her row's "E-mail Annabel Leeds" and other actions).
    page.get_by_role("link", name=re.compile("^Annabel Leeds")).click()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Job title").fill("Purchasing Director")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved Annabel Leeds.")).to_be_visible()
    expect(page.get_by_text("Purchasing Director at Initech")).to_be_visible()

    # Delete her, after the confirmation page.
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete Annabel Leeds?")).to_be_visible()
    page.get_by_role("button", name="Delete contact").click()
    expect(page.get_by_text("Deleted Annabel Leeds.")).to_be_visible()
    page.locator("#search").fill("annabel")
    expect(page.get_by_role("heading", name="No contacts match")).to_be_visible()
    expect(page.locator(".results__count")).to_have_text("0 of 5 match")

    # A hand-edited address with nonsense in it: a clear message, the rest still works.
    page.goto(f"{base}/w/acme-sales/contacts/?status=bogus&sort=-created&page=x")
    expect(page.get_by_role("alert")).to_contain_text("There is no status “bogus”")
    expect(page.locator(".person__name")).to_have_count(5)
    page.screenshot(path=artifacts / "07-bad-query.png", full_page=True)

    # On a phone the table becomes cards.
    page.goto(f"{base}/w/acme-sales/contacts/")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".contacts-table thead")).to_be_hidden()
    page.screenshot(path=artifacts / "06-list-phone.png", full_page=True)

    assert script_errors == []
