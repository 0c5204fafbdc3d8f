"""Every write in the product. Views, the API, admin and commands call these, never `.save()`.

Shape of each write (docs/architecture.md, "Write path"): permission check → validate → write
inside `atomic()` (bumping the workspace's change version) → side effects through `after_commit`.
Concurrency (docs/concurrency.md): contact rows are written by primary key *and* version, so a
write based on a stale read is retried or refused, never silently applied, and a deleted contact
is never re-inserted; unique-constraint races end as the same ValidationError the check gives.
"""

from contacts.services.activations import activation_cancel, activation_start
from contacts.services.common import require_role, workspace_bump_version
from contacts.services.contacts import (
    CONTACT_FIELDS,
    ContactData,
    ContactGone,
    EditConflictError,
    FieldConflict,
    StaleVersionError,
    comparable_value,
    contact_change_tags,
    contact_create,
    contact_delete,
    contact_set_tags,
    contact_update,
)
from contacts.services.jobs import jobs_retry
from contacts.services.tags import MAX_TAGS_PER_CONTACT, clean_tag_names, tag_save, tags_get_or_create
from contacts.services.workspaces import api_token_get_or_create, membership_set, workspace_create

__all__ = [
    "CONTACT_FIELDS",
    "MAX_TAGS_PER_CONTACT",
    "ContactData",
    "ContactGone",
    "EditConflictError",
    "FieldConflict",
    "StaleVersionError",
    "activation_cancel",
    "activation_start",
    "api_token_get_or_create",
    "clean_tag_names",
    "comparable_value",
    "contact_change_tags",
    "contact_create",
    "contact_delete",
    "contact_set_tags",
    "contact_update",
    "jobs_retry",
    "membership_set",
    "require_role",
    "tag_save",
    "tags_get_or_create",
    "workspace_bump_version",
    "workspace_create",
]
