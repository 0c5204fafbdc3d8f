"""Contact pages: list, detail, create, edit, delete. Every lookup starts from the member's workspace."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe

from contacts import selectors, services
from contacts.cache import cached, cached_together, workspace_key
from contacts.decorators import member_required
from contacts.forms import ContactFilterForm, ContactForm
from contacts.models import DUPLICATE_EMAIL, Contact, Workspace
from contacts.selectors import ContactQuery
from contacts.views import shell
from contacts.views.activations import activation_panel_html, activation_runs_for_list
from contacts.views.common import compact_html, contact_or_404, detail_url, is_htmx_swap
from contacts.views.listing import list_links
from contacts.views.tags import tag_editor_context

# The list's filter selects list at most this many tags (the filter still accepts any existing tag).
TAG_FILTER_CHOICES = 200


@member_required
def contact_list(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = request.workspace
    query, problems = ContactFilterForm.read(request.GET, workspace=workspace)
    can_edit = request.membership.can_edit
    # What the role may do decides what the rows show (edit links; checkboxes for bulk jobs).
    may = (can_edit, request.membership.can_run_jobs)

    # Rendered once per workspace version, query and role, and shared by everyone with that role:
    # the rows, count and pages (what HTMX swaps), and around them the page's content. What is
    # this user's (navbar, CSRF token, messages) is rendered per request. Read once per request,
    # however many parts of the answer need it.
    @functools.cache
    def results() -> dict[str, Any]:
        return cached(
            workspace_key(workspace, "results-html", query, may, request.path, workspace.name),
            lambda: _render_results(request, query),
            keep_local=True,
        )

    def context() -> dict[str, Any]:
        shown = results()
        shown_page = shown["page_number"]
        past_end = (
            # Past the end (a bookmark from when there were more): the last page, and why.
            [f"There is no page {query.page}; showing page {shown_page}, the last."]
            if query.page > shown_page
            else []
        )
        body = mark_safe(shown["html"])  # rendered by our own template, escaped there
        return {"query": query, "problems": problems + past_end, "results_body": body, "can_edit": can_edit}

    if is_htmx_swap(request, "results"):
        response = render(request, "contacts/_results.html", context())
        # The address bar shows the tidy query, not every empty field of the filter form.
        response["HX-Push-Url"] = results()["current_url"]
    else:
        response = HttpResponse(_list_page(request, query, problems, context))
    # The same URL answers a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _render_results(request: HttpRequest, query: ContactQuery) -> dict[str, Any]:
    """The list's rows, count and page links, rendered, with the tidy address of the page shown."""
    workspace = request.workspace
    result = selectors.contact_page(workspace, query, per_page=query.size or None)
    workspace_total = selectors.contact_count(workspace) if query.filters_active() else result.total
    links = list_links(request, query, result.page)
    context = {
        "query": query,
        "page": result.page,
        "rows": [(contact, result.tags_by_contact.get(contact.id, [])) for contact in result.contacts],
        "matching": result.found,
        # A broad search pages through its best matches only: say so, and how to narrow it.
        "shown_of_broad": result.total if result.found > result.total else None,
        "workspace_total": workspace_total,
        "can_edit": request.membership.can_edit,
        "can_run_jobs": request.membership.can_run_jobs,
        "search_terms": selectors.search_terms(query.search),
        **links,
    }
    html = compact_html(render_to_string("contacts/_results_body.html", context, request=request))
    return {"html": html, "current_url": links["current_url"], "page_number": result.page.number}


def _list_page(request: HttpRequest, query: ContactQuery, problems: list[str], context: Callable) -> bytes:
    """The whole list page: its shell (this user's) and its content (this role's), both from the
    cache in one round trip when warm, with this request's messages and activation runs."""
    workspace, membership = request.workspace, request.membership
    # The content's key holds everything it shows (the past-end notice follows from the version and
    # the query), so the rows (`context()`) are only read when the content is computed.
    may = (membership.can_edit, membership.can_run_jobs)
    content_key = workspace_key(
        workspace, "list-html", query, may, tuple(problems), request.path, workspace.name
    )
    shell_key = shell.shell_key(request, "contacts/list.html")
    run_ends_key = workspace_key(workspace, "run-ends")
    found = cached_together(
        {
            content_key: lambda: _render_list_content(request, context()),
            shell_key: lambda: shell.render_shell(
                request, "contacts/list.html", ("messages_slot", "activations_slot", "content_slot")
            ),
            run_ends_key: lambda: selectors.activation_run_ends(workspace),
        },
        keep_local=True,
    )
    content = found[content_key]
    # Runs move every second: read them only when this version has one that may be shown.
    runs = activation_runs_for_list(request) if selectors.any_run_to_show(found[run_ends_key]) else []
    return shell.fill(
        request,
        found[shell_key],
        messages_slot=shell.render_messages(request),
        activations_slot=activation_panel_html(request, query, runs) if runs else content["no_activations"],
        content_slot=content["html"],
    )


