"""axe-core checks the pages people work in, in the light and the dark theme: no violation of
impact "serious" or "critical" (contrast, names, labels, landmarks, ARIA) on the list, a contact's
page, its edit form and the reports page.

The theme comes from the system here (Playwright's colour-scheme emulation), the path most people
take; tests/e2e/test_theme.py covers the switch in the top bar.

Screenshots land in test-artifacts/ for people to look at: <page>-<theme>.png at 1366x900, and
list-phone-<theme>.png at 390x844. README.md shows list-light.png and list-dark.png (copied to
docs/screenshots/).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, start_activation

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
THEMES = ("light", "dark")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `npm ci` installs it (scripts/lib/setup.sh runs it)")
    return AXE.read_text()


def serious_violations(page: Page, axe_source: str) -> list[str]:
    """axe-core's violations of impact serious or critical, one line per element."""
    # The pages' Content-Security-Policy refuses inline scripts, which is what add_script_tag
    # writes; page.evaluate runs over the DevTools protocol, which the policy does not govern.
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(axe_source)
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact,
                nodes: v.nodes.map((node) => node.target.join(" ") + " — " + node.failureSummary),
            }));
        }"""
    )
    return [
        f"{violation['id']} ({violation['impact']}): {node}"
        for violation in violations
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


def assert_theme(page: Page, theme: str) -> None:
    scheme = page.evaluate("() => getComputedStyle(document.documentElement).colorScheme")
    assert scheme == theme


@pytest.mark.parametrize("theme", THEMES)
def test_the_list_has_no_serious_violations(
    open_page, workspace, owner, annabel, axe_source, artifacts, theme
):
    page = open_page(f"/w/{workspace.slug}/contacts/", theme)
    expect(page.locator("#results tr[data-contact-id]")).to_have_count(41)
    assert_theme(page, theme)
    page.screenshot(path=artifacts / f"list-{theme}.png")
    assert serious_violations(page, axe_source) == []

    # The states that bring colours of their own: a search's marks, a hovered row's actions, ticked
    # rows and the selection bar, the panel of an activation under way.
    page.locator("#search").fill("lee")
    expect(page.locator("#results mark").first).to_be_visible()
    page.locator("#results tr[data-contact-id]").first.hover()
    expect(page.locator("#results .row-actions").first).to_be_visible()
    page.screenshot(path=artifacts / f"list-search-{theme}.png")
    assert serious_violations(page, axe_source) == []

    start_activation(workspace, owner.user)
    page.goto(page.url.split("?")[0])
    expect(page.locator(".activation")).to_be_visible()
    page.locator("#results input[data-select-row]").nth(1).check()
    expect(page.locator("[data-bulk-summary]")).to_have_text("1 selected")
    page.screenshot(path=artifacts / f"list-activation-{theme}.png")
    assert serious_violations(page, axe_source) == []


@pytest.mark.parametrize("theme", THEMES)
def test_the_list_on_a_phone_has_no_serious_violations(
    open_page, workspace, annabel, axe_source, artifacts, theme
):
    page = open_page(f"/w/{workspace.slug}/contacts/", theme, PHONE)
    expect(page.locator(".contacts-table thead")).to_be_hidden()  # cards

    page.screenshot(path=artifacts / f"list-phone-{theme}.png")
    assert serious_violations(page, axe_source) == []
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.screenshot(path=artifacts / f"list-phone-menu-{theme}.png")
    assert serious_violations(page, axe_source) == []


@pytest.mark.parametrize("theme", THEMES)
def test_a_contacts_page_has_no_serious_violations(
    open_page, workspace, annabel, axe_source, artifacts, theme
):
    page = open_page(f"/w/{workspace.slug}/contacts/{annabel.id}/", theme)
    expect(page.get_by_role("heading", name="Annabel Leeds", level=1)).to_be_visible()

    page.screenshot(path=artifacts / f"detail-{theme}.png", full_page=True)
    assert serious_violations(page, axe_source) == []


@pytest.mark.parametrize("theme", THEMES)
def test_the_edit_form_has_no_serious_violations(open_page, workspace, annabel, axe_source, artifacts, theme):
    page = open_page(f"/w/{workspace.slug}/contacts/{annabel.id}/edit/", theme)
    # With a refused value, so the error styles are checked too.
    page.get_by_label("E-mail").fill("not an address")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert").first).to_contain_text("The contact was not saved")

    page.screenshot(path=artifacts / f"edit-{theme}.png", full_page=True)
    assert serious_violations(page, axe_source) == []


@pytest.mark.parametrize("theme", THEMES)
def test_the_reports_page_has_no_serious_violations(
    open_page, workspace, annabel, axe_source, artifacts, theme
):
    page = open_page(f"/w/{workspace.slug}/reports/", theme)
    expect(page.get_by_role("group", name="Contacts per company", exact=True)).to_be_visible()

    page.screenshot(path=artifacts / f"reports-{theme}.png", full_page=True)
    assert serious_violations(page, axe_source) == []


def test_the_shortcuts_dialog_has_no_serious_violations(open_page, workspace, annabel, axe_source, artifacts):
    page = open_page(f"/w/{workspace.slug}/contacts/", "dark")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()

    page.screenshot(path=artifacts / "shortcuts-dark.png")
    assert serious_violations(page, axe_source) == []
