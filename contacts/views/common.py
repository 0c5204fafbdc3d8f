"""Helpers shared by the page modules."""

from __future__ import annotations

import re
from uuid import UUID

from django.http import Http404, HttpRequest
from django.urls import reverse

from contacts import selectors
from contacts.models import Contact, Workspace

# Template indentation and blank lines: a quarter of a list page's bytes, and nothing a browser shows.
_INDENTATION = re.compile(r"\n\s+")


def compact_html(html: str) -> str:
    """`html` without the indentation at the start of its lines (rendered once, cached, sent often).

    Outside `<pre>` and `<textarea>` a run of whitespace displays as one space, so a newline
    followed by spaces displays like the newline alone; HTML holding either is left as it is.
    """
    if "<pre" in html or "<textarea" in html:
        return html
    return _INDENTATION.sub("\n", html)


def is_htmx_swap(request: HttpRequest, target: str) -> bool:
    """An HTMX request that swaps only the element `#target`; a history restore needs the whole page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
        and request.headers.get("HX-Target") == target
    )


def contact_or_404(workspace: Workspace, contact_id: UUID) -> Contact:
    """The contact, if it belongs to `workspace`; another workspace's id is simply not found."""
    contact = selectors.contact_in(workspace, contact_id)
    if contact is None:
        raise Http404("No contact with this address in this workspace.")
    return contact


def detail_url(slug: str, contact_id: UUID) -> str:
    return reverse("contact_detail", kwargs={"slug": slug, "contact_id": contact_id})
