"""What happens after a write commits.

Services call these through `after_commit`, so nothing here runs for a write that rolled back.
Each starts the write's side effects: the live announcement to the workspace's open pages now,
jobs later. Cached reads need no step here: the write bumped the workspace's change version,
which every cache key contains. Payloads carry ids and that version, never model instances.
"""

from __future__ import annotations

import enum
import logging
from uuid import UUID

from contacts.live import broadcast

logger = logging.getLogger(__name__)


class ChangeKind(enum.StrEnum):
    CREATED = "contact.created"
    UPDATED = "contact.updated"
    DELETED = "contact.deleted"


# A write that changed more than one contact, or something every list shows (a tag renamed):
# pages resynchronise instead of applying one change.
WORKSPACE_CHANGED = "workspace.changed"


def contact_changed(*, workspace_id: UUID, contact_id: UUID, kind: ChangeKind, version: int) -> None:
    """A committed contact write: the single place its side effects start from."""
    logger.info("%s %s in workspace %s (version %s)", kind, contact_id, workspace_id, version)
    broadcast.announce(workspace_id, {"type": str(kind), "id": str(contact_id), "version": version})


def workspace_changed(*, workspace_id: UUID, version: int) -> None:
    """A committed batch write (bulk insert, admin tag edit): every open page resynchronises."""
    logger.info("%s in workspace %s (version %s)", WORKSPACE_CHANGED, workspace_id, version)
    broadcast.announce(workspace_id, {"type": WORKSPACE_CHANGED, "version": version})
