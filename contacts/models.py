"""Workspaces, their members, contacts and tags.

Primary keys are UUIDs stored in the `_id` column so one set of migrations serves SQLite,
PostgreSQL and MongoDB (where every document's key is `_id`).
"""

from __future__ import annotations

import secrets
import unicodedata
import uuid
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models

from contacts.text import (
    NAME_NEEDS_VISIBLE,
    TEXT_NEEDS_VISIBLE,
    clean_email,
    fillers_to_spaces,
    normalize_email,
    validate_single_line,
)


def uuid_primary_key() -> models.UUIDField:
    return models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="_id")


def fold(text: str) -> str:
    """Lower-case text with accents removed, for matching that forgives case and accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# What each role may do is "at least this rank": viewers read, members edit contacts, admins run
# bulk jobs and manage members, owners own the workspace.
ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


WORKSPACE_NAME_NEEDS_VISIBLE = "Enter a workspace name with at least one visible letter or digit."


class Workspace(models.Model):
    id = uuid_primary_key()
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    # Bumped inside every contact write's transaction: the cache version and the sequence number
    # live clients use to notice they missed an event.
    change_version = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude=None) -> None:
        errors: dict[str, list[ValidationError]] = {}
        if "name" not in set(exclude or ()):
            try:
                validate_single_line(self.name or "", visible_message=WORKSPACE_NAME_NEEDS_VISIBLE)
            except ValidationError as error:
                errors["name"] = error.error_list
        _clean_other_fields(super().clean_fields, exclude, errors)


class Membership(models.Model):
    id = uuid_primary_key()
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user"],
                name="membership_unique_user_per_workspace",
                violation_error_message="This user is already a member of the workspace.",
            )
        ]
        indexes = [models.Index(fields=["user", "workspace"], name="membership_user_ws")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def has_role(self, role: Role) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[role]

    @property
    def can_edit(self) -> bool:
        return self.has_role(Role.MEMBER)

    @property
    def can_run_jobs(self) -> bool:
        """Bulk jobs (activating leads e-mails each of them) are for the workspace's admins."""
        return self.has_role(Role.ADMIN)


TAG_NAME_MAX_LENGTH = 40
tag_name_validator = RegexValidator(
    r"^[\w][\w .&+/#'-]*$",
    "Tags may contain letters, digits, spaces and . & + / # ' - (and must start with a letter or digit).",
)


def normalize_tag_name(name: str) -> str:
    """Tags are matched case-insensitively; store them lower-case (NFC) with single spaces.

    Hangul fillers count as spaces: they are letters to the tag pattern, so "vip" plus a filler
    would otherwise be a second tag that looks like "vip", and a filler alone a tag showing nothing.
    """
    return " ".join(fillers_to_spaces(unicodedata.normalize("NFC", name)).split()).lower()


class Tag(models.Model):
    id = uuid_primary_key()
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=TAG_NAME_MAX_LENGTH, validators=[tag_name_validator])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                name="tag_unique_name_per_workspace",
                violation_error_message="This workspace already has a tag with this name.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name = normalize_tag_name(self.name)
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None) -> None:
        # Validate the name as it will be stored, so "VIP" is refused where "vip" exists
        # (instead of passing validation and failing on the database constraint).
        self.name = normalize_tag_name(self.name or "")
        super().clean_fields(exclude=exclude)


class ContactStatus(models.TextChoices):
    LEAD = "lead", "Lead"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


# 5 to 20 digits with the usual separators, an optional leading + and an optional extension.
# Expressed as one regular expression (no look-ahead) so the API schema can publish it as a pattern.
PHONE_PATTERN = r"^\+?(?:[ ().\-/]*[0-9]){5,20}[ ().\-/]*(?:(?:x|ext\.?) ?[0-9]{1,6})?$"
phone_validator = RegexValidator(
    PHONE_PATTERN,
    "Enter a phone number such as +44 20 7946 0958 (5 to 20 digits; spaces, + ( ) - . / and an optional ext).",
)
NOTES_MAX_LENGTH = 5000
DUPLICATE_EMAIL = "duplicate_email"
# Single-line fields are stored with runs of white space collapsed to one space.
SINGLE_LINE_FIELDS = ("first_name", "last_name", "phone", "company", "job_title")
# What a single-line field says when given only invisible characters (the phone's own pattern
# already demands digits).
NEEDS_VISIBLE_MESSAGES = {
    "first_name": NAME_NEEDS_VISIBLE,
    "last_name": NAME_NEEDS_VISIBLE,
    "company": TEXT_NEEDS_VISIBLE,
    "job_title": TEXT_NEEDS_VISIBLE,
}


class EmailAddressFormField(forms.EmailField):
    """An e-mail form field that explains invisible characters and bad international domains.

    Django's EmailValidator would answer "Enter a valid email address." for an address that
    looks right on screen; this says what is wrong, then validates the stored spelling.
    """

    def to_python(self, value: str | None) -> str | None:
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return clean_email(value)


