"""Contact pages: list, detail, create, edit, delete. Every lookup starts from the member's workspace."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers

from contacts import selectors, services
from contacts.decorators import member_required
from contacts.forms import ContactFilterForm, ContactForm
from contacts.models import Contact
from contacts.views.common import contact_or_404, detail_url, is_htmx_swap
from contacts.views.listing import list_links
from contacts.views.tags import tag_editor_context

# The list's filter selects list at most this many tags (the filter still accepts any existing tag).
TAG_FILTER_CHOICES = 200


@member_required
def contact_list(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = request.workspace
    form = ContactFilterForm(request.GET, workspace=workspace)
    form.is_valid()
    query = form.to_query()
    result = selectors.contact_page(workspace, query)
    workspace_total = selectors.contacts_of(workspace).count() if query.filters_active() else result.total
    context = {
        "query": query,
        "problems": form.problems(),
        "page": result.page,
        "rows": [(contact, result.tags_by_contact.get(contact.id, [])) for contact in result.contacts],
        "matching": result.total,
        "workspace_total": workspace_total,
        "can_edit": request.membership.can_edit,
        **list_links(request, query, result.page),
    }
    if is_htmx_swap(request, "results"):
        response = render(request, "contacts/_results.html", context)
        # The address bar shows the tidy query, not every empty field of the filter form.
        response["HX-Push-Url"] = context["current_url"]
    else:
        context |= {
            "status_choices": selectors.status_choices(),
            "tag_choices": selectors.tag_suggestions(workspace, limit=TAG_FILTER_CHOICES),
            "company_choices": selectors.company_choices(workspace),
        }
        response = render(request, "contacts/list.html", context)
    # The same URL answers a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@member_required
def contact_detail(request: HttpRequest, slug: str, contact_id: UUID) -> HttpResponse:
    contact = contact_or_404(request.workspace, contact_id)
    context = {"contact": contact, **tag_editor_context(request, contact)}
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
    return render(request, "contacts/form.html", {"form": form, "contact": None})


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
    return render(request, "contacts/form.html", {"form": form, "contact": stored}, status=status)


@member_required(can_edit=True)
def contact_delete(request: HttpRequest, slug: str, contact_id: UUID) -> HttpResponse:
    contact = contact_or_404(request.workspace, contact_id)
    if request.method == "POST":
        name = contact.full_name
        services.contact_delete(contact=contact, by=request.membership)
        messages.success(request, f"Deleted {name}.")
        return redirect("contact_list", slug=slug)
    return render(request, "contacts/delete.html", {"contact": contact})
