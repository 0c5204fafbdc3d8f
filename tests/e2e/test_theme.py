"""The colour theme: it follows the system until the person picks light or dark in the top bar; the
choice is remembered in the browser and applied before the first paint (no flash of the other theme).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIGHT_BG = "rgb(246, 247, 251)"  # --bg of each theme (static/css/theme.css)
DARK_BG = "rgb(15, 18, 24)"
# Runs before the page's own scripts: what the first frame the browser draws will show.
FIRST_FRAME = """
requestAnimationFrame(() => {
  window.firstFrame = {
    theme: document.documentElement.getAttribute("data-theme"),
    background: getComputedStyle(document.documentElement).getPropertyValue("--bg").trim(),
  };
});
"""


def background(page: Page) -> str:
    return page.evaluate("() => getComputedStyle(document.body).backgroundColor")


def test_the_theme_follows_the_system_until_one_is_picked(open_page, workspace, contact):
    page = open_page(f"/w/{workspace.slug}/contacts/", "dark")
    switch = page.get_by_role("group", name="Colour theme")
    expect(switch.get_by_role("radio", name="System")).to_be_checked()
    assert background(page) == DARK_BG

    page.emulate_media(color_scheme="light")  # the system changes: the page follows at once
    assert background(page) == LIGHT_BG

    switch.get_by_role("radio", name="Dark").check()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == DARK_BG
    switch.get_by_role("radio", name="Light").check()
    page.emulate_media(color_scheme="dark")  # a picked theme stays, whatever the system says
    assert background(page) == LIGHT_BG

    switch.get_by_role("radio", name="System").check()
    expect(page.locator("html")).not_to_have_attribute("data-theme", "light")
    assert background(page) == DARK_BG
    assert page.evaluate("() => localStorage.getItem('contacts.theme')") is None


def test_a_picked_theme_is_remembered_and_drawn_from_the_first_frame(open_page, workspace, annabel):
    page = open_page(f"/w/{workspace.slug}/contacts/", "light")
    page.get_by_role("group", name="Colour theme").get_by_role("radio", name="Dark").check()
    page.context.add_init_script(FIRST_FRAME)

    # Another page of the app, then the same one again: dark from the first frame drawn.
    for path in (f"/w/{workspace.slug}/contacts/{annabel.id}/", f"/w/{workspace.slug}/contacts/"):
        page.goto(page.url.split("/w/")[0] + path)
        page.wait_for_function("() => window.firstFrame")
        assert page.evaluate("() => window.firstFrame") == {"theme": "dark", "background": "#0f1218"}
        expect(page.get_by_role("radio", name="Dark")).to_be_checked()
        assert background(page) == DARK_BG
