"""Activating leads in a real browser: select on the list, Activate, follow the progress panel.

Everything is real: the app under Daphne (`live_app`, production mode), a Celery worker on the
test broker and database, and an SMTP server (aiosmtpd) that takes a little time over each message
so the run lasts long enough to be watched, reloaded mid-way and watched again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from contacts.factories import ContactFactory
from contacts.models import ActivationRun, Contact, RunStatus
from tests.e2e.helpers import sign_in_as
from tests.servers import AppServer, celery_worker
from tests.smtp_sink import smtp_sink

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LEADS = 40
SMTP_DELAY = 0.15  # s per message: the run takes about 6 s


def sign_in(page: Page, user, server: AppServer) -> None:
    sign_in_as(page.context, user, server.base)


def sent_of(page: Page) -> int:
    return int(page.locator("[data-activation-run]").get_attribute("data-activation-sent"))


def wait_for_sent(page: Page, *, above: int, below: int | None = None, timeout: float = 15_000) -> None:
    """Until the panel shows more than `above` sent (and fewer than `below`) while running.

    A function, not an expression string: the page's CSP forbids eval.
    """
    limit = f" && sent < {below}" if below is not None else ""
    page.wait_for_function(
        f"""() => {{
            const panel = document.querySelector("[data-activation-run]");
            const sent = panel ? +panel.dataset.activationSent : -1;
            return sent > {above}{limit};
        }}""",
        timeout=timeout,
    )


def test_select_the_page_activate_and_follow_the_run_live_by_polling_and_across_a_reload(
    live_app: AppServer, page: Page, workspace, workspace_admin, owner, artifacts: Path, tmp_path: Path
):
    for n in range(LEADS):
        ContactFactory(
            workspace=workspace,
            first_name=f"Lead{n:02}",
            last_name="Prospect",
            company="Initech",
            email=f"lead{n:02}@example.com",
            status="lead",
        )
    list_url = f"{live_app.base}/w/{workspace.slug}/contacts/"

    with (
        smtp_sink(delay=SMTP_DELAY) as sink,
        celery_worker(tmp_path / "worker.log", env={"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}),
    ):
        sign_in(page, workspace_admin.user, live_app)
        page.goto(list_url)
        expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
        # A colleague has the list open too: the run's panel appears there by itself.
        colleague = page.context.browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
        colleague_page = colleague.new_page()
        sign_in(colleague_page, owner.user, live_app)
        colleague_page.goto(list_url)
        expect(colleague_page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
        expect(colleague_page.locator("[data-activation-run]")).to_have_count(0)

        bar = page.locator("#activate-form")
        expect(bar).to_be_hidden()  # nothing selected yet
        # Shift-click ticks a range; Clear empties the selection.
        page.get_by_label("Select Lead01 Prospect").check()
        page.get_by_label("Select Lead05 Prospect").click(modifiers=["Shift"])
        expect(bar).to_be_visible()
        expect(bar.locator("[data-bulk-summary]")).to_have_text("5 selected")
        expect(page.get_by_label("Select Lead03 Prospect")).to_be_checked()
        expect(page.get_by_label("Select all contacts on this page")).not_to_be_checked()
        bar.get_by_role("button", name="Clear").click()
        expect(bar).to_be_hidden()
        expect(page.get_by_label("Select Lead03 Prospect")).not_to_be_checked()

        # The whole page: all 40 leads (no "all N matching" offer: the page holds them all).
        page.get_by_label("Select all contacts on this page").check()
        expect(bar.locator("[data-bulk-summary]")).to_have_text(f"{LEADS} selected")
        expect(bar.locator("[data-bulk-all]")).to_be_hidden()
        bar.get_by_role("button", name="Activate").click()

        expect(page.locator(".message--success")).to_have_text(f"Activating {LEADS} leads…")
        panel = page.locator("[data-activation-run]")
        expect(panel).to_have_count(1)
        expect(panel).to_have_attribute("data-activation-total", str(LEADS))

        # A tab whose WebSocket cannot connect follows the run by polling the progress address.
        polling_page = page.context.new_page()
        polls: list[str] = []
        polling_page.on(
            "request", lambda request: polls.append(request.url) if "/progress/" in request.url else None
        )
        polling_page.route_web_socket("**/ws/**", lambda socket: socket.close())
        polling_page.goto(list_url)
        expect(polling_page.locator("[data-live-status]")).not_to_have_attribute("data-live-status", "live")

        # Live: the figures move while the run goes on, with a rate and the time left.
        wait_for_sent(page, above=7, below=LEADS)
        expect(panel).to_have_attribute("data-activation-status", "running")
        expect(panel.locator("[data-activation-pace]")).to_contain_text("leads/s")
        expect(panel.locator("[data-activation-pace]")).to_contain_text("left")
        expect(colleague_page.locator("[data-activation-run]")).to_have_count(1)
        page.screenshot(path=str(artifacts / "activation-progress.png"))

        # A reload mid-run: the panel is rendered again from the database and carries on.
        before_reload = sent_of(page)
        page.reload()
        panel = page.locator("[data-activation-run]")
        expect(panel).to_have_count(1)
        expect(panel).to_have_attribute("data-activation-status", "running")
        after_reload = sent_of(page)
        assert before_reload <= after_reload < LEADS
        # Rows ticked meanwhile stay ticked, and keep the keyboard focus, while the list refreshes
        # itself as leads turn active.
        ticked = page.get_by_label("Select Lead39 Prospect")
        ticked.focus()
        page.keyboard.press("Space")
        wait_for_sent(page, above=min(after_reload + 3, LEADS - 1))  # each step refreshes the rows
        expect(ticked).to_be_checked()
        expect(ticked).to_be_focused()
        expect(bar.locator("[data-bulk-summary]")).to_have_text("1 selected")

        expect(panel).to_have_attribute("data-activation-status", "completed", timeout=30_000)
        expect(panel).to_have_attribute("data-activation-sent", str(LEADS))
        expect(panel.locator("[data-activation-counts]")).to_have_text(f"Completed: {LEADS} sent, 0 failed")
        expect(panel.locator("progress")).to_have_attribute("value", str(LEADS))
        expect(panel.get_by_role("button", name="Cancel")).to_be_hidden()
        # The rows followed by themselves: every lead is now active.
        expect(page.locator("#results .badge--active")).to_have_count(LEADS)
        page.keyboard.press("Escape")  # clears the selection
        expect(bar).to_be_hidden()
        panel.scroll_into_view_if_needed()  # the picture shows the finished panel, not the last row
        page.screenshot(path=str(artifacts / "activation-progress-completed.png"))

        # The colleague's tab (live) and the tab without a socket (polling) end the same way.
        for other in (colleague_page, polling_page):
            other_panel = other.locator("[data-activation-run]")
            expect(other_panel).to_have_attribute("data-activation-status", "completed", timeout=10_000)
            expect(other_panel.locator("[data-activation-counts]")).to_have_text(
                f"Completed: {LEADS} sent, 0 failed"
            )
        assert polls, "the tab without a socket never polled"
        polls_when_done = len(polls)
        polling_page.wait_for_timeout(2500)
        assert len(polls) == polls_when_done, "polling goes on after the run ended"
        colleague.close()

        sink.wait_for(LEADS)
        assert len(sink.messages) == LEADS
        assert sorted(sink.recipients()) == [f"lead{n:02}@example.com" for n in range(LEADS)]

    run = ActivationRun.objects.get()
    assert (run.status, run.total, run.sent, run.failed) == (RunStatus.COMPLETED, LEADS, LEADS, 0)
    assert not Contact.objects.filter(workspace=workspace, status="lead").exists()
