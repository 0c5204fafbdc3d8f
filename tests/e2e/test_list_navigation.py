"""Going to a contact and back keeps the list as it was: its filters, its page (numbered, first and
last always linked) and where it was scrolled to; the contact page's "Contacts" link leads back
to that same list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from contacts.factories import ContactFactory

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#results tr[data-contact-id]"


@pytest.fixture
def three_pages_of_leads(workspace) -> None:
    """120 leads: three pages of 50 (CONTACTS_PAGE_SIZE), and 12 others."""
    ContactFactory.create_batch(120, workspace=workspace, status="lead")
    ContactFactory.create_batch(12, workspace=workspace, status="archived")


def scroll_y(page: Page) -> float:
    return page.evaluate("() => window.scrollY")


def test_back_from_a_contact_returns_to_the_same_filters_page_and_scroll(
    open_page, workspace, three_pages_of_leads
):
    page = open_page(f"/w/{workspace.slug}/contacts/")
    page.get_by_label("Status").select_option("lead")
    expect(page.locator(".results__count")).to_have_text("120 of 132 match")

    # Page numbers: the first and the last always, the current one marked.
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages.get_by_role("link", name="Page 1", exact=True)).to_have_attribute("aria-current", "page")
    expect(pages.get_by_role("link", name="Page 3 (last)")).to_be_visible()
    pages.get_by_role("link", name="Page 2").click()
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/contacts/\?status=lead&page=2$"))
    expect(page.locator(".pagination__info")).to_contain_text("Page 2 of 3")
    expect(pages.get_by_role("link", name="Page 1 (first)")).to_be_visible()
    list_url = page.url

    # Down the page, open a contact.
    row = page.locator(ROWS).nth(35)
    row.scroll_into_view_if_needed()
    page.mouse.wheel(0, 120)
    page.wait_for_timeout(200)
    scrolled = scroll_y(page)
    assert scrolled > 600
    name = row.locator(".person__name").inner_text()
    row.locator("a.person").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()

    # The breadcrumb leads back to this list, not to the first page of everyone.
    crumb = page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Contacts")
    expect(crumb).to_have_attribute("href", f"/w/{workspace.slug}/contacts/?status=lead&page=2")

    # The browser's Back: the same address, rows, filter and scroll position.
    page.go_back()
    expect(page).to_have_url(list_url)
    expect(page.locator(".pagination__info")).to_contain_text("Page 2 of 3")
    expect(page.get_by_label("Status")).to_have_value("lead")
    page.wait_for_function("(y) => Math.abs(window.scrollY - y) < 40", arg=scrolled)

    # The breadcrumb from the contact page (and on from its edit form) does the same.
    page.go_forward()
    page.get_by_role("link", name="Edit").click()
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Contacts").click()
    expect(page).to_have_url(list_url)
    expect(page.locator(".pagination__info")).to_contain_text("Page 2 of 3")
    expect(page.get_by_label("Status")).to_have_value("lead")


def test_the_breadcrumb_ignores_a_remembered_address_that_is_not_a_list_query(open_page, workspace, contact):
    page = open_page(f"/w/{workspace.slug}/contacts/{contact.id}/")
    page.evaluate(
        """(key) => sessionStorage.setItem(key, "//evil.example/")""",
        f"contacts.list:/w/{workspace.slug}/contacts/",
    )
    page.reload()
    crumb = page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Contacts")
    expect(crumb).to_have_attribute("href", f"/w/{workspace.slug}/contacts/")
