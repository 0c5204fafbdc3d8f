"""contacts/live/consumers.py against the real channels-redis layer: who may join, what arrives, presence.

Each test runs one event loop (`run_async`) with WebsocketCommunicators on the project's ASGI
application; writes happen through the services in a worker thread, committed
(`transaction=True`: the consumer reads from another thread), so announcements really go
through Redis after commit.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from contacts import services
from contacts.factories import ContactFactory, MembershipFactory, UserFactory
from contacts.live import broadcast
from contacts.live.consumers import CLOSE_NO_ACCESS
from contacts.live.presence import presence_store
from contacts.live.routing import CLOSE_NOT_FOUND
from contacts.models import Membership, Role, Tag, Workspace
from contacts.services import ContactData
from contactsite.asgi import application
from tests.servers import run_async

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ORIGIN = b"http://testserver"
QUIET = 0.4  # how long "nothing arrives" is waited for


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def socket(
    workspace_id: Any, user: Any | None = None, *, origin: bytes = ORIGIN
) -> WebsocketCommunicator:
    """A communicator for the workspace's socket, signed in as `user` through a real session cookie."""
    headers = [(b"origin", origin)]
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, f"/ws/workspaces/{workspace_id}/", headers=headers)


async def joined(communicator: WebsocketCommunicator) -> dict:
    """Connect and return the hello message, failing if the socket is refused."""
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from(timeout=3)
    assert hello["type"] == "hello", hello
    return hello


async def closed_with(communicator: WebsocketCommunicator) -> int | None:
    message = await communicator.receive_output(timeout=3)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def next_event(communicator: WebsocketCommunicator, *, skip_presence: bool = True) -> dict:
    while True:
        event = await communicator.receive_json_from(timeout=3)
        if not (skip_presence and event["type"].startswith("presence.")):
            return event


run = run_async


def version_of(workspace: Workspace) -> int:
    return Workspace.objects.get(pk=workspace.pk).change_version


# --- Who may join -------------------------------------------------------------------------------


def test_a_member_joins_and_is_told_the_workspace_version(workspace, member):
    ContactFactory(workspace=workspace)
    expected = version_of(workspace)

    async def scenario():
        communicator = await socket(workspace.id, member.user)
        hello = await joined(communicator)
        assert hello["version"] == expected
        assert hello["you"]["user"] == member.user.username
        await communicator.disconnect()

    run(scenario)


@pytest.mark.parametrize("who", ["outsider", "anonymous", "deactivated"])
def test_others_are_closed_with_4403(workspace, member, outsider, who):
    if who == "deactivated":
        get_user_model().objects.filter(pk=member.user.pk).update(is_active=False)
    user = {"outsider": outsider.user, "anonymous": None, "deactivated": member.user}[who]

    async def scenario():
        communicator = await socket(workspace.id, user)
        connected, _ = await communicator.connect()
        assert connected  # accepted so that the close code can say why
        assert await closed_with(communicator) == CLOSE_NO_ACCESS
        await communicator.disconnect()

    run(scenario)


