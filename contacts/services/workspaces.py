"""Workspaces, memberships and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from contacts.dbengine import after_commit, atomic
from contacts.live import broadcast
from contacts.models import ApiToken, Membership, Role, Workspace
from contacts.services.common import unique_race_as_validation_error


def workspace_create(*, name: str, slug: str, owner: AbstractBaseUser) -> Workspace:
    """A new workspace with its creator as owner; a slug taken meanwhile is the usual form error."""
    workspace = Workspace(name=name, slug=slug)
    workspace.full_clean()
    with unique_race_as_validation_error(workspace.validate_unique), atomic():
        workspace.save(force_insert=True)
        Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


def membership_set(*, workspace: Workspace, user: AbstractBaseUser, role: Role) -> Membership:
    """Add `user` to the workspace with `role`, or change the role of an existing member.

    Two admins adding the same person at once end with one membership: `get_or_create` inserts
    in a savepoint and, when the other insert won, reads that row instead.
    """
    with atomic():
        membership, created = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": role}
        )
        if not created and membership.role != role:
            Membership.objects.filter(pk=membership.pk).update(role=role)
            membership.role = role
            # An update() sends no signal: tell the member's open pages here.
            after_commit(broadcast.access_changed, user.pk, workspace.pk)
    return membership


def api_token_get_or_create(*, user: AbstractBaseUser) -> ApiToken:
    """The user's API token, created on first use (`get_or_create` settles a concurrent create)."""
    token, _ = ApiToken.objects.get_or_create(user=user)
    return token
