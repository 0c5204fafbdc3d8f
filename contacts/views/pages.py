"""Landing pages: `/` picks the user's workspace; `/w/<slug>/` opens its contact list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers

from contacts import selectors
from contacts.decorators import LAST_WORKSPACE_SESSION_KEY, member_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The workspace the user last opened (or their first one); a friendly page if they have none."""
    memberships = selectors.memberships_of(request.user)
    if not memberships:
        return render(request, "contacts/no_workspace.html", {"memberships": memberships})
    last_id = request.session.get(LAST_WORKSPACE_SESSION_KEY)
    chosen = next((m for m in memberships if str(m.workspace_id) == last_id), memberships[0])
    return redirect("contact_list", slug=chosen.workspace.slug)


@member_required
def workspace_home(request: HttpRequest, slug: str) -> HttpResponse:
    return redirect("contact_list", slug=slug)


@member_required
def workspace_version(request: HttpRequest, slug: str) -> JsonResponse:
    """The workspace's change version: what an open page polls while its live socket is down."""
    response = JsonResponse({"version": request.workspace.change_version})
    add_never_cache_headers(response)
    return response
