"""Access control for workspace pages: one decorator decides who may see and who may change."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from contacts import selectors, services
from contacts.models import Role

# The session key holding the workspace the user last opened, so `/` takes them back there.
LAST_WORKSPACE_SESSION_KEY = "contacts.last_workspace_id"

View = Callable[..., HttpResponse]


def member_required(view: View | None = None, *, can_edit: bool = False) -> Any:
    """Resolve `<slug>` to a workspace the signed-in user belongs to, or answer 404.

    Non-members get 404 rather than 403 so that a URL never reveals whether a workspace exists.
    With `can_edit=True` a read-only member (viewer) gets 403 before the view runs; the services
    check again, so a view that forgets the flag still cannot write.
    Sets `request.membership` and `request.workspace` for the view, templates and navbar.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return login_redirect(request)
            # All of the user's memberships in one query: the navbar's workspace switcher needs them
            # too (contacts.context_processors reads `request.memberships`).
            request.memberships = selectors.memberships_of(request.user)
            membership = next((m for m in request.memberships if m.workspace.slug == slug), None)
            if membership is None:
                raise Http404("No workspace with this address, or you are not a member of it.")
            request.membership = membership
            request.workspace = membership.workspace
            remember_workspace(request, membership.workspace_id)
            if can_edit:
                # Raised after setting request.membership so the 403 page can name the role.
                services.require_role(membership, Role.MEMBER)
            return view(request, slug, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def login_redirect(request: HttpRequest) -> HttpResponse:
    """Send a signed-out visitor to the login page, and back here afterwards.

    An HTMX request (a session that expired while the page was open) must not swap the login
    page into a fragment: HX-Redirect makes the whole browser tab go there instead.
    """
    if request.headers.get("HX-Request") == "true":
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = current.path + (f"?{current.query}" if current.query else "") or request.get_full_path()
        response = HttpResponse(status=204)
        response["HX-Redirect"] = redirect_to_login(page).url
        return response
    return redirect_to_login(request.get_full_path())


def remember_workspace(request: HttpRequest, workspace_id: Any) -> None:
    # Write only on change: saving the session on every request would cost a write per page.
    if request.session.get(LAST_WORKSPACE_SESSION_KEY) != str(workspace_id):
        request.session[LAST_WORKSPACE_SESSION_KEY] = str(workspace_id)
