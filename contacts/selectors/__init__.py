"""Every read in the product. Each query starts from a workspace the caller belongs to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from contacts.cache import cached, workspace_key
from contacts.dbengine.compiled_read import CompiledRead
from contacts.jobs.models import UNFINISHED_RUN_STATUSES
from contacts.models import (
    ActivationRun,
    Contact,
    ContactStatus,
    ContactTag,
    Membership,
    Tag,
    Workspace,
    normalize_email,
    normalize_tag_name,
)
from contacts.months import month_bounds
from contacts.search import contacts_search, ranked_page, search_terms

# Public sort keys → ORM ordering. Every ordering ends in the primary key so pages are stable.
CONTACT_ORDERINGS: dict[str, tuple[str, ...]] = {
    # Contacts without a last name last, whichever way (an index for each direction).
    "name": ("no_last_name", "last_name", "first_name", "id"),
    "-name": ("no_last_name", "-last_name", "-first_name", "-id"),
    "company": ("company", "last_name", "first_name", "id"),
    "-company": ("-company", "last_name", "first_name", "id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
# Without a chosen order: by name, or by relevance while searching.
DEFAULT_ORDERING = "name"
RELEVANCE = "relevance"
# The page sizes the list offers (besides the default, settings.CONTACTS_PAGE_SIZE).
PAGE_SIZES = (25, 50, 100)
# A search matching more contacts than this shows (and pages through) its best this many.
BROAD_SEARCH_SHOWN = 1000
ORDERING_CHOICES = (*CONTACT_ORDERINGS, RELEVANCE)


# --- Workspaces --------------------------------------------------------------------------------


# Every workspace page's first read (the permission check): compiled once per process.
_memberships_with_workspaces = CompiledRead(
    Membership,
    "workspace",
    lambda user_id: Membership.objects.filter(user_id=user_id).order_by("workspace__name"),
)


def memberships_of(user: AbstractBaseUser) -> list[Membership]:
    """The user's workspaces (for the switcher and `/`), by workspace name."""
    if not user.is_authenticated:
        return []
    return _memberships_with_workspaces(user.pk)


def membership_in(
    user: AbstractBaseUser, *, slug: str | None = None, workspace_id: UUID | None = None
) -> Membership | None:
    """The user's membership of one workspace, or None when they are not a member (→ 404)."""
    if not user.is_authenticated:
        return None
    lookup = {"workspace__slug": slug} if slug is not None else {"workspace_id": workspace_id}
    return Membership.objects.filter(user=user, **lookup).select_related("workspace").first()


# --- Contacts ----------------------------------------------------------------------------------


def contacts_of(workspace: Workspace) -> QuerySet[Contact]:
    return Contact.objects.filter(workspace=workspace)


def contact_in(workspace: Workspace, contact_id: UUID) -> Contact | None:
    return contacts_of(workspace).filter(pk=contact_id).first()


def contact_with_email(workspace: Workspace, email: str | None) -> Contact | None:
    """The workspace's contact with this e-mail address (however it was typed), if any: the one
    a "this address is taken" message points to."""
    normalized = normalize_email(email)
    return contacts_of(workspace).filter(email=normalized).first() if normalized else None


@dataclass(frozen=True)
class ContactQuery:
    """A validated, normalised list query (see forms.ContactFilterForm for the HTTP side)."""

    search: str = ""
    tag: str = ""
    company: str = ""
    status: str = ""
    created: str = ""  # a calendar month, "YYYY-MM" (UTC): contacts added in it
    ordering: str = ""  # "" = not chosen (see `sorted_by`)
    page: int = 1
    size: int = 0  # contacts per page; 0 = the default (CONTACTS_PAGE_SIZE)

    @property
    def sorted_by(self) -> str:
        """The order the contacts come in: the chosen one, else best match first while searching
        (relevance needs a search), else by name."""
        if self.ordering in ("", RELEVANCE):
            return RELEVANCE if search_terms(self.search) else DEFAULT_ORDERING
        return self.ordering

    def filters_active(self) -> bool:
        return bool(self.search or self.tag or self.company or self.status or self.created)


