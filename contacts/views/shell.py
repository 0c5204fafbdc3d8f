"""A page's shell (head, navbar, footer) rendered once per user and workspace version, then reused.

The list page is the hottest page of the product: every colleague's change makes open tabs read
it again. Its content is cached per role (contacts.views.contacts); what surrounds it is this
user's (their name, their workspaces, their CSRF token) and took as long to render as everything
else in a warm request. So the shell is rendered once with *slots*, HTML comments standing for the
parts that are this request's (the content, the messages, the activation panel), and with a
*CSRF mark* instead of the token; each request fills the slots and puts its own token where the
mark is (`get_token`, which also keeps the CSRF cookie as Django's own tag would).

The mark is derived from SECRET_KEY, so no one can type it into a contact's name to have it
replaced. The shell's cache key holds everything it shows: the user (id and name), their
memberships (workspace names, slugs, roles), the workspace's change version (the page carries it
for live updates) and the release (static file names), via `contacts.cache.workspace_key`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from contacts.cache import workspace_key
from contacts.views.common import compact_html


@cache
def csrf_mark() -> str:
    """What the shell holds where the CSRF token goes: letters and digits (HTML escaping keeps it)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), b"contacts.page-shell.csrf", hashlib.sha256)
    return "csrfmark" + digest.hexdigest()[:32]


def slot(name: str) -> str:
    return f"<!--contacts-slot:{name}-->"


def shell_key(request: HttpRequest, template_name: str, *parts: Any) -> str:
    """The cache key of `template_name`'s shell for this user, in this workspace, at its version."""
    user = request.user
    memberships = tuple(
        (m.workspace.slug, m.workspace.name, m.role) for m in getattr(request, "memberships", ())
    )
    who = (user.pk, user.get_username(), user.get_full_name(), request.membership.role)
    return workspace_key(request.workspace, "shell", template_name, who, memberships, *parts)


def render_shell(request: HttpRequest, template_name: str, slots: Iterable[str], **context: Any) -> str:
    """`template_name` rendered with a slot marker in each `slots` variable and the CSRF mark."""
    context = {**context, **{name: mark_safe(slot(name)) for name in slots}, "csrf_token": csrf_mark()}
    # Messages are this request's: the template shows the `messages` slot instead.
    context["messages"] = ()
    return compact_html(render_to_string(template_name, context, request=request))


def fill_shell(request: HttpRequest, shell: str, **parts: str) -> str:
    """The page: `shell` with this request's token and each slot's part (parts may hold the mark)."""
    page = shell
    for name, part in parts.items():
        page = page.replace(slot(name), part, 1)
    # After the parts: the cached content's own forms (the activation panel's cancel) hold the mark.
    return page.replace(csrf_mark(), get_token(request))


def render_messages(request: HttpRequest) -> str:
    """This request's messages (after a redirect), or nothing: what the `messages` slot holds."""
    from django.contrib.messages import get_messages

    stored = get_messages(request)
    if not len(stored):  # len() does not mark them as shown; iterating does
        return ""
    return render_to_string("_messages.html", {"messages": stored}, request=request)
