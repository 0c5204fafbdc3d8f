"""Keyboard shortcuts (static/js/keyboard.js): every one of them, in a real browser, and none while
typing or with a modifier key held."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in_as

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#results tr[data-contact-id]"


def focused_row_index(page: Page) -> int:
    """Which row (0-based) holds the focus, -1 for none."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .findIndex((row) => row.contains(document.activeElement))""",
        ROWS,
    )


def in_view_below_the_sticky_header(page: Page, index: int) -> bool:
    return page.evaluate(
        """([selector, index]) => {
            const row = document.querySelectorAll(selector)[index].getBoundingClientRect();
            const header = document.querySelector(".contacts-table thead th").getBoundingClientRect();
            return row.top >= header.bottom - 1 && row.bottom <= window.innerHeight;
        }""",
        [ROWS, index],
    )


@pytest.fixture
def list_page(open_page, workspace, annabel) -> Page:
    page = open_page(f"/w/{workspace.slug}/contacts/")
    expect(page.locator(ROWS)).to_have_count(41)
    return page


def test_j_and_k_move_a_visible_focus_over_the_rows_and_keep_it_in_view(list_page):
    page = list_page
    page.keyboard.press("j")
    assert focused_row_index(page) == 0
    focused = page.locator(f"{ROWS} a.person").first
    expect(focused).to_be_focused()
    # A visible ring on the name link, and a bar on the row's edge.
    assert page.evaluate("() => getComputedStyle(document.activeElement).boxShadow") != "none"
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert focused_row_index(page) == 1

    for _ in range(30):
        page.keyboard.press("j")
    assert focused_row_index(page) == 31
    assert in_view_below_the_sticky_header(page, 31)
    for _ in range(29):
        page.keyboard.press("k")
    assert focused_row_index(page) == 2
    assert in_view_below_the_sticky_header(page, 2)
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("k")  # stays on the first row
    assert focused_row_index(page) == 0


def test_enter_opens_the_focused_contact_and_e_edits_it(list_page, workspace):
    page = list_page
    page.keyboard.press("j")
    page.keyboard.press("j")
    contact_id = page.locator(ROWS).nth(1).get_attribute("data-contact-id")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/contacts/{contact_id}/$"))

    page.go_back()
    expect(page.locator(ROWS)).to_have_count(41)
    page.keyboard.press("j")
    page.keyboard.press("j")
    contact_id = page.locator(ROWS).nth(1).get_attribute("data-contact-id")
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/contacts/{contact_id}/edit/$"))
    expect(page.get_by_role("button", name="Save changes")).to_be_visible()


def test_x_ticks_and_unticks_the_focused_rows_checkbox(list_page):
    page = list_page
    bar = page.get_by_role("form", name="Selected contacts")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")

    expect(page.locator(f"{ROWS} input[data-select-row]").nth(0)).to_be_checked()
    expect(page.locator(f"{ROWS} input[data-select-row]").nth(1)).to_be_checked()
    expect(bar.locator("[data-bulk-summary]")).to_have_text("2 selected")
    page.keyboard.press("x")
    expect(page.locator(f"{ROWS} input[data-select-row]").nth(1)).not_to_be_checked()
    expect(bar.locator("[data-bulk-summary]")).to_have_text("1 selected")
    assert focused_row_index(page) == 1  # the focus stays on the row


def test_question_mark_lists_every_shortcut_and_escape_closes_it(list_page):
    page = list_page
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    for key in ("/", "n", "j", "k", "Enter", "e", "x", "?"):
        expect(dialog.locator("kbd", has_text=re.compile(f"^{re.escape(key)}$"))).to_have_count(1)
    page.keyboard.press("j")  # the list's keys rest while the dialog is open
    assert focused_row_index(page) == -1

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # The footer offers it to the mouse too.
    page.get_by_role("button", name="all shortcuts").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_slash_searches_and_n_opens_a_new_contact_from_any_page(list_page, workspace, annabel):
    page = list_page
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.locator("#search").blur()

    page.goto(page.url + f"{annabel.id}/")
    page.keyboard.press("/")  # no search box here: the list opens with it focused
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/contacts/#search$"))
    expect(page.locator("#search")).to_be_focused()
    page.locator("#search").blur()
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/contacts/new/$"))


def test_no_shortcut_fires_while_typing_or_with_a_modifier(list_page, workspace):
    page = list_page
    search = page.locator("#search")
    search.click()
    page.keyboard.type("jkex?n")
    expect(search).to_have_value("jkex?n")
    assert focused_row_index(page) == -1
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()

    page.locator("#filter-status").focus()
    page.keyboard.press("j")
    expect(page.locator("#filter-status")).to_be_focused()

    page.locator("#filter-status").blur()
    for chord in ("Alt+j", "Control+j", "Meta+j", "Alt+n", "Control+Shift+?"):
        page.keyboard.press(chord)
    assert focused_row_index(page) == -1
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/contacts/"))
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()


def test_a_viewer_gets_no_edit_or_select_keys(browser, live_app, workspace, viewer, annabel):
    context = sign_in_as(browser.new_context(locale="en-GB"), viewer.user, live_app.base)
    page = context.new_page()
    page.goto(f"{live_app.base}/w/{workspace.slug}/contacts/")
    page.wait_for_load_state("load")
    page.keyboard.press("j")
    page.keyboard.press("e")
    page.keyboard.press("x")
    page.keyboard.press("n")
    expect(page.locator(f"{ROWS} a.person").first).to_be_focused()
    assert page.url == f"{live_app.base}/w/{workspace.slug}/contacts/"
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog.locator("kbd", has_text=re.compile("^[nex]$"))).to_have_count(0)
    context.close()