def contacts_matching(workspace: Workspace, query: ContactQuery) -> QuerySet[Contact]:
    """Contacts of the workspace that pass the query's search and filters, in its order."""
    contacts = contacts_of(workspace)
    # Every word must start some word of the contact (`Ann Lee` finds Annabel Leeds).
    searched = contacts_search(contacts, workspace.id, query.search) if query.search else None
    if searched is not None:
        contacts = searched.contacts
    if query.status:
        contacts = contacts.filter(status=query.status)
    if query.created:
        # A plain range on the stored UTC time (indexed), not a month extracted from every row.
        start, end = month_bounds(query.created)
        contacts = contacts.filter(created_at__gte=start)
        if end is not None:
            contacts = contacts.filter(created_at__lt=end)
    if query.company:
        contacts = contacts.filter(company__iexact=query.company)
    tag = normalize_tag_name(query.tag)
    if tag:
        # Tags are stored normalised; `VIP` and ` vip ` name the tag "vip" from the page and the API alike.
        tagged_ids = ContactTag.objects.filter(tag__workspace=workspace, tag__name=tag).values_list(
            "contact_id", flat=True
        )
        contacts = contacts.filter(id__in=list(tagged_ids))
    if query.sorted_by == RELEVANCE and searched is not None and searched.rank is not None:
        # Equally good matches newest first, as the index's own ordering has them.
        return contacts.order_by(searched.rank, "-created_at", "-id")
    ordering = CONTACT_ORDERINGS.get(query.sorted_by, CONTACT_ORDERINGS[DEFAULT_ORDERING])
    if query.sorted_by in ("company", "-company"):
        # Contacts without a company come last whichever way the column is sorted.
        return contacts.order_by(Case(When(company="", then=Value(1)), default=Value(0)), *ordering)
    return contacts.order_by(*ordering)


# What a cached page holds of each contact: every column.
_ROW_FIELDS = tuple(f.attname for f in Contact._meta.concrete_fields)


class _Count:
    """Stands in for the matching contacts where a Paginator only needs their number."""

    def __init__(self, count: int) -> None:
        self._count = count

    def count(self) -> int:
        return self._count


@dataclass
class ContactPage:
    page: Page
    tags_by_contact: dict[UUID, list[str]] = field(default_factory=dict)
    # Every match; more than `total` (what can be paged through) for a broad search on the page.
    found: int | None = None

    @property
    def contacts(self) -> list[Contact]:
        return list(self.page.object_list)

    @property
    def total(self) -> int:
        return self.page.paginator.count


def contact_page(
    workspace: Workspace, query: ContactQuery, *, per_page: int | None = None, every_match: bool = False
) -> ContactPage:
    """One page of the list with each contact's tag names, shared by the page and the API.

    Served from the cache while the workspace has not changed; a page number past the end gives
    the last page (as `Paginator.get_page` does), and `page.number` says which one it is. A
    broad search (more than BROAD_SEARCH_SHOWN matches) pages through its best matches only,
    unless `every_match` (the API, whose clients page through everything they count).
    """
    per_page = per_page or settings.CONTACTS_PAGE_SIZE
    # Only a search can be broad: every other list is the same for the page and the API.
    broad_rule = "every-match" if every_match and query.search else ""
    data = cached(
        workspace_key(workspace, "page", query, per_page, broad_rule),
        lambda: _contact_page_data(workspace, query, per_page, every_match=every_match),
    )
    paginator = Paginator(_Count(data["count"]), per_page)
    contacts = [_contact_from_row(workspace, row) for row in data["rows"]]
    return ContactPage(
        page=Page(contacts, data["number"], paginator),
        tags_by_contact=data["tags"],
        found=data.get("found", data["count"]),
    )


def _contact_page_data(
    workspace: Workspace, query: ContactQuery, per_page: int, *, every_match: bool = False
) -> dict[str, Any]:
    """The page as plain data: the count, the page number, the rows and their tag names (three queries)."""
    ranked = _ranked_search_page(
        workspace, query, per_page, limit=None if every_match else BROAD_SEARCH_SHOWN
    )
    if ranked is not None:
        return ranked
    paginator = Paginator(contacts_matching(workspace, query).values(*_ROW_FIELDS), per_page)
    page = paginator.get_page(query.page)
    rows = list(page.object_list)
    tags = dict(tag_names_by_contact(row["id"] for row in rows))
    return {"count": paginator.count, "number": page.number, "rows": rows, "tags": tags}


