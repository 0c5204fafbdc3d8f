"""HTTP-side validation for the contact pages.

Forms check what a person typed; the services re-check everything (they are the guarantee) and
their ValidationErrors are mapped back onto the form so each message shows next to its field.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import UniqueConstraint

from contacts import selectors, services
from contacts.models import NOTES_MAX_LENGTH, Contact, Workspace, normalize_tag_name
from contacts.months import parse_month
from contacts.selectors import ORDERING_CHOICES, PAGE_SIZES, ContactQuery
from contacts.services import CONTACT_FIELDS, ContactData, EditConflictError, FieldConflict, comparable_value

SEARCH_MAX_LENGTH = 100
COMPANY_MAX_LENGTH = Contact._meta.get_field("company").max_length
TAGS_INPUT_MAX_LENGTH = 1000


def _shown(value: str, limit: int = 30) -> str:
    """A bad value quoted back to the user, cut short so a pasted novel doesn't fill the page."""
    return value if len(value) <= limit else value[:limit] + "…"


class ContactFilterForm(forms.Form):
    """The list page's query string. Each bad parameter is dropped with a message, never a 500."""

    search = forms.CharField(required=False, strip=True)
    status = forms.CharField(required=False)
    tag = forms.CharField(required=False)
    company = forms.CharField(required=False, strip=True)
    created = forms.CharField(required=False, strip=True)
    sort = forms.CharField(required=False)
    page = forms.CharField(required=False)
    size = forms.CharField(required=False)

    # How each parameter is named in the messages about it.
    PARAMETER_NAMES = {
        "search": "The search",
        "status": "The status filter",
        "tag": "The tag filter",
        "company": "The company filter",
        "created": "The month filter",
        "sort": "The sort order",
        "page": "The page number",
        "size": "The page size",
    }

    def __init__(self, data: Any, *, workspace: Workspace) -> None:
        super().__init__(data)
        self.workspace = workspace
        # CharField refuses NUL characters (PostgreSQL can't take them) before any clean_<name>
        # runs; its message would not say which parameter was dropped, this one does.
        for name, field in self.fields.items():
            field.validators = [
                ProhibitNullCharactersValidator(
                    message=f"{self.PARAMETER_NAMES[name]} contained a null character and was ignored."
                )
                if isinstance(validator, ProhibitNullCharactersValidator)
                else validator
                for validator in field.validators
            ]

    def clean_search(self) -> str:
        search = self.cleaned_data["search"]
        if len(search) > SEARCH_MAX_LENGTH:
            raise ValidationError(
                f"The search was longer than {SEARCH_MAX_LENGTH} characters and was ignored; "
                "try a few distinctive words.",
                code="search_too_long",
            )
        return search

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if status and status not in dict(selectors.status_choices()):
            raise ValidationError(
                f"There is no status “{_shown(status)}”; showing every status.", code="bad_status"
            )
        return status

    def clean_tag(self) -> str:
        # Tags are stored normalised (lower-case, single spaces): `?tag=VIP` means the tag "vip",
        # as it does in the API.
        raw = self.cleaned_data["tag"]
        tag = normalize_tag_name(raw)
        if tag and not selectors.tag_exists(self.workspace, tag):
            raise ValidationError(
                f"There is no tag “{_shown(raw)}” in this workspace; the tag filter was ignored.",
                code="bad_tag",
            )
        return tag

    def clean_company(self) -> str:
        company = self.cleaned_data["company"]
        if len(company) > COMPANY_MAX_LENGTH:
            raise ValidationError(
                f"A company name has at most {COMPANY_MAX_LENGTH} characters; the company filter was ignored.",
                code="company_too_long",
            )
        return company

    def clean_created(self) -> str:
        created = self.cleaned_data["created"]
        if created and parse_month(created) is None:
            raise ValidationError(
                f"“{_shown(created)}” is not a month (YYYY-MM, e.g. 2025-03); showing every month.",
                code="bad_created",
            )
        return created

    def clean_sort(self) -> str:
        sort = self.cleaned_data["sort"]
        if sort and sort not in ORDERING_CHOICES:
            raise ValidationError(
                f"Contacts cannot be sorted by “{_shown(sort)}”; sorted by name instead.", code="bad_sort"
            )
        return sort

    def clean_page(self) -> int:
        page = self.cleaned_data["page"]
        if not page:
            return 1
        # ASCII digits only: str.isdigit() also accepts "²" and "①", which int() then refuses.
        if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 1_000_000:
            raise ValidationError(f"“{_shown(page)}” is not a page number; showing page 1.", code="bad_page")
        return int(page)

    def clean_size(self) -> int:
        size = self.cleaned_data["size"]
        if not size:
            return 0
        if not (size.isascii() and size.isdigit()) or int(size) not in PAGE_SIZES:
            choices = ", ".join(map(str, PAGE_SIZES[:-1])) + f" or {PAGE_SIZES[-1]}"
            raise ValidationError(
                f"“{_shown(size)}” is not a page size ({choices}); showing the usual number.",
                code="bad_size",
            )
        return int(size)

    def to_query(self) -> ContactQuery:
        """The valid part of the query string (call after `is_valid()`)."""
        valid = self.cleaned_data
        return ContactQuery(
            search=valid.get("search", ""),
            status=valid.get("status", ""),
            tag=valid.get("tag", ""),
            company=valid.get("company", ""),
            created=valid.get("created", ""),
            ordering=valid.get("sort", ""),
            page=valid.get("page", 1),
            size=valid.get("size", 0),
        )

    def problems(self) -> list[str]:
        """One readable sentence per ignored parameter, in the order the fields are declared."""
        return [message for name in self.fields for message in self.errors.get(name, [])]

    @classmethod
    def read(cls, data: Any, *, workspace: Workspace) -> tuple[ContactQuery, list[str]]:
        """The query and the problems of `data`. No parameters at all (the list as first opened,
        and as every live refresh of it re-reads it) is the default query, without building a form."""
        if not data:
            return ContactQuery(), []
        form = cls(data, workspace=workspace)
        form.is_valid()
        return form.to_query(), form.problems()