@pytest.mark.parametrize("address", ["/ws/nowhere/", "/ws/workspaces/not-a-uuid/", "/ws/workspaces/"])
def test_an_unknown_address_is_closed_with_4404_not_an_error(member, address, caplog):
    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(member.user)
        headers = [(b"origin", ORIGIN), (b"cookie", f"sessionid={cookie}".encode())]
        communicator = WebsocketCommunicator(application, address, headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        assert await closed_with(communicator) == CLOSE_NOT_FOUND
        await communicator.disconnect()

    with caplog.at_level(logging.ERROR):
        run(scenario)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_socket_from_another_site_is_refused(workspace, member):
    async def scenario():
        communicator = await socket(workspace.id, member.user, origin=b"https://evil.example")
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()

    run(scenario)


# --- Events after commit ------------------------------------------------------------------------


def test_create_update_delete_arrive_once_each_with_the_new_version(workspace, member, viewer):
    async def scenario():
        communicator = await socket(workspace.id, viewer.user)  # viewers get the same live view
        await joined(communicator)

        contact = await database_sync_to_async(services.contact_create)(
            workspace=workspace, by=member, data=ContactData(first_name="Rita", last_name="Live")
        )
        created = await next_event(communicator)
        assert created == {"type": "contact.created", "id": str(contact.id), "version": created["version"]}

        await database_sync_to_async(services.contact_update)(
            contact=contact, by=member, data=ContactData(company="Initech")
        )
        updated = await next_event(communicator)
        assert (updated["type"], updated["id"], updated["version"]) == (
            "contact.updated",
            str(contact.id),
            created["version"] + 1,
        )

        await database_sync_to_async(services.contact_delete)(contact=contact, by=member)
        deleted = await next_event(communicator)
        assert (deleted["type"], deleted["version"]) == ("contact.deleted", created["version"] + 2)
        assert await communicator.receive_nothing(timeout=QUIET)  # once each
        await communicator.disconnect()

    run(scenario)


def test_a_rolled_back_write_announces_nothing(workspace, member):
    def write_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.contact_create(workspace=workspace, by=member, data=ContactData(first_name="Never"))
            raise RuntimeError("rolled back")

    async def scenario():
        communicator = await socket(workspace.id, member.user)
        await joined(communicator)
        await database_sync_to_async(write_then_fail)()
        broadcast.flush()
        assert await communicator.receive_nothing(timeout=QUIET)
        await communicator.disconnect()

    run(scenario)


def test_another_workspace_hears_nothing(workspace, member, other_workspace, outsider):
    async def scenario():
        foreign = await socket(other_workspace.id, outsider.user)
        await joined(foreign)
        await database_sync_to_async(services.contact_create)(
            workspace=workspace, by=member, data=ContactData(first_name="Private")
        )
        broadcast.flush()
        assert await foreign.receive_nothing(timeout=QUIET)
        await foreign.disconnect()

    run(scenario)


def test_pages_and_the_api_announce_their_writes(workspace, member):
    contact = ContactFactory(workspace=workspace, first_name="Paula")
    page = Client()
    page.force_login(member.user)

    def edit_on_the_page():
        response = page.post(
            f"/w/{workspace.slug}/contacts/{contact.id}/edit/",
            {
                "first_name": "Paula",
                "last_name": "",
                "email": "",
                "phone": "",
                "company": "Globex",
                "job_title": "",
                "status": "lead",
                "tags": "",
                "notes": "",
            },
        )
        assert response.status_code == 302, response.content

    def delete_through_the_api():
        token = services.api_token_get_or_create(user=member.user)
        response = Client().delete(
            f"/api/v1/workspaces/{workspace.id}/contacts/{contact.id}/",
            headers={"Authorization": f"Token {token.key}"},
        )
        assert response.status_code == 204

    async def scenario():
        communicator = await socket(workspace.id, member.user)
        await joined(communicator)
        await database_sync_to_async(edit_on_the_page)()
        assert (await next_event(communicator))["type"] == "contact.updated"
        await database_sync_to_async(delete_through_the_api)()
        assert (await next_event(communicator))["type"] == "contact.deleted"
        await communicator.disconnect()

    run(scenario)


def test_batch_writes_announce_workspace_changed(workspace, member):
    def rename_a_tag():
        tag = Tag.objects.create(workspace=workspace, name="old")
        tag.name = "new"
        services.tag_save(tag=tag)

    async def scenario():
        communicator = await socket(workspace.id, member.user)
        hello = await joined(communicator)
        await database_sync_to_async(services.workspace_bump_version)(workspace=workspace)
        bulk = await next_event(communicator)
        assert bulk == {"type": "workspace.changed", "version": hello["version"] + 1}
        await database_sync_to_async(rename_a_tag)()
        assert (await next_event(communicator))["type"] == "workspace.changed"
        await communicator.disconnect()

    run(scenario)


# --- Access changes close sockets at once -------------------------------------------------------


def test_a_removed_member_loses_the_socket(workspace, member):
    async def scenario():
        communicator = await socket(workspace.id, member.user)
        await joined(communicator)
        await database_sync_to_async(lambda: Membership.objects.get(pk=member.pk).delete())()
        assert await closed_with(communicator) == CLOSE_NO_ACCESS
        await communicator.disconnect()

    run(scenario)


def test_a_deactivated_user_loses_the_socket(workspace, member):
    def deactivate():
        user = get_user_model().objects.get(pk=member.user.pk)
        user.is_active = False
        user.save()

    async def scenario():
        communicator = await socket(workspace.id, member.user)
        await joined(communicator)
        await database_sync_to_async(deactivate)()
        assert await closed_with(communicator) == CLOSE_NO_ACCESS
        await communicator.disconnect()

    run(scenario)


def signed_in_browsers(user: Any, count: int = 2) -> list[Client]:
    browsers = [Client() for _ in range(count)]
    for browser in browsers:
        browser.force_login(user)
    return browsers


def opened_by(browser: Client, workspace: Workspace) -> WebsocketCommunicator:
    """A socket of the workspace opened with that browser's session cookie."""
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    return WebsocketCommunicator(
        application, f"/ws/workspaces/{workspace.id}/", headers=[(b"origin", ORIGIN), (b"cookie", cookie)]
    )


async def closes_one_and_keeps_the_other(
    closed: WebsocketCommunicator, kept: WebsocketCommunicator, act: Any, workspace: Workspace, member: Any
) -> None:
    await joined(closed)
    await joined(kept)
    await act()
    assert await closed_with(closed) == CLOSE_NO_ACCESS
    assert await kept.receive_nothing(timeout=QUIET)
    await database_sync_to_async(services.contact_create)(  # still live there
        workspace=workspace, by=member, data=ContactData(first_name="Still", last_name="Live")
    )
    assert (await next_event(kept))["type"] == "contact.created"
    await closed.disconnect()
    await kept.disconnect()


def test_signing_out_closes_that_browsers_sockets_and_no_one_elses(workspace, member):
    """A tab left open after signing out (a shared computer) must stop receiving the workspace."""
    signing_out, other_browser = signed_in_browsers(member.user)

    async def sign_out():
        response = await database_sync_to_async(signing_out.post)("/accounts/logout/")
        assert response.status_code == 302

    async def scenario():
        tab, elsewhere = opened_by(signing_out, workspace), opened_by(other_browser, workspace)
        await closes_one_and_keeps_the_other(tab, elsewhere, sign_out, workspace, member)

    run(scenario)


def test_a_new_password_closes_the_sockets_of_the_users_other_browsers(workspace, member):
    """Django refuses the user's other sessions once the password changes (a stolen or forgotten
    session is cut off): their open tabs must stop receiving the workspace too. The browser
    that changed it stays signed in (its session is renewed), so its tabs keep their sockets."""
    member.user.set_password("old secret 1")
    member.user.save()
    changing, other_browser = signed_in_browsers(member.user)

    async def change_password():
        new = "a much newer secret 2"
        response = await database_sync_to_async(changing.post)(
            "/accounts/password_change/",
            {"old_password": "old secret 1", "new_password1": new, "new_password2": new},
        )
        assert response.status_code == 302

    async def scenario():
        tab, elsewhere = opened_by(changing, workspace), opened_by(other_browser, workspace)
        await closes_one_and_keeps_the_other(elsewhere, tab, change_password, workspace, member)

    run(scenario)


def test_saving_a_user_without_a_new_password_closes_nothing(workspace, member):
    async def scenario():
        communicator = await socket(workspace.id, member.user)
        await joined(communicator)
        member.user.first_name = "Renamed"
        await database_sync_to_async(member.user.save)()
        broadcast.flush()
        assert await communicator.receive_nothing(timeout=QUIET)
        await communicator.disconnect()

    run(scenario)


def test_a_downgraded_member_is_told_to_reload(workspace, member, other_workspace):
    MembershipFactory(workspace=other_workspace, user=member.user, role=Role.MEMBER)

    async def scenario():
        communicator = await socket(workspace.id, member.user)
        await joined(communicator)
        # A change in another workspace is not this socket's business.
        await database_sync_to_async(services.membership_set)(
            workspace=other_workspace, user=member.user, role=Role.VIEWER
        )
        broadcast.flush()
        assert await communicator.receive_nothing(timeout=QUIET)
        await database_sync_to_async(services.membership_set)(
            workspace=workspace, user=member.user, role=Role.VIEWER
        )
        assert await next_event(communicator) == {"type": "access.changed", "role": Role.VIEWER}
        await communicator.disconnect()

    run(scenario)


# --- Frames from the page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[]",
        '{"type": "contact.deleted", "id": "x"}',
        '{"type": "presence.here", "mode": "editing", "contact": "not-a-uuid"}',
        '{"type": "presence.here", "mode": "list", "contact": "6f1c2b8e-0000-4000-8000-000000000000"}',
        '{"type": "presence.here", "mode": "owner", "contact": null}',
        json.dumps({"type": "presence.here", "mode": "list", "contact": None, "pad": "x" * 5000}),
    ],
    ids=["text", "array", "unknown-type", "bad-uuid", "list-with-contact", "bad-mode", "huge"],
)
def test_malformed_frames_are_ignored_and_logged(workspace, member, caplog, frame):
    async def scenario():
        communicator = await socket(workspace.id, member.user)
        await joined(communicator)
        with caplog.at_level(logging.WARNING, logger="contacts.live.consumers"):
            await communicator.send_to(text_data=frame)
            await communicator.send_to(bytes_data=b"\x00\x01")
            assert await communicator.receive_nothing(timeout=QUIET)
        assert "malformed live-update frame" in caplog.text
        # Still open and working.
        await communicator.send_json_to({"type": "presence.here", "mode": "list", "contact": None})
        assert (await communicator.receive_json_from(timeout=3))["type"] == "presence.snapshot"
        await communicator.disconnect()

    run(scenario)


