"""Pieces every write shares: role checks, the workspace change counter, unique-race handling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import F

from contacts import events
from contacts.dbengine import after_commit, atomic
from contacts.models import Membership, Role, Workspace


def require_role(membership: Membership, role: Role) -> None:
    """Refuse the write unless the member's role is at least `role` (viewers are read-only)."""
    if not membership.has_role(role):
        raise PermissionDenied(
            f"Your role in {membership.workspace.name} ({membership.role}) cannot do this."
        )


def workspace_bump_version(*, workspace: Workspace) -> int:
    """Mark the workspace's cached pages stale after writes that bypass the per-contact services.

    For bulk inserts (`seed_contacts`) and admin edits of tags: one bump for the whole batch, so
    list caches move to a new version, and one `workspace.changed` announcement after commit.
    """
    with atomic():
        return bump_workspace_version_announced(workspace)


def bump_workspace_version_announced(workspace: Workspace) -> int:
    """`bump_workspace_version`, and once the transaction commits, tell the workspace's open pages."""
    version = bump_workspace_version(workspace)
    after_commit(events.workspace_changed, workspace_id=workspace.pk, version=version)
    return version


def bump_workspace_version(workspace: Workspace) -> int:
    """Increment the workspace's change counter inside the caller's transaction; the new value."""
    Workspace.objects.filter(pk=workspace.pk).update(change_version=F("change_version") + 1)
    workspace.refresh_from_db(fields=["change_version"])
    return workspace.change_version


@contextmanager
def unique_race_as_validation_error(recheck: Callable[[], None]) -> Iterator[None]:
    """Turn an IntegrityError from a check-then-insert race into the check's own ValidationError.

    The check ran before the write and passed; a colleague's identical write committed in
    between. Once the failed block has rolled back, running the check again sees their row and
    raises the message the user would have got had they been a moment later. If the check still
    passes, the error was something else and is raised unchanged.
    """
    try:
        yield
    except IntegrityError:
        recheck()
        raise
