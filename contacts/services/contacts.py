"""Contacts: create, edit, tag and delete, safe against colleagues writing at the same moment.

Every write to an existing contact reads it fresh, then writes it by primary key *and* the
version it read (`_claim`). Zero rows written means a colleague wrote first: the write is
re-applied to their result (fields this user did not touch keep the colleague's values), or,
where the caller named the version it expects, refused. A deleted contact stays deleted: the
claim never inserts, so a write racing a delete answers "gone" (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from contacts import events
from contacts.dbengine import after_commit, atomic
from contacts.jobs import outbox
from contacts.jobs.models import Job, JobKind
from contacts.models import (
    Contact,
    ContactTag,
    Membership,
    Role,
    Tag,
    Workspace,
    normalize_email,
    normalize_tag_name,
)
from contacts.services.common import bump_workspace_version, require_role, unique_race_as_validation_error
from contacts.services.tags import MAX_TAGS_PER_CONTACT, clean_tag_names, tags_get_or_create

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title", "notes", "status")
# What a claim writes: the editable fields, what `save()` would derive from them, and the version.
_CLAIMED_FIELDS = (*CONTACT_FIELDS, "no_last_name", "updated_at", "version")
# A write that keeps losing the race to colleagues gives up with a conflict rather than spin.
MAX_WRITE_ATTEMPTS = 5


@dataclass
class ContactData:
    """What a write changes. `None` means "leave unchanged" (partial updates).

    Tags either replace the whole list (`tags`: the API and the admin send the full list) or
    change it (`tags_add` / `tags_remove`: the pages send what the user did, so two colleagues
    tagging one contact at once both keep their tags).
    """

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    job_title: str | None = None
    notes: str | None = None
    status: str | None = None
    tags: list[str] | None = None
    tags_add: list[str] = field(default_factory=list)
    tags_remove: list[str] = field(default_factory=list)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> ContactData:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def field_changes(self) -> dict[str, str]:
        """The contact fields this write sets, by name."""
        return {name: getattr(self, name) for name in CONTACT_FIELDS if getattr(self, name) is not None}

    def apply_to(self, contact: Contact) -> None:
        for name, value in self.field_changes().items():
            setattr(contact, name, value)


@dataclass(frozen=True)
class FieldConflict:
    """One field both this user and a colleague changed since the user's form opened."""

    field: str
    mine: str
    theirs: str


class ContactGone(Http404):
    """The contact was deleted before or while this write ran. A delete is final: answer 404."""

    def __init__(self) -> None:
        super().__init__("This contact has been deleted.")


class StaleVersionError(Exception):
    """The caller required a version (HTTP `If-Match`) that is no longer the current one."""

    def __init__(self, current: Contact) -> None:
        super().__init__(f"The contact is at version {current.version}.")
        self.current = current


class EditConflictError(Exception):
    """A colleague changed what this user changed since their form opened; nothing was saved."""

    def __init__(self, current: Contact, conflicts: list[FieldConflict]) -> None:
        names = ", ".join(conflict.field for conflict in conflicts) or "the contact"
        super().__init__(f"Changed by someone else meanwhile: {names}.")
        self.current = current
        self.conflicts = conflicts


def contact_create(*, workspace: Workspace, by: Membership, data: ContactData) -> Contact:
    """A member adds a contact; it reaches caches, open tabs and jobs once committed."""
    require_role(by, Role.MEMBER)
    contact = Contact(workspace=workspace, created_by=by.user)
    _require_same_workspace(contact, by)
    data.apply_to(contact)
    tag_names = clean_tag_names([*(data.tags or []), *data.tags_add])
    contact.full_clean()
    # Two creates of one new e-mail at once: the loser gets the duplicate message, not a 500.
    with unique_race_as_validation_error(contact.validate_constraints), atomic():
        contact.save(force_insert=True)
        _contact_tags_change(contact, add=tag_names, remove=[])
        version = bump_workspace_version(workspace)
        # Recorded with the contact: the job survives a broker that is down at commit.
        job = Job.objects.create(kind=JobKind.CONTACT_CREATED, workspace=workspace, subject_id=contact.id)
    _announce(contact, events.ChangeKind.CREATED, version)
    after_commit(outbox.dispatch, job.pk)
    return contact


def contact_update(
    *,
    contact: Contact,
    by: Membership,
    data: ContactData,
    if_version: int | None = None,
    seen: dict[str, str] | None = None,
) -> Contact:
    """A member edits a contact; only the fields given in `data` are written.

    `if_version`: write only if the contact is still at this version (else StaleVersionError).
    `seen`: the values the user's form showed; a field changed both here and by a colleague since
    then raises EditConflictError with both values, and nothing is saved.
    Returns the contact as written (with its new version).
    """
    require_role(by, Role.MEMBER)
    _require_same_workspace(contact, by)
    for _attempt in range(MAX_WRITE_ATTEMPTS):
        current = _contact_fresh(contact)
        if if_version is not None and current.version != if_version:
            raise StaleVersionError(current)
        conflicts = _field_conflicts(current, data, seen)
        if conflicts:
            raise EditConflictError(current, conflicts)
        written = _contact_write(current, data)
        if written is not None:
            return written
    raise EditConflictError(_contact_fresh(contact), [])


def contact_set_tags(*, contact: Contact, by: Membership, tag_names: list[str]) -> Contact:
    """Replace a contact's tags with exactly these."""
    return contact_update(contact=contact, by=by, data=ContactData(tags=list(tag_names)))


def contact_change_tags(
    *, contact: Contact, by: Membership, add: list[str] = (), remove: list[str] = ()
) -> Contact:
    """Add and remove tags (the tag editor): a colleague's tag changes meanwhile are kept."""
    data = ContactData(tags_add=list(add), tags_remove=list(remove))
    return contact_update(contact=contact, by=by, data=data)


