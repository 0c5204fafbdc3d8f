"""Every write in the product. Views, the API, admin and commands call these, never `.save()`.

Shape of each write (DESIGN.md "Write path"): permission check → validate → write inside
`atomic()` (bumping the workspace's change version) → side effects through `after_commit`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F

from contacts import events
from contacts.dbengine import after_commit, atomic
from contacts.models import (
    TAG_NAME_MAX_LENGTH,
    ApiToken,
    Contact,
    ContactTag,
    Membership,
    Role,
    Tag,
    Workspace,
    normalize_tag_name,
    tag_name_validator,
)

MAX_TAGS_PER_CONTACT = 20


def require_role(membership: Membership, role: Role) -> None:
    """Refuse the write unless the member's role is at least `role` (viewers are read-only)."""
    if not membership.has_role(role):
        raise PermissionDenied(
            f"Your role in {membership.workspace.name} ({membership.role}) cannot do this."
        )


# --- Workspaces and members ------------------------------------------------------------------


def workspace_create(*, name: str, slug: str, owner: AbstractBaseUser) -> Workspace:
    """A new workspace with its creator as owner."""
    workspace = Workspace(name=name, slug=slug)
    workspace.full_clean()
    with atomic():
        workspace.save()
        Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


def membership_set(*, workspace: Workspace, user: AbstractBaseUser, role: Role) -> Membership:
    """Add `user` to the workspace with `role`, or change the role of an existing member."""
    with atomic():
        membership, created = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": role}
        )
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    return membership


# --- Contacts ----------------------------------------------------------------------------------

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title", "notes", "status")


@dataclass
class ContactData:
    """The editable fields of a contact; `None` means "leave unchanged" (for partial updates)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    job_title: str | None = None
    notes: str | None = None
    status: str | None = None
    tags: list[str] | None = None

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> ContactData:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def apply_to(self, contact: Contact) -> None:
        for name in CONTACT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                setattr(contact, name, value)


def contact_create(*, workspace: Workspace, by: Membership, data: ContactData) -> Contact:
    """A member adds a contact; it reaches caches, open tabs and jobs once committed."""
    require_role(by, Role.MEMBER)
    contact = Contact(workspace=workspace, created_by=by.user)
    _require_same_workspace(contact, by)
    data.apply_to(contact)
    tag_names = clean_tag_names(data.tags or [])
    contact.full_clean()
    with atomic():
        contact.save()
        _contact_tags_replace(contact, tag_names)
        version = _workspace_bump_version(workspace)
    after_commit(
        events.contact_changed,
        workspace_id=workspace.id,
        contact_id=contact.id,
        kind=events.ChangeKind.CREATED,
        version=version,
    )
    return contact


def contact_update(*, contact: Contact, by: Membership, data: ContactData) -> Contact:
    """A member edits a contact (only the fields given in `data`)."""
    require_role(by, Role.MEMBER)
    _require_same_workspace(contact, by)
    data.apply_to(contact)
    tag_names = clean_tag_names(data.tags) if data.tags is not None else None
    contact.full_clean()
    with atomic():
        contact.save()
        if tag_names is not None:
            _contact_tags_replace(contact, tag_names)
        version = _workspace_bump_version(contact.workspace)
    after_commit(
        events.contact_changed,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        kind=events.ChangeKind.UPDATED,
        version=version,
    )
    return contact


def contact_set_tags(*, contact: Contact, by: Membership, tag_names: Iterable[str]) -> Contact:
    """Replace a contact's tags (the in-place tag editor)."""
    return contact_update(contact=contact, by=by, data=ContactData(tags=list(tag_names)))


def contact_delete(*, contact: Contact, by: Membership) -> None:
    """A member deletes a contact and its tag links."""
    require_role(by, Role.MEMBER)
    _require_same_workspace(contact, by)
    contact_id, workspace = contact.id, contact.workspace
    with atomic():
        # Links first, by contact id: MongoDB cannot delete across collections in one statement.
        ContactTag.objects.filter(contact_id=contact_id).delete()
        contact.delete()
        version = _workspace_bump_version(workspace)
    after_commit(
        events.contact_changed,
        workspace_id=workspace.id,
        contact_id=contact_id,
        kind=events.ChangeKind.DELETED,
        version=version,
    )


def _require_same_workspace(contact: Contact, membership: Membership) -> None:
    if contact.workspace_id != membership.workspace_id:
        # Callers look contacts up through the member's workspace; reaching here is a bug, not a 403.
        raise PermissionDenied("This contact belongs to another workspace.")


def workspace_bump_version(*, workspace: Workspace) -> int:
    """Mark the workspace's cached pages stale after writes that bypass the per-contact services.

    For bulk inserts (`seed_contacts`) and admin edits of tags: one bump for the whole batch, so
    list caches move to a new version and live clients resynchronise on the next event.
    """
    with atomic():
        return _workspace_bump_version(workspace)


def _workspace_bump_version(workspace: Workspace) -> int:
    Workspace.objects.filter(pk=workspace.pk).update(change_version=F("change_version") + 1)
    workspace.refresh_from_db(fields=["change_version"])
    return workspace.change_version


# --- Tags --------------------------------------------------------------------------------------


def clean_tag_names(names: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated tag names, or a ValidationError saying which one is wrong."""
    cleaned: list[str] = []
    for raw in names:
        if not isinstance(raw, str):
            raise ValidationError({"tags": "Each tag must be text."})
        name = normalize_tag_name(raw)
        if not name:
            continue
        if len(name) > TAG_NAME_MAX_LENGTH:
            raise ValidationError(
                {"tags": f"Tag “{name[:20]}…” is longer than {TAG_NAME_MAX_LENGTH} characters."}
            )
        try:
            tag_name_validator(name)
        except ValidationError as error:
            raise ValidationError({"tags": f"Tag “{name}”: {error.messages[0]}"}) from None
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS_PER_CONTACT:
        raise ValidationError({"tags": f"A contact can have at most {MAX_TAGS_PER_CONTACT} tags."})
    return cleaned


def tags_get_or_create(*, workspace: Workspace, names: list[str]) -> list[Tag]:
    """The workspace's tags with these (already cleaned) names, creating the missing ones."""
    existing = {tag.name: tag for tag in Tag.objects.filter(workspace=workspace, name__in=names)}
    for name in names:
        if name not in existing:
            existing[name] = Tag.objects.create(workspace=workspace, name=name)
    return [existing[name] for name in names]


def _contact_tags_replace(contact: Contact, tag_names: list[str]) -> None:
    tags = tags_get_or_create(workspace=contact.workspace, names=tag_names)
    wanted = {tag.id for tag in tags}
    current = set(ContactTag.objects.filter(contact_id=contact.id).values_list("tag_id", flat=True))
    if current - wanted:
        ContactTag.objects.filter(contact_id=contact.id, tag_id__in=current - wanted).delete()
    ContactTag.objects.bulk_create(
        ContactTag(contact=contact, tag=tag) for tag in tags if tag.id not in current
    )


# --- API tokens --------------------------------------------------------------------------------


def api_token_get_or_create(*, user: AbstractBaseUser) -> ApiToken:
    """The user's API token, created on first use."""
    token, _ = ApiToken.objects.get_or_create(user=user)
    return token
