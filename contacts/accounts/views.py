"""Sign-in (the app's and the admin's), password reset and change, each refusing with 429 when throttled.

Failures are counted by the `user_login_failed` receiver (see receivers.py), so every form that
authenticates through Django counts the same way; the views here only refuse before the password
is even checked once a limit is reached, including a correct one: otherwise the difference
between 429 and "wrong password" would still confirm a guessed password.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from contacts.accounts import throttle
from contacts.accounts.throttle import Lockout

_MESSAGES = {
    ("signin", "username"): "Too many failed sign-in attempts for this account",
    ("signin", "address"): "Too many failed sign-in attempts from your network",
    ("reset", "address"): "Too many password reset requests from your network",
    ("reset", "email"): "Too many password reset requests for this e-mail address",
}


def lockout_message(kind: str, lockout: Lockout) -> str:
    minutes = lockout.minutes
    return f"{_MESSAGES[kind, lockout.scope]}; try again in {minutes} minute{'s' if minutes != 1 else ''}."


def throttled_response(request: HttpRequest, lockout: Lockout, *, kind: str = "signin") -> HttpResponse:
    """429 with `Retry-After` and a page that says how long to wait."""
    context = {"message": lockout_message(kind, lockout), "lockout": lockout, "kind": kind}
    response = render(request, "registration/throttled.html", context, status=429)
    response["Retry-After"] = str(lockout.seconds)
    add_never_cache_headers(response)
    return response


def signin_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a login view: a POST for a locked-out username or address is answered 429 unread."""

    @wraps(view)
    def throttled_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            # AuthenticationForm's field is "username" whatever the user model calls it.
            lockout = throttle.signin_attempt_blocked(
                request.POST.get("username", ""), throttle.client_address(request)
            )
            if lockout is not None:
                return throttled_response(request, lockout)
        return view(request, *args, **kwargs)

    return login_not_required(throttled_view)


login = signin_throttled(auth_views.LoginView.as_view())
admin_login = signin_throttled(admin.site.login)


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link. Always the same "if an account exists" answer, also when the e-mail's
    quota is spent (then no message is sent); too many requests from one address get 429."""

    email_template_name = "registration/password_reset_email.txt"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lockout = throttle.password_reset_blocked(throttle.client_address(request))
        if lockout is not None:
            return throttled_response(request, lockout, kind="reset")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        email = form.cleaned_data["email"]
        if not throttle.password_reset_requested(email, throttle.client_address(self.request)):
            return HttpResponseRedirect(self.get_success_url())
        self.extra_email_context = {"valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}
        return super().form_valid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's password. A wrong current password counts as a failed sign-in, so a borrowed
    session cannot be used to try passwords faster than the sign-in page allows."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lockout = throttle.signin_attempt_blocked(
            request.user.get_username(), throttle.client_address(request)
        )
        if lockout is not None:
            return throttled_response(request, lockout)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        if "old_password" in form.errors:
            throttle.signin_failed(self.request.user.get_username(), throttle.client_address(self.request))
        return super().form_invalid(form)