class EmailAddressField(models.EmailField):
    """The contact's e-mail column; only its form field differs from Django's EmailField."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": EmailAddressFormField, **kwargs})

    def deconstruct(self):
        # Nothing in the database differs, so migrations record (and compare) a plain EmailField.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.EmailField", args, kwargs


class Contact(models.Model):
    id = uuid_primary_key()
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, blank=True)
    # Optional (a supplier may have only a phone); unique per workspace when present.
    email = EmailAddressField(max_length=254, null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True, validators=[phone_validator])
    company = models.CharField(max_length=120, blank=True)
    job_title = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True, validators=[MaxLengthValidator(NOTES_MAX_LENGTH)])
    status = models.CharField(max_length=10, choices=ContactStatus.choices, default=ContactStatus.LEAD)
    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Incremented by every change: the API's ETag and the edit form's "opened at" marker, so a
    # write based on an older read is detected instead of silently undoing a colleague's work.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Derived from last_name (save() sets it): sorting by name puts contacts without a last name
    # after the others in both directions, through a plain index on every engine (one per
    # direction) rather than an expression the list's order could not be read from an index for.
    no_last_name = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(
                fields=["workspace", "no_last_name", "last_name", "first_name"], name="contact_ws_name"
            ),
            models.Index(
                fields=["workspace", "no_last_name", "-last_name", "-first_name"], name="contact_ws_name_desc"
            ),
            models.Index(fields=["workspace", "company"], name="contact_ws_company"),
            models.Index(fields=["workspace", "status"], name="contact_ws_status"),
            models.Index(fields=["workspace", "-created_at"], name="contact_ws_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                name="contact_unique_email_per_workspace",
                violation_error_code=DUPLICATE_EMAIL,
                violation_error_message="Another contact in this workspace already has this e-mail address.",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:
        self.refresh_derived_fields()
        super().save(*args, **kwargs)

    def refresh_derived_fields(self) -> None:
        """Normalise the e-mail and note a missing last name: `save()` does it; `bulk_create`
        callers must. (The full-text index is the database's business: triggers keep it in step,
        see contacts/search/.)"""
        self.email = normalize_email(self.email)
        self.no_last_name = not (self.last_name or "").strip()

    def clean_fields(self, exclude=None) -> None:
        # Normalise before field validation so "   " counts as blank and lengths are measured tidy.
        # The text rules (contacts.text) run first; a field they refuse skips Django's validators,
        # so it shows one message that says what is wrong rather than a generic second one.
        exclude = set(exclude or ())
        errors: dict[str, list[ValidationError]] = {}
        for name in SINGLE_LINE_FIELDS:
            value = " ".join((getattr(self, name) or "").split())
            setattr(self, name, value)
            if name not in exclude:
                try:
                    validate_single_line(value, visible_message=NEEDS_VISIBLE_MESSAGES.get(name))
                except ValidationError as error:
                    errors[name] = error.error_list
        self.notes = (self.notes or "").strip()
        if "email" in exclude:
            self.email = normalize_email(self.email)
        else:
            try:
                self.email = clean_email(self.email)
            except ValidationError as error:
                errors["email"] = error.error_list
        _clean_other_fields(super().clean_fields, exclude, errors)

    def validate_constraints(self, exclude=None) -> None:
        # A duplicate e-mail is reported on the e-mail field, where forms show it and APIs name it.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict({})
            duplicates = [e for e in errors.get(NON_FIELD_ERRORS, []) if e.code == DUPLICATE_EMAIL]
            if duplicates:
                errors[NON_FIELD_ERRORS] = [e for e in errors[NON_FIELD_ERRORS] if e.code != DUPLICATE_EMAIL]
                errors.setdefault("email", []).extend(duplicates)
                errors = {field: messages for field, messages in errors.items() if messages}
            raise ValidationError(errors) from None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def initials(self) -> str:
        return "".join(part[:1] for part in (self.first_name, self.last_name) if part).upper()


def _clean_other_fields(
    clean_fields: Callable[..., None], exclude, errors: dict[str, list[ValidationError]]
) -> None:
    """Django's `clean_fields` for the fields `errors` does not already refuse, then all errors."""
    try:
        clean_fields(exclude={*(exclude or ()), *errors})
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


class ContactTag(models.Model):
    """The explicit through model: MongoDB can't prefetch many-to-many, so pages read it directly."""

    id = uuid_primary_key()
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="contact_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="contact_tags")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "tag"], name="contacttag_unique")]

    def __str__(self) -> str:
        return f"{self.contact_id} #{self.tag_id}"


def new_token_key() -> str:
    return secrets.token_hex(20)


class ApiToken(models.Model):
    """One API key per user (`manage.py api_token USERNAME`)."""

    id = uuid_primary_key()
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    key = models.CharField(max_length=40, unique=True, default=new_token_key)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"API token of {self.user}"


# Job models live beside their engine (contacts/jobs/) and belong to this app.
from contacts.jobs.models import (  # noqa: E402
    ActivationItem,
    ActivationRun,
    Activity,
    ItemStatus,
    Job,
    JobKind,
    JobStatus,
    RunStatus,
)

# The full-text index row (unmanaged: database triggers write it; see contacts/search/).
from contacts.search.models import ContactSearchEntry  # noqa: E402

__all__ = [
    "ActivationItem",
    "ActivationRun",
    "Activity",
    "ApiToken",
    "Contact",
    "ContactSearchEntry",
    "ContactStatus",
    "ContactTag",
    "ItemStatus",
    "Job",
    "JobKind",
    "JobStatus",
    "Membership",
    "Role",
    "RunStatus",
    "Tag",
    "Workspace",
    "fold",
    "normalize_email",
    "normalize_tag_name",
]
