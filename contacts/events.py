"""What happens after a contact write commits.

Services call `contact_changed` through `after_commit`, so nothing here runs for a write that
rolled back. The cache, live-update and job issues each add their step to `contact_changed`;
payloads carry ids and the workspace version, never model instances.
"""

from __future__ import annotations

import enum
import logging
from uuid import UUID

logger = logging.getLogger(__name__)


class ChangeKind(enum.StrEnum):
    CREATED = "contact.created"
    UPDATED = "contact.updated"
    DELETED = "contact.deleted"


def contact_changed(*, workspace_id: UUID, contact_id: UUID, kind: ChangeKind, version: int) -> None:
    """A committed contact write: the single place its side effects start from."""
    logger.info("%s %s in workspace %s (version %s)", kind, contact_id, workspace_id, version)
