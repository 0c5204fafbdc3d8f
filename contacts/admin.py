"""Django admin for site admins: workspaces and members, contacts, tags, API tokens, activation runs.

Contact saves and deletes go through `contacts.services`, like every other write, so they are
validated the same way, bump the workspace's change version and reach caches and open tabs
after commit. The admin acts with site authority, not a workspace role: Django's model
permissions decide what a staff user may do here, and the services are handed an unsaved
owner membership (`acting_membership`) so their role check passes and `created_by` is the
admin. Tags are picked with an autocomplete field on the contact form and saved by the same
service call (one write, one version bump, one event) rather than by a through-model inline,
whose rows Django would save behind the service's back.

Activation runs and their items are read-only here: runs are started (the "Activate selected
leads" and "Retry" actions) through `services.activation_start`, and "Resume" only hands an
unfinished run to a worker again, which takes it up only if no live worker holds it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from contacts import selectors, services
from contacts.models import (
    ApiToken,
    Contact,
    ContactTag,
    Membership,
    Role,
    Tag,
    Workspace,
    normalize_tag_name,
)
from contacts.services import CONTACT_FIELDS, ContactData

FILTER_CHOICES_LIMIT = 15  # the list filters show the most used companies and tags, not all of them


def acting_membership(user: AbstractBaseUser, workspace: Workspace) -> Membership:
    """The role the admin writes with: owner of any workspace (never saved; see module docstring)."""
    return Membership(workspace=workspace, user=user, role=Role.OWNER)


class PageDecoratingChangeList(ChangeList):
    """Lets the model admin add per-row data for the whole page in one query (`decorate_page`)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.result_list = list(self.result_list)
        self.model_admin.decorate_page(self.result_list)


def _selected_workspace_id(request: HttpRequest) -> UUID | None:
    """The workspace chosen in the list's workspace filter, so other filters can narrow to it."""
    try:
        return UUID(request.GET.get("workspace__id__exact", ""))
    except ValueError:
        return None


# --- Contacts ----------------------------------------------------------------------------------


class CompanyFilter(admin.SimpleListFilter):
    title = "company"
    parameter_name = "company"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        contacts = Contact.objects.exclude(company="")
        if workspace_id := _selected_workspace_id(request):
            contacts = contacts.filter(workspace_id=workspace_id)
        rows = contacts.values("company").annotate(n=Count("id")).order_by("-n", "company")
        choices = [(row["company"], f"{row['company']} ({row['n']})") for row in rows[:FILTER_CHOICES_LIMIT]]
        if self.value() and self.value() not in {value for value, _ in choices}:
            choices.append((self.value(), self.value()))  # keep a company chosen from a link visible
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> QuerySet[Contact]:
        return queryset.filter(company=self.value()) if self.value() else queryset


class TagFilter(admin.SimpleListFilter):
    """By tag name (in every workspace, or in the one chosen in the workspace filter)."""

    title = "tag"
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        links = ContactTag.objects.all()
        if workspace_id := _selected_workspace_id(request):
            links = links.filter(tag__workspace_id=workspace_id)
        rows = links.values("tag__name").annotate(n=Count("id")).order_by("-n", "tag__name")
        names = [row["tag__name"] for row in rows[:FILTER_CHOICES_LIMIT]]
        if self.value() and self.value() not in names:
            names.append(self.value())
        return [(name, name) for name in names]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> QuerySet[Contact]:
        if not self.value():
            return queryset
        links = ContactTag.objects.filter(tag__name=self.value())
        if workspace_id := _selected_workspace_id(request):
            links = links.filter(tag__workspace_id=workspace_id)
        # Ids first, as selectors.contacts_matching does: no join across collections on MongoDB.
        return queryset.filter(id__in=list(links.values_list("contact_id", flat=True)))