def contact_delete(*, contact: Contact, by: Membership, if_version: int | None = None) -> None:
    """A member deletes a contact and its tag links; gone already → ContactGone (404)."""
    require_role(by, Role.MEMBER)
    _require_same_workspace(contact, by)
    contact_id, workspace = contact.id, contact.workspace
    with atomic():
        # Claim the row first (one atomic update on every engine; a row lock on SQL): a delete
        # with `If-Match` then removes exactly that version, and none removes what is gone.
        claim = {"pk": contact_id} if if_version is None else {"pk": contact_id, "version": if_version}
        if not Contact.objects.filter(**claim).update(version=F("version") + 1):
            raise ContactGone() if if_version is None else _mismatch_or_gone(contact)
        # Links first, by contact id: MongoDB cannot delete across collections in one statement.
        ContactTag.objects.filter(contact_id=contact_id).delete()
        Contact.objects.filter(pk=contact_id).delete()
        version = bump_workspace_version(workspace)
    _announce(contact, events.ChangeKind.DELETED, version)


# --- Internals -----------------------------------------------------------------------------------


def _require_same_workspace(contact: Contact, membership: Membership) -> None:
    if contact.workspace_id != membership.workspace_id:
        # Callers look contacts up through the member's workspace; reaching here is a bug, not a 403.
        raise PermissionDenied("This contact belongs to another workspace.")


def _contact_fresh(contact: Contact) -> Contact:
    """The contact as committed now, or ContactGone."""
    current = Contact.objects.filter(pk=contact.pk, workspace_id=contact.workspace_id).first()
    if current is None:
        raise ContactGone()
    current.workspace = contact.workspace  # already loaded; spares a query per write
    return current


def _mismatch_or_gone(contact: Contact) -> Exception:
    current = Contact.objects.filter(pk=contact.pk, workspace_id=contact.workspace_id).first()
    return ContactGone() if current is None else StaleVersionError(current)


def comparable_value(name: str, value: Any) -> str:
    """A field's value as the contact would store it: tells a real change from re-typed spacing."""
    if name == "email":
        return normalize_email(str(value or "")) or ""
    if name == "notes":
        return str(value or "").strip()
    return " ".join(str(value or "").split())


def _field_conflicts(current: Contact, data: ContactData, seen: dict[str, str] | None) -> list[FieldConflict]:
    if seen is None:
        return []
    conflicts = []
    for name, mine in data.field_changes().items():
        if name not in seen:
            continue
        theirs = getattr(current, name)
        base, stored = comparable_value(name, seen[name]), comparable_value(name, theirs)
        if stored != base and stored != comparable_value(name, mine):
            conflicts.append(FieldConflict(field=name, mine=mine, theirs=theirs or ""))
    return conflicts


def _contact_write(current: Contact, data: ContactData) -> Contact | None:
    """Apply `data` to the freshly read contact; None if a colleague wrote it first (retry)."""
    read_version = current.version
    data.apply_to(current)
    add, remove = _tag_delta(current, data)
    current.full_clean()
    with unique_race_as_validation_error(current.validate_constraints), atomic():
        if not _claim(current, read_version):
            return None
        _contact_tags_change(current, add=add, remove=remove)
        version = bump_workspace_version(current.workspace)
    _announce(current, events.ChangeKind.UPDATED, version)
    return current


def _claim(contact: Contact, read_version: int) -> bool:
    """Write the contact if it is still at `read_version`. Never inserts (unlike `save()`)."""
    contact.refresh_derived_fields()
    contact.updated_at = timezone.now()
    contact.version = read_version + 1
    values = {name: getattr(contact, name) for name in _CLAIMED_FIELDS}
    return Contact.objects.filter(pk=contact.pk, version=read_version).update(**values) == 1


def _tag_delta(current: Contact, data: ContactData) -> tuple[list[str], list[UUID]]:
    """(names to link, tag ids to unlink) turning the contact's stored tags into what `data` asks."""
    if data.tags is None and not data.tags_add and not data.tags_remove:
        return [], []
    stored = _stored_tags(current)
    if data.tags is not None:
        wanted = clean_tag_names(data.tags)
    else:
        removed = {normalize_tag_name(name) for name in data.tags_remove if isinstance(name, str)}
        kept = [name for name in stored if name not in removed]
        wanted = kept + [name for name in clean_tag_names(data.tags_add) if name not in kept]
    added = [name for name in wanted if name not in stored]
    if added and len(wanted) > MAX_TAGS_PER_CONTACT:
        raise ValidationError({"tags": f"A contact can have at most {MAX_TAGS_PER_CONTACT} tags."})
    return added, [tag_id for name, tag_id in stored.items() if name not in wanted]


def _stored_tags(contact: Contact) -> dict[str, UUID]:
    """The contact's tags as committed, name → id (two plain reads: no join, for every engine)."""
    tag_ids = list(ContactTag.objects.filter(contact_id=contact.id).values_list("tag_id", flat=True))
    if not tag_ids:
        return {}
    return dict(Tag.objects.filter(id__in=tag_ids).order_by("name").values_list("name", "id"))


def _contact_tags_change(contact: Contact, *, add: list[str], remove: list[UUID]) -> None:
    if remove:
        ContactTag.objects.filter(contact_id=contact.id, tag_id__in=remove).delete()
    if add:
        tags = tags_get_or_create(workspace=contact.workspace, names=add)
        ContactTag.objects.bulk_create(ContactTag(contact=contact, tag=tag) for tag in tags)


def _announce(contact: Contact, kind: events.ChangeKind, version: int) -> None:
    after_commit(
        events.contact_changed,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        kind=kind,
        version=version,
    )
