"""Template context every page needs: the navbar's workspace switcher."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from contacts import selectors


def workspaces(request: HttpRequest) -> dict[str, Any]:
    """The user's memberships (one query, only if a template uses them) and the current one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        # Workspace pages loaded them already; elsewhere lazily: HTMX partials and redirects never
        # render the navbar, so they never pay for it.
        "memberships": getattr(request, "memberships", None)
        or SimpleLazyObject(lambda: selectors.memberships_of(user)),
        "current_membership": getattr(request, "membership", None),
        # How often an open page tells the server it is still there (presence, contacts.live).
        "live_heartbeat_ms": int(settings.CONTACTS_PRESENCE_HEARTBEAT * 1000),
    }