class ContactAdminForm(forms.ModelForm):
    # Tags are names within a workspace (the service links, or creates, the contact's own
    # workspace's tag of each name), so a name picked from any workspace's list means the same.
    tag_choices = forms.ModelMultipleChoiceField(
        label="Tags",
        queryset=Tag.objects.all(),
        required=False,
        widget=AutocompleteSelectMultiple(Contact._meta.get_field("tags"), admin.site),
        help_text="Tag names; the contact's workspace gets any it does not have yet.",
    )

    class Meta:
        model = Contact
        fields = ["workspace", *CONTACT_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            # Moving a contact between workspaces would strand its tags: create it in the other
            # one instead. Disabled rather than read-only, so the field stays in the form and the
            # unique (workspace, e-mail) constraint is checked here, not first in the service.
            workspace = self.fields["workspace"]
            workspace.queryset = Workspace.objects.filter(pk=self.instance.workspace_id)
            workspace.widget = forms.Select(choices=workspace.choices)
            workspace.disabled = True
            self.initial["tag_choices"] = list(
                ContactTag.objects.filter(contact_id=self.instance.pk).values_list("tag_id", flat=True)
            )

    def clean_tag_choices(self) -> QuerySet[Tag]:
        tags = self.cleaned_data["tag_choices"]
        try:
            services.clean_tag_names(tag.name for tag in tags)
        except ValidationError as error:
            raise ValidationError(error.message_dict["tags"]) from None
        return tags


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ("full_name", "email", "company", "status", "workspace", "tag_list", "updated_at")
    list_display_links = ("full_name",)
    list_select_related = ("workspace",)
    # String fields only: MongoDB matches admin searches with regular expressions on strings.
    search_fields = ("first_name", "last_name", "email", "company")
    list_filter = ("workspace", "status", TagFilter, CompanyFilter)
    autocomplete_fields = ("workspace",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    list_per_page = 50
    show_full_result_count = False  # one exact count per page view is enough
    actions = ("activate_leads",)

    def get_fieldsets(self, request: HttpRequest, obj: Contact | None = None) -> list:
        details = (
            None,
            {
                "fields": (
                    "workspace",
                    ("first_name", "last_name"),
                    "email",
                    "phone",
                    ("company", "job_title"),
                    "status",
                    "tag_choices",
                    "notes",
                )
            },
        )
        if obj is None:
            return [details]
        return [details, ("History", {"fields": ("created_by", "created_at", "updated_at")})]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PageDecoratingChangeList

    def decorate_page(self, contacts: list[Contact]) -> None:
        tags = selectors.tag_names_by_contact(contact.id for contact in contacts)
        for contact in contacts:
            contact.admin_tag_names = tags.get(contact.id, [])

    @admin.display(description="Name", ordering="last_name")
    def full_name(self, contact: Contact) -> str:
        return contact.full_name

    @admin.display(description="Tags")
    def tag_list(self, contact: Contact) -> str:
        names = getattr(contact, "admin_tag_names", None)
        if names is None:
            names = selectors.contact_tag_names(contact)
        return ", ".join(names)

    def save_model(self, request: HttpRequest, obj: Contact, form: forms.ModelForm, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in CONTACT_FIELDS if name in form.cleaned_data}
        data = ContactData.from_mapping(
            {**fields, "tags": [tag.name for tag in form.cleaned_data["tag_choices"]]}
        )
        by = acting_membership(request.user, obj.workspace)
        if change:
            services.contact_update(contact=obj, by=by, data=data)
            return
        created = services.contact_create(workspace=obj.workspace, by=by, data=data)
        # The admin goes on with `obj` (its redirect and log entry): make it the saved contact.
        for field in Contact._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding, obj._state.db = False, created._state.db

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """Nothing left to save: the service call in `save_model` wrote the tags too."""

    def delete_model(self, request: HttpRequest, obj: Contact) -> None:
        services.contact_delete(contact=obj, by=acting_membership(request.user, obj.workspace))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        for contact in queryset.select_related("workspace"):
            services.contact_delete(contact=contact, by=acting_membership(request.user, contact.workspace))

    @admin.action(description="Activate selected leads", permissions=["activate"])
    def activate_leads(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        """One run per workspace; contacts that are not leads are left out by the service."""
        start_activations(self, request, queryset.values_list("workspace_id", "pk"))

    def has_activate_permission(self, request: HttpRequest) -> bool:
        return can_start_activations(request)


# --- Workspaces and members --------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    extra = 0


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "change_version", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("change_version", "created_at")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role", "workspace")
    list_select_related = ("user", "workspace")
    search_fields = ("user__username",)
    autocomplete_fields = ("user", "workspace")
    readonly_fields = ("created_at",)


# --- Tags --------------------------------------------------------------------------------------


class TagAdminForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["workspace", "name"]

    def clean_name(self) -> str:
        # Compare the stored (normalised) form, so "VIP" is refused where "vip" exists.
        return normalize_tag_name(self.cleaned_data["name"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # A change form shows the workspace read-only, and ModelForm leaves fields it does not
        # edit out of its unique checks: check the name against the tag's own workspace here.
        name, workspace_id = cleaned.get("name"), self.instance.workspace_id
        read_only_workspace = "workspace" not in cleaned and workspace_id
        if (
            read_only_workspace
            and name
            and selectors.tag_name_taken(workspace_id, name, exclude_id=self.instance.pk)
        ):
            self.add_error("name", "This workspace already has a tag with this name.")
        return cleaned


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Renaming or deleting a tag changes how contacts look: the workspace version is bumped."""

    form = TagAdminForm
    list_display = ("name", "workspace", "contact_count", "created_at")
    list_filter = ("workspace",)
    list_select_related = ("workspace",)
    search_fields = ("name",)  # also what the contact form's tag autocomplete searches
    autocomplete_fields = ("workspace",)
    readonly_fields = ("created_at",)

    def get_readonly_fields(self, request: HttpRequest, obj: Tag | None = None) -> tuple[str, ...]:
        return (*self.readonly_fields, "workspace") if obj is not None else self.readonly_fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Tag], search_term: str
    ) -> tuple[QuerySet[Tag], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "contact" and request.GET.get("field_name") == "tags":
            # The contact form's autocomplete picks names: offer each name once, not once per workspace.
            first_of_name: dict[str, UUID] = {}
            for tag_id, name in queryset.order_by("name", "created_at").values_list("id", "name"):
                first_of_name.setdefault(name, tag_id)
            queryset = queryset.filter(id__in=list(first_of_name.values()))
        return queryset, may_have_duplicates

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PageDecoratingChangeList

    def decorate_page(self, tags: list[Tag]) -> None:
        counts = selectors.tag_contact_counts(tag.id for tag in tags)
        for tag in tags:
            tag.admin_contact_count = counts.get(tag.id, 0)

    @admin.display(description="Contacts")
    def contact_count(self, tag: Tag) -> int:
        count = getattr(tag, "admin_contact_count", None)
        return ContactTag.objects.filter(tag_id=tag.id).count() if count is None else count

    def save_model(self, request: HttpRequest, obj: Tag, form: forms.ModelForm, change: bool) -> None:
        services.tag_save(tag=obj)

    def delete_model(self, request: HttpRequest, obj: Tag) -> None:
        workspace = obj.workspace
        super().delete_model(request, obj)
        services.workspace_bump_version(workspace=workspace)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        workspaces = {tag.workspace_id: tag.workspace for tag in queryset.select_related("workspace")}
        super().delete_queryset(request, queryset)
        for workspace in workspaces.values():
            services.workspace_bump_version(workspace=workspace)


# --- API tokens --------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Adding a token for a user creates their key (the same as `manage.py api_token USERNAME`)."""

    list_display = ("user", "key_hint", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        return ("user",) if obj is None else ("user", "key", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        return () if obj is None else ("user", "key", "created_at")

    @admin.display(description="Key")
    def key_hint(self, token: ApiToken) -> str:
        return f"{token.key[:6]}…"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # every field is read-only once the token exists
        token = services.api_token_get_or_create(user=obj.user)
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding, obj._state.db = False, token._state.db

    def response_post_save_add(self, request: HttpRequest, obj: ApiToken) -> HttpResponseRedirect:
        """Straight to the new token's page, where its key is shown."""
        return HttpResponseRedirect(reverse("admin:contacts_apitoken_change", args=[obj.pk]))


# Activation runs, their items and recorded jobs (registers their admin pages; its helpers start
# runs for the contact action above).
from contacts.jobs.admin import can_start_activations, start_activations  # noqa: E402