def _ranked_search_page(
    workspace: Workspace, query: ContactQuery, per_page: int, *, limit: int | None
) -> dict[str, Any] | None:
    """A search with no other filter, best match first (what typing in the box asks for): the
    full-text index alone gives the count and the page's ids, then the rows are read by id."""
    plain_search = query.search and not (query.tag or query.company or query.status or query.created)
    if not plain_search or query.sorted_by != RELEVANCE:
        return None
    found = ranked_page(workspace.id, query.search, page=query.page, per_page=per_page, limit=limit)
    if found is None:
        return None
    by_id = {row["id"]: row for row in contacts_of(workspace).filter(pk__in=found.ids).values(*_ROW_FIELDS)}
    rows = [by_id[pk] for pk in found.ids if pk in by_id]
    tags = dict(tag_names_by_contact(row["id"] for row in rows))
    return {"count": found.shown, "found": found.found, "number": found.number, "rows": rows, "tags": tags}


def _contact_from_row(workspace: Workspace, row: dict[str, Any]) -> Contact:
    contact = Contact(**row)
    contact.workspace = workspace  # already loaded: spares a query per row
    contact._state.adding = False
    return contact


def contact_count(workspace: Workspace) -> int:
    """How many contacts the workspace has (cached per workspace version)."""
    return cached(workspace_key(workspace, "count"), lambda: contacts_of(workspace).count())


def contact_detail(workspace: Workspace, contact_id: UUID) -> tuple[Contact, list[str]] | None:
    """A contact and its tag names for reading (the detail page, the API), or None if not found.

    Cached per workspace version; writes read the contact fresh instead (`contact_in`).
    """

    def compute() -> dict[str, Any]:
        row = contacts_of(workspace).filter(pk=contact_id).values(*_ROW_FIELDS).first()
        return {"row": row, "tags": tag_names_by_contact([contact_id]).get(contact_id, []) if row else []}

    data = cached(workspace_key(workspace, "contact", contact_id), compute)
    if data["row"] is None:
        return None
    return _contact_from_row(workspace, data["row"]), data["tags"]


def tag_names_by_contact(contact_ids: Iterable[UUID]) -> dict[UUID, list[str]]:
    """Tag names of many contacts in one query (MongoDB can't prefetch many-to-many)."""
    ids = list(contact_ids)
    names: dict[UUID, list[str]] = defaultdict(list)
    if not ids:
        return names
    links = ContactTag.objects.filter(contact_id__in=ids).select_related("tag").order_by("tag__name")
    for link in links:
        names[link.contact_id].append(link.tag.name)
    return names


def contact_tag_names(contact: Contact) -> list[str]:
    return tag_names_by_contact([contact.id]).get(contact.id, [])


# --- Tags and filter choices -------------------------------------------------------------------


def tags_of(workspace: Workspace) -> QuerySet[Tag]:
    return Tag.objects.filter(workspace=workspace).order_by("name")


def tag_contact_counts(tag_ids: Iterable[UUID]) -> dict[UUID, int]:
    """How many contacts carry each tag, in one grouped query (no cross-collection join)."""
    return dict(
        ContactTag.objects.filter(tag_id__in=list(tag_ids))
        .values("tag_id")
        .annotate(n=Count("id"))
        .values_list("tag_id", "n")
    )


def tags_with_counts(workspace: Workspace) -> list[Tag]:
    """The workspace's tags, each with `contact_count` set (two queries)."""
    tags = list(tags_of(workspace))
    counts = tag_contact_counts(tag.id for tag in tags)
    for tag in tags:
        tag.contact_count = counts.get(tag.id, 0)
    return tags


def tag_suggestions(workspace: Workspace, prefix: str = "", *, limit: int = 10) -> list[str]:
    """Existing tag names starting with `prefix` (tags are stored lower-case)."""
    tags = tags_of(workspace)
    if prefix.strip():
        tags = tags.filter(name__startswith=" ".join(prefix.split()).lower())
    return list(tags.values_list("name", flat=True)[:limit])


