"""The top bar on a phone (390x844): one row (brand, workspace switcher, live dot, a menu button),
nothing wider than the window; the menu holds the theme switch and the account. On a desktop the
same items stand in the bar itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from contacts.factories import MembershipFactory, WorkspaceFactory
from contacts.models import Role
from tests.e2e.conftest import PHONE
from tests.e2e.helpers import sign_in_as

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_one_row_and_nothing_wider(page: Page) -> None:
    bar = page.locator(".topbar").bounding_box()
    assert bar["height"] <= 56, bar  # one row: the 52px bar and its border
    visible = page.locator(".topbar__inner > *:visible:not(.topbar__menu.is-open)")  # an open menu drops down
    for index in range(visible.count()):
        box = visible.nth(index).bounding_box()
        if box is None or box["width"] <= 1:  # a visually hidden text
            continue
        assert box["y"] >= bar["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"], box
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_on_a_phone_the_top_bar_is_one_row_with_a_menu(
    browser, live_app, workspace, annabel, artifacts, role
):
    # A long workspace name, a second workspace (the switcher) and, for the viewer, "Read-only".
    workspace.name = "Acme Sales and Marketing Europe"
    workspace.save()
    user = MembershipFactory(workspace=workspace, role=role).user
    MembershipFactory(workspace=WorkspaceFactory(name="Globex Procurement"), role=Role.MEMBER, user=user)
    context = sign_in_as(browser.new_context(viewport=PHONE, locale="en-GB"), user, live_app.base)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_app.base}/w/{workspace.slug}/contacts/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")

    menu_button = page.get_by_role("button", name="Menu")
    expect(menu_button).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    assert_one_row_and_nothing_wider(page)
    page.screenshot(path=artifacts / f"top-bar-phone-{role}.png")

    menu_button.click()
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("group", name="Colour theme")).to_be_visible()
    assert_one_row_and_nothing_wider(page)  # the menu opens over the page, the bar stays one row
    page.screenshot(path=artifacts / f"top-bar-phone-menu-{role}.png")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(menu_button).to_be_focused()

    # The workspace switcher still opens from the bar.
    page.locator(".switcher__button").click()
    expect(page.get_by_role("link", name="Globex Procurement")).to_be_visible()
    context.close()


def test_on_a_desktop_the_menus_items_stand_in_the_bar(open_page, workspace, annabel):
    page = open_page(f"/w/{workspace.slug}/contacts/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("group", name="Colour theme")).to_be_visible()
    assert page.locator(".topbar").bounding_box()["height"] <= 56
