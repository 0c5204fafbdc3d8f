"""A page's shell (head, navbar, footer) rendered once per user and workspace version, then reused.

The list page is the hottest page of the product: every colleague's change makes open tabs read
it again. Its content is cached per role (contacts.views.contacts); what surrounds it is this
user's (their name, their workspaces, their CSRF token) and took as long to render as everything
else in a warm request. So the shell is rendered once with *slots*, HTML comments standing for the
parts that are this request's (the content, the messages, the activation panel), and with a
*CSRF mark* instead of the token; each request fills the slots and puts its own token where the
mark is (`get_token`, which also keeps the CSRF cookie as Django's own tag would).

Cached HTML is kept *cut*: UTF-8 bytes between the slots and marks, and the names of what goes
between them (`cut`). A request then joins the pieces once (`fill`) instead of searching and
copying a page of ~170 kB once per slot and again to encode it.

The mark is derived from SECRET_KEY, so no one can type it into a contact's name to have it
replaced. The shell's cache key holds everything it shows: the user (id and name), their
memberships (workspace names, slugs, roles), the workspace's change version (the page carries it
for live updates) and the release (static file names), via `contacts.cache.workspace_key`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
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


# Cached HTML, cut: literal UTF-8 bytes, and (as str) the names of the holes between them.
Pieces = list[bytes | str]
# The hole where this request's CSRF token goes.
TOKEN = "csrf_token"


def render_shell(request: HttpRequest, template_name: str, slots: Iterable[str], **context: Any) -> Pieces:
    """`template_name` rendered with a slot in each `slots` variable and the CSRF mark, cut."""
    slots = tuple(slots)
    context = {**context, **{name: mark_safe(slot(name)) for name in slots}, "csrf_token": csrf_mark()}
    # Messages are this request's: the template shows the `messages` slot instead.
    context["messages"] = ()
    return cut(compact_html(render_to_string(template_name, context, request=request)), slots)


def cut(html: str, slots: Iterable[str] = ()) -> Pieces:
    """`html` cut at each of its `slots` and at each CSRF mark, for `fill`."""
    holes = {slot(name): name for name in slots} | {csrf_mark(): TOKEN}
    pieces: Pieces = []
    start = 0
    for found in re.finditer("|".join(map(re.escape, holes)), html):
        pieces += [html[start : found.start()].encode(), holes[found.group()]]
        start = found.end()
    pieces.append(html[start:].encode())
    return pieces


def fill(request: HttpRequest, shell: Sequence[bytes | str], **parts: Sequence[bytes | str] | str) -> bytes:
    """The page: `shell` with each slot's part (cut pieces, or this request's own HTML as str) and
    this request's CSRF token wherever a mark was."""
    token = get_token(request).encode()
    page: list[bytes] = []

    def put(pieces: Sequence[bytes | str]) -> None:
        for piece in pieces:
            if isinstance(piece, bytes):
                page.append(piece)
            elif piece == TOKEN:
                page.append(token)
            else:
                part = parts[piece]
                put(part) if not isinstance(part, str) else page.append(part.encode())

    put(shell)
    return b"".join(page)


def render_messages(request: HttpRequest) -> str:
    """This request's messages (after a redirect), or nothing: what the `messages` slot holds."""
    from django.contrib.messages import get_messages

    stored = get_messages(request)
    if not len(stored):  # len() does not mark them as shown; iterating does
        return ""
    return render_to_string("_messages.html", {"messages": stored}, request=request)
