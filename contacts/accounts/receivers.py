"""Signal receivers that feed the sign-in counters (connected in ContactsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from contacts.accounts import throttle


@receiver(user_login_failed, dispatch_uid="contacts.accounts.count_failed_signin")
def count_failed_signin(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only sign-ins over HTTP count: `authenticate()` without a request (shell, test client's
    # login()) has no address and is nobody guessing passwords.
    if request is None:
        return
    username = credentials.get("username")
    throttle.signin_failed(username if isinstance(username, str) else None, throttle.client_address(request))


@receiver(user_logged_in, dispatch_uid="contacts.accounts.clear_signin_failures")
def clear_signin_failures(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # A sign-in form is always a POST; force_login() and other programmatic logins are not sign-ins.
    if request is not None and request.method == "POST":
        throttle.signin_succeeded(user.get_username())
