"""Helpers shared by the page modules."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest
from django.urls import reverse

from contacts import selectors
from contacts.models import Contact, Workspace


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
