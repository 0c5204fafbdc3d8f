"""`{% load icons %}`: `{% icon "mail" %}` draws a symbol of static/img/icons.svg.

The icons are decorative (hidden from assistive technology): the control around one names itself
(`aria-label` or visible text). They are drawn in `currentColor`, so they follow the theme.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def icon(name: str) -> SafeString:
    return format_html(
        '<svg class="icon" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        static("img/icons.svg"),
        name,
    )
