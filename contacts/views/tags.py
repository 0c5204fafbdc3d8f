"""The in-place tag editor on the detail page and the tag suggestions shared with the contact form."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from contacts import selectors, services
from contacts.decorators import member_required
from contacts.forms import TagEditForm, split_tags
from contacts.models import Contact, normalize_tag_name
from contacts.views.common import contact_or_404, detail_url, is_htmx_swap

SUGGESTION_LIMIT = 8
SUGGEST_QUERY_MAX_LENGTH = 200


def tag_editor_context(
    request: HttpRequest,
    contact: Contact,
    *,
    tags: list[str] | None = None,
    form: TagEditForm | None = None,
    refocus: bool = False,
) -> dict[str, Any]:
    """What `contacts/_tags.html` needs; after a failed save it keeps what the user typed."""
    tags = selectors.contact_tag_names(contact) if tags is None else tags
    failed = form is not None and bool(form.errors)
    return {
        "contact": contact,
        "tags": tags,
        # Suggestions leave out the tags the contact has; built here so no template escaping
        # mangles names with & or ' (hx-vals is JSON inside an HTML attribute).
        "suggest_vals": json.dumps({"exclude": ",".join(tags)}),
        "tag_errors": [*form.errors.get("add", []), *form.errors.get("remove", [])] if failed else [],
        "typed_tags": form.data.get("add", "") if failed else "",
        "can_edit": request.membership.can_edit,
        "refocus": refocus,
    }


@member_required(can_edit=True)
@require_POST
def contact_tags(request: HttpRequest, slug: str, contact_id: UUID) -> HttpResponse:
    """Add or remove tags; answers the editor fragment to HTMX, a redirect otherwise."""
    contact = contact_or_404(request.workspace, contact_id)
    form = TagEditForm(request.POST)
    if form.is_valid():
        try:
            services.contact_change_tags(
                contact=contact,
                by=request.membership,
                add=form.cleaned_data["add"],
                remove=form.cleaned_data["remove"],
            )
        except ValidationError as error:
            form.add_error("add", error.message_dict.get("tags", error.messages))
    if is_htmx_swap(request, "tag-editor"):
        context = tag_editor_context(request, contact, form=form, refocus=True)
        return render(request, "contacts/_tags.html", context)
    if form.errors:
        context = {"contact": contact, **tag_editor_context(request, contact, form=form)}
        return render(request, "contacts/detail.html", context)
    messages.success(request, f"Saved the tags of {contact.full_name}.")
    return redirect(detail_url(slug, contact.id))


@member_required
@require_GET
def tag_suggest(request: HttpRequest, slug: str) -> HttpResponse:
    """Existing tags of the workspace that complete the last comma-separated word typed.

    Reads `q` (or `tags` / `add`, the names of the inputs that ask) and leaves out tags already chosen,
    both those typed before the last comma and those listed in `exclude`.
    """
    text = (request.GET.get("q") or request.GET.get("tags") or request.GET.get("add") or "")[
        :SUGGEST_QUERY_MAX_LENGTH
    ]
    if "\x00" in text:
        # No tag name holds a NUL and PostgreSQL refuses to even compare one: ignore what was typed.
        text = ""
    *chosen, prefix = text.split(",")
    # A last word that already is a whole tag needs no suggesting either.
    chosen_names = {
        normalize_tag_name(name) for name in [*chosen, prefix, *split_tags(request.GET.get("exclude", ""))]
    }
    candidates = selectors.tag_suggestions(
        request.workspace, prefix, limit=SUGGESTION_LIMIT + len(chosen_names)
    )
    suggestions = [name for name in candidates if name not in chosen_names][:SUGGESTION_LIMIT]
    return render(request, "contacts/_tag_suggestions.html", {"suggestions": suggestions})
