"""Live updates: WebSocket consumers, the announcer that tells them about committed writes, presence.

One group per workspace (`workspace.<id>`) carries every event of that workspace; one group per
user (`user.<id>`) carries "your access changed", so a removed member's sockets close at once.
Events carry ids and the workspace's change version, never data: each page re-reads what it
shows through the normal, permission-checked views.
"""

from __future__ import annotations

from uuid import UUID


def workspace_group(workspace_id: UUID | str) -> str:
    return f"workspace.{workspace_id}"


def user_group(user_id: int | str) -> str:
    return f"user.{user_id}"