# --- Presence -----------------------------------------------------------------------------------


def test_colleagues_see_who_has_a_contact_open_and_when_they_leave(workspace, member, owner):
    contact = ContactFactory(workspace=workspace)
    owner.user.first_name, owner.user.last_name = "Olivia", "Owner"
    owner.user.save()

    async def scenario():
        watcher = await socket(workspace.id, member.user)
        await joined(watcher)
        await watcher.send_json_to({"type": "presence.here", "mode": "list", "contact": None})
        snapshot = await watcher.receive_json_from(timeout=3)
        assert [person["user"] for person in snapshot["people"]] == [member.user.username]
        assert (await watcher.receive_json_from(timeout=3))["type"] == "presence.here"  # its own

        editor = await socket(workspace.id, owner.user)
        await joined(editor)
        await editor.send_json_to({"type": "presence.here", "mode": "editing", "contact": str(contact.id)})
        arrived = await watcher.receive_json_from(timeout=3)
        assert arrived["type"] == "presence.here"
        assert {key: arrived["person"][key] for key in ("user", "name", "contact", "mode")} == {
            "user": owner.user.username,
            "name": "Olivia Owner",
            "contact": str(contact.id),
            "mode": "editing",
        }
        # A heartbeat that changes nothing is not announced again.
        await editor.send_json_to({"type": "presence.here", "mode": "editing", "contact": str(contact.id)})
        assert await watcher.receive_nothing(timeout=QUIET)

        await editor.disconnect()
        assert await watcher.receive_json_from(timeout=3) == {
            "type": "presence.left",
            "id": arrived["person"]["id"],
        }
        await watcher.disconnect()

    run(scenario)


