"""Live updates in a real browser: tabs of colleagues on Daphne see each other's changes and each other.

The app runs under Daphne (HTTP and WebSockets, the `live_app` of tests/e2e/conftest.py) on the
test database; each colleague is a browser context of their own, signed in with a real session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from contacts import services
from contacts.factories import ContactFactory
from contacts.models import ContactStatus
from contacts.services import ContactData
from tests.e2e.helpers import sign_in_as
from tests.servers import AppServer, app_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WITHIN = 1000  # ms: a colleague's change must show within a second


@pytest.fixture
def server(live_app: AppServer) -> AppServer:
    return live_app


@pytest.fixture
def open_as(browser: Browser, server: AppServer) -> Iterator:
    contexts = []

    def open_as(user, path: str) -> Page:
        context = sign_in_as(
            browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB"), user, server.base
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(server.base + path)
        expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
        return page

    yield open_as
    for context in contexts:
        context.close()


def row(page: Page, name: str):
    return page.locator("#results tr[data-contact-id]", has_text=name)


def test_two_tabs_see_each_others_creates_edits_and_deletes(
    open_as, workspace, owner, member, other_workspace, outsider, artifacts
):
    ContactFactory(workspace=workspace, first_name="Zara", last_name="Zimmer", company="Zed Ltd")
    ContactFactory(workspace=workspace, first_name="Adam", last_name="Ant")
    list_path = f"/w/{workspace.slug}/contacts/"
    alice = open_as(owner.user, list_path)
    # Bob sorts by name, so a search keeps that order (without a chosen order it ranks by relevance).
    bob = open_as(member.user, f"{list_path}?sort=name")
    otto = open_as(outsider.user, f"/w/{other_workspace.slug}/contacts/")
    otto_frames: list[str] = []
    otto.on("websocket", lambda socket: socket.on("framereceived", lambda frame: otto_frames.append(frame)))
    otto.reload()
    expect(otto.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")

    # Each sees the other; nobody sees themselves.
    expect(alice.locator(f'[data-presence-user="{member.user.username}"]')).to_be_attached()
    expect(bob.locator(f'[data-presence-user="{owner.user.username}"]')).to_be_attached()
    expect(bob.locator(f'[data-presence-user="{member.user.username}"]')).to_have_count(0)

    # Bob is half-way through a search when Alice adds a contact that matches it.
    bob.locator("#search").fill("Z")
    expect(row(bob, "Adam Ant")).to_have_count(0)
    bob.locator("#search").press_sequentially("a")  # "Za", typing still going on
    alice.get_by_role("link", name="New contact").click()
    alice.get_by_label("First name").fill("Zack")
    alice.get_by_label("Last name").fill("Zephyr")
    alice.get_by_label("Company").fill("Zephyr Air")
    alice.get_by_role("button", name="Create contact").click()
    expect(alice.get_by_role("heading", name="Zack Zephyr")).to_be_visible()
    expect(row(bob, "Zack Zephyr")).to_be_visible(timeout=WITHIN)
    # In its place under Bob's search and sort (by name: Zack before Zara), his typing untouched.
    expect(bob.locator("#results tr[data-contact-id] .person__name")).to_have_text(
        ["Zack Zephyr", "Zara Zimmer"]
    )
    expect(bob.locator("#search")).to_be_focused()
    expect(bob.locator("#search")).to_have_value("Za")
    bob.screenshot(path=str(artifacts / "live-list-after-a-colleagues-create.png"))

    # Alice edits it: Bob's row follows.
    alice.get_by_role("link", name="Edit").click()
    alice.get_by_label("Company").fill("Zephyr Airways")
    alice.get_by_role("button", name="Save changes").click()
    expect(alice.get_by_role("heading", name="Zack Zephyr")).to_be_visible()
    expect(row(bob, "Zack Zephyr")).to_contain_text("Zephyr Airways", timeout=WITHIN)

    # Alice deletes it: Bob's row goes and his count follows.
    alice.get_by_role("link", name="Delete").click()
    alice.get_by_role("button", name="Delete").click()
    expect(alice.locator(".message--success")).to_be_visible()
    expect(row(bob, "Zack Zephyr")).to_have_count(0, timeout=WITHIN)
    expect(bob.locator("[data-count]")).to_contain_text("1")

    # The other workspace heard nothing of it.
    assert not [frame for frame in otto_frames if '"contact.' in frame]
    expect(otto.locator("#results tr[data-contact-id]")).to_have_count(0)

    # Bob closes his tab: Alice no longer sees him.
    bob.context.close()
    expect(alice.locator(f'[data-presence-user="{member.user.username}"]')).to_have_count(0, timeout=5000)


def test_a_contact_page_shows_who_else_has_it_open_and_their_saves(
    open_as, workspace, owner, member, artifacts
):
    contact = ContactFactory(workspace=workspace, first_name="Cleo", last_name="Case", company="Before Inc")
    detail = f"/w/{workspace.slug}/contacts/{contact.id}/"
    bob = open_as(member.user, detail)
    alice = open_as(owner.user, detail + "edit/")

    # Bob, reading, sees that Alice is editing; Alice sees that Bob is looking.
    expect(bob.locator(f'[data-presence-user="{owner.user.username}"]')).to_contain_text("is editing")
    expect(alice.locator(f'[data-presence-user="{member.user.username}"]')).to_contain_text("is viewing")

    # Bob starts editing too: Alice is warned before any conflict happens.
    bob.get_by_role("link", name="Edit").click()
    expect(alice.locator(f'[data-presence-user="{member.user.username}"]')).to_contain_text("is editing")
    expect(alice.locator(".presence__warning")).to_be_visible()
    alice.screenshot(path=str(artifacts / "live-edit-form-two-editors.png"))

    # Alice saves: Bob's form says so and keeps what he typed.
    bob.get_by_label("Job title").fill("Typed by Bob")
    alice.get_by_label("Company").fill("After Ltd")
    alice.get_by_role("button", name="Save changes").click()
    expect(bob.locator("[data-live-changed]")).to_be_visible(timeout=WITHIN)
    expect(bob.get_by_label("Job title")).to_have_value("Typed by Bob")

    # Bob goes back to reading: the page shows Alice's saves as they happen.
    bob.goto(bob.url.removesuffix("edit/"))
    expect(bob.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
    alice.get_by_role("link", name="Edit").click()
    alice.get_by_label("Company").fill("Latest GmbH")
    alice.get_by_role("button", name="Save changes").click()
    expect(bob.locator('[data-live-region="facts"]')).to_contain_text("Latest GmbH", timeout=WITHIN)
    expect(bob.locator('[data-live-region="head"]')).to_contain_text("Latest GmbH")
    bob.screenshot(path=str(artifacts / "live-detail-after-a-colleagues-save.png"))

    # Alice deletes it: Bob is told.
    alice.get_by_role("link", name="Delete").click()
    alice.get_by_role("button", name="Delete").click()
    expect(bob.locator("[data-live-deleted]")).to_be_visible(timeout=WITHIN)


def test_without_a_socket_the_page_polls_and_still_follows(
    open_as, browser, server, workspace, owner, member
):
    """A proxy that drops WebSockets: the page says so and polls every 2 s instead."""
    context = sign_in_as(browser.new_context(), member.user, server.base)
    bob = context.new_page()
    bob.route_web_socket("**/ws/**", lambda socket: socket.close())
    bob.goto(f"{server.base}/w/{workspace.slug}/contacts/")
    expect(bob.locator("[data-live-status]")).to_have_attribute("data-live-status", "reconnecting")

    ContactFactory(workspace=workspace, first_name="Polly", last_name="Poll")  # bumps the version
    started = time.monotonic()
    expect(row(bob, "Polly Poll")).to_be_visible(timeout=4000)
    assert time.monotonic() - started < 3.5
    context.close()


def test_the_page_says_live_only_once_the_server_receives_its_events_for_it(
    browser, server, workspace, member
):
    """The socket opens before the server has read the membership and joined the workspace's
    events; "hello" says it has. The dot said "Live" at the opening, and a change landing in
    between reached the page only as a skipped version: a full re-read that moved rows the
    notice should have held (seen as a CI failure of the notice test above)."""
    context = sign_in_as(browser.new_context(), member.user, server.base)
    page = context.new_page()
    routes, held = [], []

    def hold_the_hello(socket):
        to_server = socket.connect_to_server()
        routes.append(socket)

        def from_server(message):
            if not held and '"hello"' in str(message):
                held.append(message)  # kept back until the test lets it through
            else:
                socket.send(message)

        to_server.on_message(from_server)

    page.route_web_socket("**/ws/**", hold_the_hello)
    page.goto(f"{server.base}/w/{workspace.slug}/contacts/")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the server never said hello"
    status = page.locator("[data-live-status]")
    expect(status).not_to_have_attribute("data-live-status", "live")

    routes[0].send(held[0])
    expect(status).to_have_attribute("data-live-status", "live", timeout=WITHIN)
    context.close()


def test_after_a_server_restart_the_page_reconnects_and_catches_up(
    browser, tmp_path, transactional_db, workspace, member
):
    with app_server(tmp_path / "first.log") as first:
        context = sign_in_as(browser.new_context(), member.user, first.base)
        page = context.new_page()
        page.goto(f"{first.base}/w/{workspace.slug}/contacts/")
        status = page.locator("[data-live-status]")
        expect(status).to_have_attribute("data-live-status", "live")
        port = first.base.rsplit(":", 1)[1]
    # The server is gone; a colleague's change lands meanwhile (a command, another server).
    expect(status).to_have_attribute("data-live-status", "offline", timeout=8000)
    ContactFactory(workspace=workspace, first_name="Rhea", last_name="Restart")
    with app_server(tmp_path / "second.log", port=int(port)):
        expect(status).to_have_attribute("data-live-status", "live", timeout=20_000)
        expect(row(page, "Rhea Restart")).to_be_visible()
    context.close()


def test_a_change_on_another_page_waits_behind_a_notice(open_as, workspace, owner, member, settings):
    """Bob reads page 2; a contact added to page 1 would shift his rows: he is offered it instead."""
    for number in range(page_size := settings.CONTACTS_PAGE_SIZE + 3):
        ContactFactory(workspace=workspace, first_name="Mid", last_name=f"Person {number:03}")
    bob = open_as(member.user, f"/w/{workspace.slug}/contacts/?page=2")
    first_on_page_two = bob.locator("#results tr[data-contact-id] .person__name").first
    expect(first_on_page_two).to_have_text(f"Mid Person {settings.CONTACTS_PAGE_SIZE:03}")

    services.contact_create(
        workspace=workspace, by=owner, data=ContactData(first_name="Aaron", last_name="Early")
    )
    notice = bob.locator("[data-live-show]")
    expect(notice).to_have_text("1 change by a colleague — show", timeout=WITHIN)
    expect(first_on_page_two).to_have_text(f"Mid Person {settings.CONTACTS_PAGE_SIZE:03}")  # not moved

    notice.click()
    expect(first_on_page_two).to_have_text(f"Mid Person {settings.CONTACTS_PAGE_SIZE - 1:03}")
    expect(notice).to_be_hidden()
    expect(bob.locator("[data-count]")).to_contain_text(str(page_size + 1))


def test_a_colleagues_change_never_brings_back_the_list_the_user_just_left(open_as, workspace, owner, member):
    """Bob changes the filter while the re-read for a colleague's change is still on its way: the
    answer for the old filter arrives last and must not replace the list he asked for."""
    ContactFactory.create_batch(2, workspace=workspace, status=ContactStatus.LEAD)
    ContactFactory(workspace=workspace, status=ContactStatus.ACTIVE)
    bob = open_as(member.user, f"/w/{workspace.slug}/contacts/?status=lead")
    count = bob.locator("[data-count] strong")
    expect(count).to_have_text("2")
    held = []  # live.js's re-reads (htmx's own requests carry HX-Current-URL, live.js's do not)
    bob.route(
        lambda url: "/contacts/" in url,
        lambda route: (
            held.append(route)
            if "hx-current-url" not in route.request.headers and "hx-target" in route.request.headers
            else route.continue_()
        ),
    )

    services.contact_create(
        workspace=workspace, by=owner, data=ContactData(first_name="Lena", status=ContactStatus.LEAD)
    )
    for _ in range(50):  # the re-read of "?status=lead" is held here
        if held:
            break
        bob.wait_for_timeout(20)
    assert len(held) == 1
    bob.get_by_label("Status").select_option("")
    expect(count).to_have_text("4")

    late = held.pop()
    with bob.expect_response(lambda response: response.request == late.request):
        late.continue_()
    bob.wait_for_timeout(300)  # time enough for the late answer to be applied, if it were
    expect(count).to_have_text("4")
