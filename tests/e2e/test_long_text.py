"""Long words never widen a page: an 86-character e-mail and an 80-letter first name.

For the list, the detail page (title and breadcrumb), the edit form, the flash message after
saving and the delete confirmation, at desktop, narrowest-table and phone width, the page is
never wider than the window: long text wraps, or ends in an ellipsis with the full text in its
`title`.
Screenshots land in test-artifacts/ (long-text-*.png) for people to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from contacts.factories import ContactFactory
from tests.e2e.test_contact_lifecycle import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LONG_EMAIL = "firstname.middlename.lastname.with.a.very.long.local.part@domain.example-company.co.uk"
LONG_FIRST_NAME = ("Wolfeschlegelsteinhausenbergerdorff" * 3)[:80]
LONG_NAME = f"{LONG_FIRST_NAME} Quinn"

VIEWPORTS = {
    "desktop": {"width": 1280, "height": 860},
    "narrowest-table": {"width": 900, "height": 860},  # below 900px the list is cards
    "phone": {"width": 390, "height": 844},
}


def assert_fits_the_window(page: Page, what: str) -> None:
    page.wait_for_load_state("load")  # measured with the stylesheet applied
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, window: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["window"], f"{what} is wider than the window: {widths}"


def test_the_test_data_is_as_long_as_promised():
    assert len(LONG_EMAIL) == 86
    assert len(LONG_FIRST_NAME) == 80 and LONG_FIRST_NAME.isalpha()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_long_name_and_email_never_widen_the_page(
    page: Page, live_app, workspace, member, artifacts, viewport
):
    ContactFactory(
        workspace=workspace,
        first_name=LONG_FIRST_NAME,
        last_name="Quinn",
        email=LONG_EMAIL,
        company="Initech",
        tags=["vip"],
    )
    ContactFactory(workspace=workspace, first_name="Ann", last_name="Short", email="ann@example.com")
    page.set_viewport_size(VIEWPORTS[viewport])
    base = live_app.url
    sign_in(page, base, member.user.username)

    # The list: the name wraps, the e-mail ends in an ellipsis and shows in full on hover.
    expect(page.locator(".results__count")).to_have_text("2 contacts")
    expect(page.locator(".person__name").first).to_have_text(LONG_NAME)
    expect(page.locator(".person__sub").first).to_have_attribute("title", LONG_EMAIL)
    assert_fits_the_window(page, "the list")
    page.screenshot(path=artifacts / f"long-text-list-{viewport}.png", full_page=True)

    # The detail page: the title wraps, the breadcrumb ends in an ellipsis with the full name.
    page.get_by_role("link", name=re.compile(f"^{LONG_NAME}")).click()  # not the row's "E-mail …" action
    expect(page.get_by_role("heading", name=LONG_NAME, level=1)).to_be_visible()
    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumb.locator("[aria-current=page]")).to_have_attribute("title", LONG_NAME)
    expect(page.get_by_role("link", name=LONG_EMAIL)).to_be_visible()
    assert_fits_the_window(page, "the detail page")
    page.screenshot(path=artifacts / f"long-text-detail-{viewport}.png", full_page=True)

    # The edit form, and the flash message after saving.
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("First name")).to_have_value(LONG_FIRST_NAME)
    assert_fits_the_window(page, "the edit form")
    page.get_by_label("Job title").fill("Head of Buying")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".message")).to_have_text(f"Saved {LONG_NAME}.")
    assert_fits_the_window(page, "the flash message")
    page.screenshot(path=artifacts / f"long-text-saved-{viewport}.png", full_page=True)

    # The delete confirmation names the contact in its breadcrumb, title and text.
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name=f"Delete {LONG_NAME}?")).to_be_visible()
    expect(breadcrumb.get_by_role("link", name=LONG_NAME)).to_have_attribute("title", LONG_NAME)
    assert_fits_the_window(page, "the delete confirmation")
    page.screenshot(path=artifacts / f"long-text-delete-{viewport}.png", full_page=True)
