"""The WebSocket a workspace page keeps open: events in, presence both ways.

Only the connect, an access change and a new password touch the database. Workspace events reach the socket
through this process's fan-out (contacts.live.fanout), which writes their pre-encoded text
directly: delivering one event to a thousand sockets costs a thousand frame writes and nothing
else. Only access changes (and new passwords, sign-outs) arrive as Channels messages (the
user's and the session's groups).
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any
from uuid import UUID

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from contacts import selectors
from contacts.live import access, fanout, session_group, user_group
from contacts.live.presence import presence_store

logger = logging.getLogger(__name__)

# Close codes the page understands (4000-4999 are the application's own).
CLOSE_NO_ACCESS = 4403
# Frames larger than this are not presence reports: ignored unread.
MAX_FRAME_CHARS = 2048
# A misbehaving page is logged this many times per socket, then only counted.
MAX_LOGGED_BAD_FRAMES = 3
PRESENCE_MODES = frozenset({"list", "viewing", "editing"})


class WorkspaceConsumer(AsyncWebsocketConsumer):
    workspace_id: str

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every message, a thread hop each
        # time. Only `connect`, `access_changed` and `credentials_changed` use the database,
        # through database_sync_to_async, which does that clean-up itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.groups_joined = []
        self.joined = False
        self.entry_id = secrets.token_hex(8)
        self.entry: dict[str, Any] | None = None
        self.bad_frames = 0
        user = self.scope["user"]
        self.workspace_id = str(self.scope["url_route"]["kwargs"]["workspace_id"])
        await self.accept()
        if not user.is_authenticated:
            await self.close(code=CLOSE_NO_ACCESS)
            return
        # The user's group first: an access change from here on reaches this socket, so the
        # membership read below cannot miss a removal that commits right after it.
        await self._join(user_group(user.pk))
        if session_key := getattr(self.scope.get("session"), "session_key", None):
            await self._join(session_group(session_key))  # signing out closes this socket
        membership = await _live_membership(user.pk, UUID(self.workspace_id))
        if membership is None:
            await self.close(code=CLOSE_NO_ACCESS)
            return
        self.role = membership.role
        await fanout.join(self.workspace_id, self)  # subscribed before the version below is sent
        self.joined = True
        self.person = {
            "user": user.get_username(),
            "name": user.get_full_name() or user.get_username(),
        }
        # The version lets a page that rendered before a write see the gap and resynchronise.
        # `you` tells the page which presence entries are its own (this tab, and this user's others).
        await self._send_json(
            {
                "type": "hello",
                "version": membership.workspace.change_version,
                "you": {"id": self.entry_id, "user": self.person["user"]},
            }
        )

    async def disconnect(self, code: int) -> None:
        if self.joined:
            fanout.leave(self.workspace_id, self)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.entry is not None:
            await self._presence_left(self.entry_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.joined:  # a frame that raced a refused connect
            return
        frame = _parse_frame(text_data)
        if frame is None:
            self._bad_frame(text_data if text_data is not None else f"<{len(bytes_data or b'')} bytes>")
            return
        await self._presence_here(frame)

    # --- Events of the workspace (fan-out) and messages from the channel layer ----------------

    async def send_event(self, text: str) -> None:
        # Only ever one text frame: under Daphne the fan-out writes that frame itself instead of
        # calling this (contacts/live/daphne_frames.py), so anything more here would be skipped.
        await self.send(text_data=text)

    async def access_changed(self, message: dict[str, Any]) -> None:
        workspace = message.get("workspace")
        if workspace not in (None, self.workspace_id):
            return
        membership = await _live_membership(self.scope["user"].pk, UUID(self.workspace_id))
        if membership is None:
            await self.close(code=CLOSE_NO_ACCESS)
        elif membership.role != getattr(self, "role", membership.role):
            # A new role means other controls on the page: the page reloads itself.
            self.role = membership.role
            await self._send_json({"type": "access.changed", "role": membership.role})

    async def credentials_changed(self, message: dict[str, Any]) -> None:
        # A new password: Django refuses the user's other sessions from now on, and so do we.
        if await _session_refused(self.scope.get("session"), self.scope["user"].pk):
            await self.close(code=CLOSE_NO_ACCESS)  # the page reloads: the sign-in page

    async def session_ended(self, message: dict[str, Any]) -> None:
        await self.close(code=CLOSE_NO_ACCESS)  # the page reloads: the sign-in page

    # --- Presence ----------------------------------------------------------------------------

    async def _presence_here(self, frame: dict[str, Any]) -> None:
        entry = {"id": self.entry_id, **self.person, "contact": frame["contact"], "mode": frame["mode"]}
        store = presence_store()
        try:
            first = self.entry is None
            await store.here(self.workspace_id, self.entry_id, entry)
            if first:
                await self._send_json(
                    {"type": "presence.snapshot", "people": await store.everyone(self.workspace_id)}
                )
            expired = await store.drop_expired(self.workspace_id)
        except Exception as error:  # Redis trouble: the page works on without presence
            logger.warning("presence not recorded (%s: %s)", type(error).__name__, error)
            return
        if entry != self.entry:
            self.entry = entry
            await self._announce({"type": "presence.here", "person": entry})
        for entry_id in expired:
            await self._announce({"type": "presence.left", "id": entry_id})

    async def _presence_left(self, entry_id: str) -> None:
        try:
            removed = await presence_store().leave(self.workspace_id, entry_id)
        except Exception as error:
            logger.warning("presence not removed (%s: %s); it expires by itself", type(error).__name__, error)
            return
        if removed:
            await self._announce({"type": "presence.left", "id": entry_id})

    # --- Helpers -----------------------------------------------------------------------------

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def _announce(self, event: dict[str, Any]) -> None:
        await fanout.publish(self.workspace_id, json.dumps(event))

    async def _send_json(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event))

    def _bad_frame(self, raw: str) -> None:
        self.bad_frames += 1
        if self.bad_frames <= MAX_LOGGED_BAD_FRAMES:
            logger.warning(
                "ignored a malformed live-update frame from user %s in workspace %s: %.200r",
                self.scope["user"].pk,
                self.workspace_id,
                raw,
            )


def _parse_frame(text: str | None) -> dict[str, Any] | None:
    """A presence report `{"type": "presence.here", "contact": <uuid or null>, "mode": ...}`, or None."""
    if text is None or len(text) > MAX_FRAME_CHARS:
        return None
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    if not isinstance(frame, dict) or frame.get("type") != "presence.here":
        return None
    mode, contact = frame.get("mode"), frame.get("contact")
    if mode not in PRESENCE_MODES:
        return None
    if contact is not None:
        try:
            contact = str(UUID(str(contact)))
        except ValueError:
            return None
    if (contact is None) != (mode == "list"):
        return None
    return {"contact": contact, "mode": mode}


@database_sync_to_async
def _live_membership(user_id: Any, workspace_id: UUID) -> Any:
    return selectors.live_membership(user_id, workspace_id)


@database_sync_to_async
def _session_refused(session: Any, user_id: Any) -> bool:
    return access.session_refused(session, user_id)
