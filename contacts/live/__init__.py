"""Live updates: WebSocket consumers, the announcer that tells them about committed writes, presence.

One group per workspace (`workspace.<id>`) carries every event of that workspace; one group per
user (`user.<id>`) carries "your access changed", so a removed member's sockets close at once; one
group per signed-in session (`session.<digest>`) carries "signed out", so the tabs of a browser that
signed out stop receiving anything at once (other browsers of the same user keep theirs).
Events carry ids and the workspace's change version, never data: each page re-reads what it
shows through the normal, permission-checked views.
"""

from __future__ import annotations

import hashlib
from uuid import UUID


def workspace_group(workspace_id: UUID | str) -> str:
    return f"workspace.{workspace_id}"


def user_group(user_id: int | str) -> str:
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    # A digest: the session key is a credential, and group names are visible in Redis.
    return f"session.{hashlib.sha256(session_key.encode()).hexdigest()[:40]}"
