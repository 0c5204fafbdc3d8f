"""Response headers Django's SecurityMiddleware does not set: Content-Security-Policy and Permissions-Policy.

The policies live in settings (CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_PATHS,
PERMISSIONS_POLICY). A view that sets either header itself keeps its own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

from contacts.live import broadcast


def serialize_csp(policy: dict[str, list[str]]) -> str:
    """{"default-src": ["'self'"], …} → "default-src 'self'; …" (a directive without sources stands alone)."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


def serialize_permissions_policy(policy: dict[str, list[str]]) -> str:
    """{"camera": [], "fullscreen": ["self"]} → "camera=(), fullscreen=(self)"."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items())


def csp_for_path(path: str) -> dict[str, list[str]]:
    """The policy for `path` (path_info, without SCRIPT_NAME).

    The first CONTENT_SECURITY_POLICY_PATHS prefix `path` starts with, else the app's default.
    """
    for prefix, policy in settings.CONTENT_SECURITY_POLICY_PATHS.items():
        if path.startswith(prefix):
            return policy
    return settings.CONTENT_SECURITY_POLICY


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Adds the policies to every response, HTML or not: a JSON or file response opened in a tab is a page too."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response.headers.setdefault("Content-Security-Policy", serialize_csp(csp_for_path(request.path_info)))
        response.headers.setdefault(
            "Permissions-Policy", serialize_permissions_policy(settings.PERMISSIONS_POLICY)
        )
        return response


class AnnounceAfterResponseMiddleware:
    """Live events of this request's writes are published after its response has been sent.

    The server process answering the writer holds sockets too: publishing at commit would make
    it write the writer's own event to its sockets before the writer's answer. Django closes a
    response once its last byte is handed to the server; its closers then publish (and, should
    the response never be closed, `HOLD_AT_MOST` seconds later at the latest).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with broadcast.holding() as held:
            try:
                response = self.get_response(request)
            except BaseException:
                held.release()
                raise
        if held.pending:
            # Django's own hook for work after the response (FileResponse closes its file there).
            response._resource_closers.append(held.release)
            held.release_at_the_latest_in(broadcast.HOLD_AT_MOST)
        return response