def _render_list_content(request: HttpRequest, context: dict) -> dict[str, shell.Pieces]:
    """The page's content, and its activation panel as it is while no run is shown (both hold the
    CSRF mark, not a token: they are shared by every member with this role), cut for `shell.fill`."""
    workspace, query = request.workspace, context["query"]
    filters = cached(
        workspace_key(workspace, "filters-html", query.tag, query.company),
        lambda: _render_filter_choices(workspace, query),
    )
    context = {**context, "status_choices": selectors.status_choices(), "filter_choices": mark_safe(filters)}
    return {
        "html": shell.cut(
            compact_html(render_to_string("contacts/_list_content.html", context, request=request))
        ),
        "no_activations": shell.cut(
            compact_html(activation_panel_html(request, query, [], csrf_token=shell.csrf_mark()))
        ),
    }


def _render_filter_choices(workspace: Workspace, query: ContactQuery) -> str:
    choices = selectors.list_filter_choices(workspace, tag_limit=TAG_FILTER_CHOICES)
    context = {"query": query, "tag_choices": choices["tags"], "company_choices": choices["companies"]}
    return compact_html(render_to_string("contacts/_filter_choices.html", context))


@member_required
def contact_detail(request: HttpRequest, slug: str, contact_id: UUID) -> HttpResponse:
    found = selectors.contact_detail(request.workspace, contact_id)
    if found is None:
        raise Http404("No contact with this address in this workspace.")
    contact, tags = found
    context = {"contact": contact, **tag_editor_context(request, contact, tags=tags)}
    return render(request, "contacts/detail.html", context)


@member_required(can_edit=True)
def contact_create(request: HttpRequest, slug: str) -> HttpResponse:
    workspace, membership = request.workspace, request.membership
    form = ContactForm(request.POST or None, instance=Contact(workspace=workspace), workspace=workspace)
    if request.method == "POST" and form.is_valid():
        contact = form.save_via(
            lambda data: services.contact_create(workspace=workspace, by=membership, data=data)
        )
        if contact is not None:
            messages.success(request, f"Saved {contact.full_name}.")
            return redirect(detail_url(slug, contact.id))
    context = {"form": form, "contact": None, "duplicate_of": _duplicate_of(form, workspace)}
    return render(request, "contacts/form.html", context)


@member_required(can_edit=True)
def contact_edit(request: HttpRequest, slug: str, contact_id: UUID) -> HttpResponse:
    contact = contact_or_404(request.workspace, contact_id)
    membership = request.membership
    form = ContactForm(request.POST or None, instance=contact, workspace=request.workspace)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            saved = form.save_via(
                lambda data: services.contact_update(
                    contact=contact, by=membership, data=data, seen=form.seen_values()
                )
            )
        except services.EditConflictError as conflict:
            form, status = form.rebased_on(conflict), 409
        else:
            if saved is not None:
                messages.success(request, f"Saved {saved.full_name}.")
                return redirect(detail_url(slug, saved.id))
    # The heading names the contact as stored, not as half-typed into the failed form.
    stored = contact_or_404(request.workspace, contact_id) if form.is_bound else contact
    context = {"form": form, "contact": stored, "duplicate_of": _duplicate_of(form, request.workspace)}
    return render(request, "contacts/form.html", context, status=status)


def _duplicate_of(form: ContactForm, workspace: Workspace) -> Contact | None:
    """The contact that already has the address the form was refused for, to link to."""
    refused = form.errors.as_data().get("email", []) if form.is_bound else []
    if not any(error.code == DUPLICATE_EMAIL for error in refused):
        return None
    return selectors.contact_with_email(workspace, form.data.get("email"))


@member_required(can_edit=True)
def contact_delete(request: HttpRequest, slug: str, contact_id: UUID) -> HttpResponse:
    contact = contact_or_404(request.workspace, contact_id)
    if request.method == "POST":
        name = contact.full_name
        services.contact_delete(contact=contact, by=request.membership)
        messages.success(request, f"Deleted {name}.")
        return redirect("contact_list", slug=slug)
    return render(request, "contacts/delete.html", {"contact": contact})