def tag_exists(workspace: Workspace, name: str) -> bool:
    """Whether the workspace has a tag of this name, in any case or spacing."""
    return tags_of(workspace).filter(name=normalize_tag_name(name)).exists()


def company_choices(workspace: Workspace, *, limit: int = 500) -> list[str]:
    """Distinct company names of the workspace, for the list filter."""
    rows = (
        contacts_of(workspace)
        .exclude(company="")
        .values("company")
        .annotate(contacts=Count("id"))
        .order_by("company")[:limit]
    )
    return [row["company"] for row in rows]


def list_filter_choices(workspace: Workspace, *, tag_limit: int) -> dict[str, list[str]]:
    """The list filter's companies and tags (cached per workspace version)."""
    return cached(
        workspace_key(workspace, "choices", tag_limit),
        lambda: {
            "companies": company_choices(workspace),
            "tags": tag_suggestions(workspace, limit=tag_limit),
        },
    )


def tag_list(workspace: Workspace) -> list[dict[str, Any]]:
    """The workspace's tags with how many contacts carry each, as plain data (cached)."""
    return cached(
        workspace_key(workspace, "tags"),
        lambda: [
            {"id": tag.id, "name": tag.name, "contact_count": tag.contact_count}
            for tag in tags_with_counts(workspace)
        ],
    )


def status_choices() -> list[tuple[str, str]]:
    return list(ContactStatus.choices)


def tag_name_taken(workspace_id: UUID, name: str, *, exclude_id: UUID | None = None) -> bool:
    """Whether another tag of the workspace already has this (normalised) name."""
    return Tag.objects.filter(workspace_id=workspace_id, name=name).exclude(pk=exclude_id).exists()


def live_membership(user_id: Any, workspace_id: UUID) -> Membership | None:
    """The membership a live-update socket may join on, or None: not a member, or deactivated.

    Asked when a socket connects and again when the user's access changes, never per event.
    """
    return (
        Membership.objects.filter(user_id=user_id, user__is_active=True, workspace_id=workspace_id)
        .select_related("workspace")
        .first()
    )


# --- Activation runs ---------------------------------------------------------------------------

# Finished runs stay on the list page this long, so people see how their run ended.
RECENTLY_FINISHED_SECONDS = 10 * 60


def activation_run_in(workspace: Workspace, run_id: UUID) -> ActivationRun | None:
    """One run of the workspace (another workspace's id is simply not found)."""
    return ActivationRun.objects.filter(workspace=workspace, pk=run_id).first()


def activation_runs_of(workspace: Workspace) -> QuerySet[ActivationRun]:
    """The workspace's runs, newest first (the API's list)."""
    return ActivationRun.objects.filter(workspace=workspace).order_by("-created_at")


def activation_runs_to_show(
    workspace: Workspace, *, unfinished: int = 20, finished: int = 5
) -> list[ActivationRun]:
    """The runs the list page shows, in one query: unfinished ones, then those that ended a few
    minutes ago, each newest first."""
    recent = timezone.now() - timedelta(seconds=RECENTLY_FINISHED_SECONDS)
    shown = Q(status__in=UNFINISHED_RUN_STATUSES) | Q(finished_at__gte=recent)
    runs = list(activation_runs_of(workspace).filter(shown)[: unfinished + finished])
    return [run for run in runs if not run.is_finished][:unfinished] + [
        run for run in runs if run.is_finished
    ][:finished]


def activation_run_ends(workspace: Workspace) -> list[Any]:
    """When each run the list page would show now ended (None: not yet), for the read cache.

    Starting a run bumps the workspace's change version, so a version whose runs are all long
    finished can gain one to show only by time passing: `any_run_to_show` then answers from these
    cached ends alone, and the list page reads the runs themselves only when one is shown.
    """
    return [run.finished_at for run in activation_runs_to_show(workspace)]


def any_run_to_show(run_ends: Iterable[Any]) -> bool:
    """Whether any of `activation_run_ends` is still unfinished or ended recently enough to show."""
    recent = timezone.now() - timedelta(seconds=RECENTLY_FINISHED_SECONDS)
    return any(end is None or end >= recent for end in run_ends)


from contacts.selectors.reports import workspace_report  # noqa: E402, F401
