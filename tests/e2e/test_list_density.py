"""The list as a dense work surface: compact rows by default (at least 15 above the fold at
1366x900), a comfortable choice remembered in the browser, tags on one line with "+N", and a table
header that stays in view while the rows scroll."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#results tr[data-contact-id]"


def rows_in_view(page: Page) -> int:
    """Rows whose whole box is inside the window, as the page first shows it."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter((row) => {
            const box = row.getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0;
        }).length""",
        ROWS,
    )


def assert_fits_the_window(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


def test_compact_rows_show_at_least_15_contacts_above_the_fold(open_page, workspace, annabel, artifacts):
    page = open_page(f"/w/{workspace.slug}/contacts/")
    expect(page.locator(ROWS)).to_have_count(41)
    density = page.get_by_role("group", name="Rows")
    expect(density.get_by_role("radio", name="Compact")).to_be_checked()

    assert rows_in_view(page) >= 15
    assert_fits_the_window(page)
    page.screenshot(path=artifacts / "list-compact.png")

    density.get_by_role("radio", name="Comfortable").check()
    expect(page.locator("html")).to_have_attribute("data-density", "comfortable")
    comfortable = rows_in_view(page)
    assert 5 <= comfortable < 15
    assert_fits_the_window(page)
    page.screenshot(path=artifacts / "list-comfortable.png")

    # Remembered in this browser, and applied before the rows are drawn.
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-density", "comfortable")
    expect(page.get_by_role("group", name="Rows").get_by_role("radio", name="Comfortable")).to_be_checked()
    assert rows_in_view(page) == comfortable
    page.get_by_role("group", name="Rows").get_by_role("radio", name="Compact").check()
    assert rows_in_view(page) >= 15


@pytest.mark.parametrize("density", ["compact", "comfortable"])
def test_tags_stay_on_one_line_with_the_rest_counted(open_page, workspace, annabel, density):
    page = open_page(f"/w/{workspace.slug}/contacts/?search=annabel")
    if density == "comfortable":
        page.get_by_role("group", name="Rows").get_by_role("radio", name="Comfortable").check()
    tags = page.locator(ROWS).first.locator(".chips")

    # Annabel's four tags, in name order: two shown, "+2" for the others (named in its title).
    expect(tags.locator(".chip")).to_have_text(["newsletter", "partner", "+2and trade fair, vip"])
    expect(tags.locator(".chip--more")).to_have_attribute("title", "trade fair, vip")
    tops = tags.locator(".chip").evaluate_all(
        "(chips) => chips.map((chip) => chip.getBoundingClientRect().top)"
    )
    assert len(set(tops)) == 1, tops
    for name in ("newsletter", "partner", "trade fair", "vip"):
        expect(tags).to_contain_text(name)  # all of them for screen readers


def test_the_table_header_stays_in_view_while_the_rows_scroll(open_page, workspace, annabel):
    page = open_page(f"/w/{workspace.slug}/contacts/")
    page.mouse.wheel(0, 700)
    page.wait_for_function("() => window.scrollY >= 600")

    header = page.locator(".contacts-table thead th").first.bounding_box()
    topbar = page.locator(".topbar").bounding_box()
    assert abs(header["y"] - (topbar["y"] + topbar["height"])) <= 1.5, (header, topbar)
    # The rows scroll under it: the first row is above the window by now.
    assert page.locator(ROWS).first.bounding_box()["y"] < 0
