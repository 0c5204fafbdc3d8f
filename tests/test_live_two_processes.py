"""Two Daphne processes on different ports, sharing Redis: each delivers the other's events and presence.

Real servers, real sockets (the `websockets` client), real session cookies; writes from this
test process (a third process, as a command or worker would be) and through one server's API.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection

from contacts import services
from contacts.services import ContactData
from tests.servers import app_server, open_live_socket, run_async, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PRESENCE_TTL = 3  # seconds; the servers run with it so a killed server's people leave quickly


async def next_of(socket: ClientConnection, kind: str, *, within: float = 5) -> dict:
    deadline = time.monotonic() + within
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), max(0.01, deadline - time.monotonic())))
        if event["type"] == kind:
            return event


def test_two_server_processes_deliver_each_others_events_and_presence(
    tmp_path: Path, workspace, member, owner
):
    token = services.api_token_get_or_create(user=owner.user).key
    member_cookie, owner_cookie = session_cookie(member.user), session_cookie(owner.user)
    env = {"CONTACTS_PRESENCE_TTL": str(PRESENCE_TTL)}

    with app_server(tmp_path / "one.log", env=env) as one, app_server(tmp_path / "two.log", env=env) as two:

        async def scenario() -> None:
            on_one, _ = await open_live_socket(one, workspace.id, member_cookie)
            on_two, _ = await open_live_socket(two, workspace.id, owner_cookie)

            # A write in a third process reaches both servers' sockets.
            contact = await asyncio.to_thread(
                services.contact_create, workspace=workspace, by=member, data=ContactData(first_name="Both")
            )
            for socket in (on_one, on_two):
                assert (await next_of(socket, "contact.created"))["id"] == str(contact.id)

            # A write through server two's API reaches the socket on server one.
            await asyncio.to_thread(_api_patch, two.base, workspace.id, contact.id, token)
            updated = await next_of(on_one, "contact.updated")
            assert updated["id"] == str(contact.id)

            # Presence crosses servers: the owner opens the contact on server two.
            await on_two.send(
                json.dumps({"type": "presence.here", "mode": "editing", "contact": str(contact.id)})
            )
            seen = await next_of(on_one, "presence.here")
            assert (seen["person"]["user"], seen["person"]["mode"]) == (owner.user.username, "editing")

            # Server two dies without saying goodbye: its people leave once their entries expire
            # and a page on server one next reports in.
            os.killpg(two.process.pid, signal.SIGKILL)
            await asyncio.sleep(PRESENCE_TTL + 0.5)
            await on_one.send(json.dumps({"type": "presence.here", "mode": "list", "contact": None}))
            left = await next_of(on_one, "presence.left")
            assert left["id"] == seen["person"]["id"]
            await on_one.close()

        run_async(scenario)


def _api_patch(base: str, workspace_id, contact_id, token: str) -> None:
    request = urllib.request.Request(
        f"{base}/api/v1/workspaces/{workspace_id}/contacts/{contact_id}/",
        data=json.dumps({"company": "Two Ltd"}).encode(),
        method="PATCH",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