def split_tags(text: str) -> list[str]:
    """`"vip, Partner ,, event 2026"` → `["vip", "Partner", "event 2026"]` (services normalise case)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def clean_tags_text(texts: list[str]) -> list[str]:
    """Tag names from one or more comma-separated inputs, or a ValidationError on the `tags` field."""
    try:
        return services.clean_tag_names(name for text in texts for name in split_tags(text))
    except ValidationError as error:
        raise ValidationError(error.message_dict.get("tags", error.messages)) from None


def shown_values(contact: Contact, tags_text: str) -> dict[str, str]:
    """The editable values of `contact` as its edit form shows them (the form's `seen`)."""
    return {**{name: getattr(contact, name) or "" for name in CONTACT_FIELDS}, "tags": tags_text}


class ContactForm(forms.ModelForm):
    """Create / edit a contact. `save()` goes through the services, inside one workspace.

    An edit form carries `seen`: the values it showed when it opened. Saving writes only the
    fields the user changed since (and the tags they added or removed), so a colleague's save of
    other fields in the meantime is kept; where both changed one field, the service refuses with
    `EditConflictError` and `rebased_on()` builds the form that lets the user choose.
    """

    tags = forms.CharField(
        required=False,
        max_length=TAGS_INPUT_MAX_LENGTH,
        help_text="Separate tags with commas, e.g. “vip, newsletter”.",
    )
    seen = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        labels = {"email": "E-mail", "job_title": "Job title"}
        widgets = {"notes": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.conflicts: list[FieldConflict] = []
        if self.instance.pk and "tags" not in self.initial:
            self.initial["tags"] = ", ".join(selectors.contact_tag_names(self.instance))
        if self.instance.pk and "seen" not in self.initial:
            self.initial["seen"] = json.dumps(shown_values(self.instance, self.initial["tags"]))
        hints = {
            "first_name": "given-name",
            "last_name": "family-name",
            "email": "email",
            "phone": "tel",
            "company": "organization",
            "job_title": "organization-title",
            "tags": "off",
        }
        for name, autocomplete in hints.items():
            self.fields[name].widget.attrs["autocomplete"] = autocomplete
        self.fields["phone"].widget.input_type = "tel"
        self.fields["phone"].help_text = "For example +44 20 7946 0958 or 020 7946 0958 ext 12."
        self.fields["notes"].widget.attrs["maxlength"] = NOTES_MAX_LENGTH

    def clean_tags(self) -> list[str]:
        return clean_tags_text([self.cleaned_data["tags"]])

    def clean_seen(self) -> dict[str, str] | None:
        """What the form showed; None (save every field, as a plain scripted post does) when absent."""
        try:
            seen = json.loads(self.cleaned_data["seen"] or "null")
        except ValueError:
            return None
        if not isinstance(seen, dict):
            return None
        return {name: value for name, value in seen.items() if isinstance(value, str)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # After a conflict the user picks, per field, their value or the colleague's (now `seen`).
        seen = cleaned.get("seen") or {}
        for name in CONTACT_FIELDS:
            if self.data.get(f"keep_{name}") == "theirs" and name in seen:
                cleaned[name] = seen[name]
                self.errors.pop(name, None)
        return cleaned

    def seen_values(self) -> dict[str, str] | None:
        return self.cleaned_data.get("seen")

    def contact_data(self) -> ContactData:
        # "" rather than None: ContactData treats None as "leave unchanged", but a cleared field must clear.
        values = {name: self.cleaned_data.get(name) or "" for name in CONTACT_FIELDS}
        seen = self.seen_values()
        if seen is None:
            return ContactData(**values, tags=self.cleaned_data["tags"])
        changed = {
            name: value
            for name, value in values.items()
            if name not in seen or comparable_value(name, value) != comparable_value(name, seen[name])
        }
        shown_tags = clean_tags_text([seen.get("tags", "")]) if "tags" in seen else []
        wanted = self.cleaned_data["tags"]
        return ContactData(
            **changed,
            tags_add=[name for name in wanted if name not in shown_tags],
            tags_remove=[name for name in shown_tags if name not in wanted],
        )

    def rebased_on(self, conflict: EditConflictError) -> ContactForm:
        """The form after a colleague's conflicting save: nothing was saved, nothing typed is lost.

        Fields only the colleague changed now show their value; fields only this user changed
        keep the user's; each field both changed keeps the user's value and lists the colleague's
        beside it to pick from. `seen` becomes the stored contact, so saving again resolves it.
        """
        current = conflict.current
        mine = self.contact_data()
        changed_by_me = mine.field_changes()
        current_tags = selectors.contact_tag_names(current)
        data = self.data.copy()
        for name in CONTACT_FIELDS:
            if name not in changed_by_me:
                data[name] = getattr(current, name) or ""
        kept = [name for name in current_tags if name not in mine.tags_remove]
        data["tags"] = ", ".join(kept + [name for name in mine.tags_add if name not in kept])
        data["seen"] = json.dumps(shown_values(current, ", ".join(current_tags)))
        rebased = ContactForm(data, instance=current, workspace=self.workspace)
        rebased.conflicts = conflict.conflicts
        rebased.is_valid()
        if not conflict.conflicts:
            # Colleagues saved this contact again and again while this save retried.
            rebased.add_error(
                None,
                "Colleagues kept changing this contact while you saved. Check the values and save again.",
            )
        for item in conflict.conflicts:
            theirs = item.theirs or "(empty)"
            rebased.add_error(
                item.field, f"A colleague changed this to “{_shown(theirs, 60)}” while you were editing."
            )
        return rebased

    def save_via(self, write: Any) -> Contact | None:
        """Run a service write; on a ValidationError show its messages on the form and return None."""
        try:
            return write(self.contact_data())
        except ValidationError as error:
            self.add_service_errors(error)
            return None

    def add_service_errors(self, error: ValidationError) -> None:
        """Put each message of a service's ValidationError next to the field it concerns."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            target = field if field in self.fields else None
            if field == NON_FIELD_ERRORS:
                target = self._field_of_constraint_message([m for item in errors for m in item.messages])
            for item in errors:  # the errors themselves, not their text: the view reads their codes
                if target and all(m in self.errors.get(target, []) for m in item.messages):
                    continue
                self.add_error(target, item)

    def _field_of_constraint_message(self, messages: list[str]) -> str | None:
        """A unique constraint's message belongs next to its one user-editable field (e.g. e-mail)."""
        for constraint in Contact._meta.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.violation_error_message in messages:
                editable = [name for name in constraint.fields if name in self.fields]
                if len(editable) == 1:
                    return editable[0]
        return None


class TagEditForm(forms.Form):
    """The detail page's in-place tag editor: tags to add (comma-separated) or one to remove.

    It sends the change, never the whole list it showed, so a colleague's tags added or removed
    meanwhile stay as they left them.
    """

    add = forms.CharField(required=False, max_length=TAGS_INPUT_MAX_LENGTH)
    remove = forms.CharField(required=False, max_length=TAGS_INPUT_MAX_LENGTH)

    def clean_add(self) -> list[str]:
        return clean_tags_text([self.cleaned_data["add"]])

    def clean_remove(self) -> list[str]:
        name = normalize_tag_name(self.cleaned_data["remove"])
        return [name] if name else []
