"""Two tabs on one contact in a real browser: neither loses the other's work.

Tab A and tab B are two signed-in browser contexts (two colleagues, or one person with two
windows); each opened the contact before the other saved.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from contacts import selectors
from contacts.factories import ContactFactory
from contacts.models import Contact
from tests.e2e.test_contact_lifecycle import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def open_tab(browser: Browser, base: str, username: str, path: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, username)
    page.goto(f"{base}{path}")
    return page


def test_two_tabs_tag_one_contact_and_both_tags_survive(browser, live_app, workspace, member, artifacts):
    contact = ContactFactory(workspace=workspace, first_name="Annabel", last_name="Leeds", tags=["vip"])
    path = f"/w/{workspace.slug}/contacts/{contact.id}/"
    tab_a = open_tab(browser, live_app.url, member.user.username, path)
    tab_b = open_tab(browser, live_app.url, member.user.username, path)

    # Tab A adds a tag; tab B, still showing only "vip", removes "vip" and adds "press".
    tab_a.get_by_label("Add tags").fill("partner")
    tab_a.get_by_role("button", name="Add", exact=True).click()
    expect(tab_a.locator("#tag-editor .chip", has_text="partner")).to_be_visible()
    tab_b.get_by_role("button", name="Remove tag vip").click()
    expect(tab_b.locator("#tag-editor .chip", has_text="vip")).to_have_count(0)
    tab_b.get_by_label("Add tags").fill("press")
    tab_b.get_by_label("Add tags").press("Enter")
    expect(tab_b.locator("#tag-editor .chip", has_text="press")).to_be_visible()

    # Tab B's editor now shows A's tag too, and so does the database.
    expect(tab_b.locator("#tag-editor .chip", has_text="partner")).to_be_visible()
    tab_b.screenshot(path=artifacts / "colleagues-tags.png")
    assert selectors.contact_tag_names(contact) == ["partner", "press"]
    tab_a.context.close()
    tab_b.context.close()


def test_a_stale_edit_form_shows_the_conflict_and_the_user_picks(
    browser, live_app, workspace, member, artifacts
):
    contact = ContactFactory(
        workspace=workspace, first_name="Annabel", last_name="Leeds", company="Initech", notes=""
    )
    path = f"/w/{workspace.slug}/contacts/{contact.id}/edit/"
    tab_a = open_tab(browser, live_app.url, member.user.username, path)
    tab_b = open_tab(browser, live_app.url, member.user.username, path)

    tab_a.get_by_label("Company").fill("Globex")
    tab_a.get_by_label("Job title").fill("Head of buying")
    tab_a.get_by_role("button", name="Save changes").click()
    expect(tab_a.get_by_text("Saved Annabel Leeds.")).to_be_visible()

    tab_b.get_by_label("Company").fill("Umbrella")
    tab_b.get_by_label("Notes").fill("Call back on Monday.")
    tab_b.get_by_role("button", name="Save changes").click()

    expect(tab_b.get_by_text("Nothing was saved: a colleague changed this contact")).to_be_visible()
    expect(tab_b.get_by_label("Job title")).to_have_value("Head of buying")  # A's other change shown
    expect(tab_b.get_by_label("Notes")).to_have_value("Call back on Monday.")  # B's typing kept
    tab_b.screenshot(path=artifacts / "colleagues-conflict.png", full_page=True)
    assert Contact.objects.get(pk=contact.pk).notes == ""

    tab_b.get_by_label("Use theirs").check()
    tab_b.get_by_role("button", name="Save changes").click()

    expect(tab_b.get_by_text("Saved Annabel Leeds.")).to_be_visible()
    saved = Contact.objects.get(pk=contact.pk)
    assert (saved.company, saved.job_title, saved.notes) == (
        "Globex",
        "Head of buying",
        "Call back on Monday.",
    )
    tab_a.context.close()
    tab_b.context.close()


def test_a_second_click_while_create_is_saving_makes_one_contact(browser, live_app, workspace, member):
    tab = open_tab(browser, live_app.url, member.user.username, f"/w/{workspace.slug}/contacts/new/")
    tab.get_by_label("First name").fill("Dora")
    tab.get_by_label("Last name").fill("Double")
    posts: list[str] = []
    tab.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    # A slow network: the first post is still on its way when the impatient second click comes.
    tab.route("**/contacts/new/", lambda route: (tab.wait_for_timeout(800), route.continue_()))

    tab.evaluate(
        """() => {
            const button = document.querySelector(".contact-form button[type=submit]");
            button.click();
            setTimeout(() => button.click(), 300);
        }"""
    )

    expect(tab.get_by_text("Saved Dora Double.")).to_be_visible()
    tab.wait_for_load_state("networkidle")
    assert len(posts) == 1
    assert Contact.objects.filter(workspace=workspace, last_name="Double").count() == 1
    tab.context.close()
