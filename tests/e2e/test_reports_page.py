"""The reports page in a real browser: the charts show, fit a phone, obey the CSP, and a bar opens
the list filtered by it.

Screenshots land in test-artifacts/ (reports-*.png) for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from contacts.factories import ContactFactory
from contacts.models import Contact, ContactStatus, Workspace
from tests.e2e.helpers import sign_in_as
from tests.servers import AppServer

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
LONG_COMPANY = "Consolidated Intercontinental Widget Manufacturing and Distribution Holdings Limited"
# Company → how many contacts: more than 20 companies, so the chart ends in "Others".
COMPANIES = {
    "Initech": 7,
    "Globex": 5,
    LONG_COMPANY: 4,
    "Umbrella": 4,
    "Stark Industries": 3,
    "Wayne Enterprises": 3,
    **{f"Firm {letter}": 1 for letter in "ABCDEFGHIJKLMNOPQR"},
}
TAGS = ["vip", "newsletter", "partner", "trade fair", "supplier", "prospect", "follow-up"]


@pytest.fixture
def reported(workspace) -> None:
    """A workspace with contacts spread over companies, tags, statuses and the last 24 months."""
    now = datetime.now(UTC)
    statuses = [ContactStatus.LEAD, ContactStatus.ACTIVE, ContactStatus.LEAD, ContactStatus.ARCHIVED]
    number = 0
    for company, count in COMPANIES.items():
        for _ in range(count):
            tags = [tag for position, tag in enumerate(TAGS) if number % (position + 2) == 0]
            contact = ContactFactory(
                workspace=workspace, company=company, tags=tags, status=statuses[number % 4]
            )
            # Spread over the months, some months left empty.
            when = now - timedelta(days=(number * 37) % 700)
            Contact.objects.filter(pk=contact.pk).update(created_at=when)
            number += 1
    ContactFactory.create_batch(4, workspace=workspace, company="", status=ContactStatus.LEAD)
    Workspace.objects.filter(pk=workspace.pk).update(change_version=F("change_version") + 1)


@pytest.fixture
def open_reports(browser: Browser, live_app: AppServer, member) -> Iterator:
    contexts = []
    problems: list[str] = []

    def open_reports(workspace, viewport: str) -> Page:
        context = sign_in_as(
            browser.new_context(viewport=VIEWPORTS[viewport], locale="en-GB", color_scheme="light"),
            member.user,
            live_app.base,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or message.type == "error":
                problems.append(message.text)

        page.on("console", on_console)
        page.goto(f"{live_app.base}/w/{workspace.slug}/reports/")
        page.wait_for_load_state("load")
        return page

    open_reports.problems = problems
    yield open_reports
    for context in contexts:
        context.close()


def assert_fits_the_window(page: Page) -> None:
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, window: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["window"], widths


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_charts_show_and_fit_the_window(open_reports, workspace, reported, artifacts, viewport):
    page = open_reports(workspace, viewport)

    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    for name in (
        "Contacts per company",
        "Most common tags",
        "Contacts by status",
        "Contacts added per month",
    ):
        expect(page.get_by_role("group", name=name, exact=True)).to_be_visible()
    months = page.locator("svg.chart--columns" if viewport == "desktop" else "svg.chart--narrow-only")
    expect(months).to_be_visible()
    expect(months.locator("a")).to_have_count(24)
    companies = page.get_by_role("group", name="Contacts per company", exact=True)
    expect(companies.get_by_role("link")).to_have_count(20)  # "Others" is not a link
    expect(companies.get_by_text("Others", exact=True)).to_be_visible()
    # The long name is cut inside the chart; its full name is the bar's title and link name.
    expect(companies.get_by_role("link", name=f"{LONG_COMPANY}: 4 contacts")).to_be_visible()
    assert_fits_the_window(page)
    chart_width = companies.bounding_box()["width"]
    assert chart_width <= VIEWPORTS[viewport]["width"]
    page.screenshot(path=str(artifacts / f"reports-{viewport}.png"), full_page=True)
    assert not open_reports.problems


def test_a_company_bar_opens_the_list_filtered_by_it(open_reports, workspace, reported):
    page = open_reports(workspace, "desktop")

    page.get_by_role("group", name="Contacts per company").get_by_role(
        "link", name="Initech: 7 contacts"
    ).click()

    expect(page).to_have_url(re.compile(r"/contacts/\?company=Initech$"))
    expect(page.locator("[data-count] strong")).to_have_text("7")
    expect(page.locator("#filter-company")).to_have_value("Initech")


def test_a_month_column_opens_the_list_of_that_month(open_reports, workspace, reported):
    page = open_reports(workspace, "desktop")
    column = page.locator("svg.chart--columns a").last  # the current month
    label = column.get_attribute("aria-label")
    count = re.search(r": (\d+) contacts?$", label).group(1)

    column.click()

    expect(page).to_have_url(re.compile(r"/contacts/\?created=\d{4}-\d{2}$"))
    # The filter's change event goes nowhere until the page's scripts have run.
    page.wait_for_load_state("load")
    expect(page.locator("[data-count] strong")).to_have_text(count)
    expect(page.get_by_label("Added in")).to_be_visible()
    # "Any month" takes the month filter off again.
    page.get_by_label("Added in").select_option("")
    expect(page.locator("[data-count] strong")).to_have_text(str(sum(COMPANIES.values()) + 4))
