"""`{% load search_marks %}`: mark what a search matched in the list's rows."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.safestring import SafeString

from contacts import search

register = template.Library()


@register.filter
def highlight(text: str, terms: Sequence[str]) -> SafeString:
    """`{{ contact.company|highlight:search_terms }}`: escaped, matched word starts in <mark>."""
    return search.highlight(text or "", terms or ())


@register.filter
def notes_snippet(notes: str, terms: Sequence[str]) -> SafeString:
    """The part of the notes around the first word a search term matched (empty when none did),
    so a contact found by its notes shows why."""
    return search.snippet(notes or "", terms or ())
