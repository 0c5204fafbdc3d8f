"""Helpers the browser tests share."""

from __future__ import annotations

from typing import Any

from django.test import Client
from playwright.sync_api import BrowserContext


def sign_in_as(context: BrowserContext, user: Any, base: str) -> BrowserContext:
    """Give the browser context `user`'s session on the server at `base` (no login form)."""
    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return context