def test_an_entry_nobody_refreshes_is_dropped_and_announced(workspace, member):
    """A tab on a server that was killed never says goodbye: its entry expires."""

    async def scenario():
        store = presence_store()
        ghost = {"id": "ghost", "user": "gone", "name": "Gone", "contact": None, "mode": "list"}
        await store.here(str(workspace.id), "ghost", ghost)
        expires = f"contacts-test:presence:{workspace.id}:expires"
        await store._redis().zadd(expires, {"ghost": time.time() - 1})  # its last refresh, long ago

        watcher = await socket(workspace.id, member.user)
        await joined(watcher)
        await watcher.send_json_to({"type": "presence.here", "mode": "list", "contact": None})
        snapshot = await watcher.receive_json_from(timeout=3)
        assert "ghost" not in [person["id"] for person in snapshot["people"]]
        events = [await watcher.receive_json_from(timeout=3) for _ in range(2)]
        assert {"type": "presence.left", "id": "ghost"} in events
        assert await store.everyone(str(workspace.id)) == [events[0]["person"]]
        await watcher.disconnect()
        assert await store.everyone(str(workspace.id)) == []

    run(scenario)


def test_presence_is_per_workspace(workspace, member, other_workspace, outsider):
    async def scenario():
        foreign = await socket(other_workspace.id, outsider.user)
        await joined(foreign)
        local = await socket(workspace.id, member.user)
        await joined(local)
        await local.send_json_to({"type": "presence.here", "mode": "list", "contact": None})
        await local.receive_json_from(timeout=3)
        assert await foreign.receive_nothing(timeout=QUIET)
        await local.disconnect()
        await foreign.disconnect()

    run(scenario)


def test_a_user_in_two_workspaces_gets_each_workspaces_events_on_its_own_socket(
    workspace, member, other_workspace
):
    MembershipFactory(workspace=other_workspace, user=member.user, role=Role.MEMBER)
    other_membership = Membership.objects.get(workspace=other_workspace, user=member.user)
    UserFactory()

    async def scenario():
        here = await socket(workspace.id, member.user)
        await joined(here)
        there = await socket(other_workspace.id, member.user)
        await joined(there)
        await database_sync_to_async(services.contact_create)(
            workspace=other_workspace, by=other_membership, data=ContactData(first_name="Elsewhere")
        )
        assert (await next_event(there))["type"] == "contact.created"
        assert await here.receive_nothing(timeout=QUIET)
        await here.disconnect()
        await there.disconnect()

    run(scenario)
