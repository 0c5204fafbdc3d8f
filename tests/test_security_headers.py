"""Every response carries the security headers, and no page needs inline or eval'd script to work.

The browser half (the policies really let each page run, with no violation reported) is
tests/e2e/test_content_security_policy.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse

from contacts.factories import UserFactory
from contacts.middleware import (
    SecurityHeadersMiddleware,
    csp_for_path,
    serialize_csp,
    serialize_permissions_policy,
)

REPO = Path(__file__).resolve().parent.parent
APP_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


def _directives(header: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in header.split(";") if part.strip())}


def assert_security_headers(response) -> dict[str, list[str]]:
    """The headers every response carries; returns the CSP's directives."""
    csp = _directives(response["Content-Security-Policy"])
    for directive in ("script-src", "default-src"):
        assert "'unsafe-eval'" not in csp[directive] and "'unsafe-inline'" not in csp[directive], directive
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    return csp


# --- Every kind of response ------------------------------------------------------------------------


def test_pages_carry_the_apps_strict_policy(member_client, contact):
    for url in (
        "/w/acme-sales/contacts/",
        f"/w/acme-sales/contacts/{contact.pk}/",
        "/w/acme-sales/contacts/new/",
    ):
        response = member_client.get(url)

        assert response.status_code == 200, url
        assert_security_headers(response)
        assert response["Content-Security-Policy"] == APP_POLICY


def test_htmx_partials_carry_the_headers_too(member_client, contact):
    response = member_client.get("/w/acme-sales/contacts/?q=Ann", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == APP_POLICY


def test_the_login_page_carries_the_headers(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == APP_POLICY
    assert_security_headers(response)


def test_not_found_pages_carry_the_headers(member_client):
    response = member_client.get("/no-such-page/")

    assert response.status_code == 404
    assert_security_headers(response)


def test_api_responses_carry_the_headers(client, db):
    response = client.get("/api/v1/workspaces/")

    assert response.status_code == 401
    assert_security_headers(response)


def test_the_health_check_carries_the_headers(client, db):
    assert_security_headers(client.get("/healthz"))


def test_static_files_carry_the_headers(client):
    response = client.get("/static/js/app.js")

    assert response.status_code == 200
    # WhiteNoise answers before XFrameOptionsMiddleware; a script is never framed anyway.
    assert response["Content-Security-Policy"] == APP_POLICY
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_admin_gets_the_apps_strict_policy(client, db):
    client.force_login(UserFactory(username="ada-admin", is_staff=True, is_superuser=True))

    for url in ("/admin/login/", "/admin/", "/admin/contacts/contact/"):
        response = client.get(url)

        assert response.status_code in (200, 302), url
        assert_security_headers(response)
        assert response["Content-Security-Policy"] == APP_POLICY


def test_the_api_docs_page_and_its_script_carry_a_policy_without_inline_script(client, db):
    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    assert page.status_code == 200 and script.status_code == 200
    csp = assert_security_headers(page)
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert "data:" in csp["img-src"], "Swagger UI's icons are data: images"
    assert_security_headers(script)
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert _inline_code(page.content.decode()) == []


def test_a_view_that_sets_its_own_policy_keeps_it(rf):
    own = "default-src 'none'"
    middleware = SecurityHeadersMiddleware(
        lambda request: HttpResponse(headers={"Content-Security-Policy": own})
    )

    response = middleware(rf.get("/"))

    assert response["Content-Security-Policy"] == own
    assert "camera=()" in response["Permissions-Policy"]


def test_policies_serialize_and_are_chosen_by_path_prefix():
    assert serialize_csp({"default-src": ["'self'"], "upgrade-insecure-requests": []}) == (
        "default-src 'self'; upgrade-insecure-requests"
    )
    assert (
        serialize_permissions_policy({"camera": [], "fullscreen": ["self"]}) == "camera=(), fullscreen=(self)"
    )
    assert csp_for_path("/api/docs/") is settings.CONTENT_SECURITY_POLICY_PATHS["/api/docs/"]
    assert csp_for_path("/admin/login/") is settings.CONTENT_SECURITY_POLICY
    assert csp_for_path("/w/acme/contacts/") is settings.CONTENT_SECURITY_POLICY


# --- Nothing in the pages needs what the policy forbids ---------------------------------------------


class _InlineCode(HTMLParser):
    """Inline <script>/<style> bodies, on* handlers, style attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._inline: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if (tag == "script" and "src" not in names) or tag == "style":
            self._inline = tag
        for name, value in attrs:
            if name.startswith("on") or name == "style" or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=…>")
            elif value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")
            elif name == "hx-vals" and value and value.strip().startswith("js:"):
                self.found.append(f"<{tag} hx-vals=js:…> (needs eval)")

    def handle_data(self, data: str) -> None:
        if self._inline and data.strip():
            self.found.append(f"inline <{self._inline}>: {data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self._inline = None


def _inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


def test_rendered_pages_have_no_inline_code(member_client, contact):
    for url in (
        "/w/acme-sales/contacts/",
        f"/w/acme-sales/contacts/{contact.pk}/",
        f"/w/acme-sales/contacts/{contact.pk}/edit/",
        "/w/acme-sales/contacts/new/",
        "/no-such-page/",
    ):
        assert _inline_code(member_client.get(url).content.decode()) == [], url


def test_the_login_page_has_no_inline_code(client, db):
    assert _inline_code(client.get("/accounts/login/").content.decode()) == []


# Page templates only: e-mails (templates/emails/) are read by mail programs, where no policy applies
# and inline styles are the only styles that work.
PAGE_TEMPLATES = sorted(path for path in (REPO / "templates").rglob("*.html") if "emails" not in path.parts)


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda path: path.name)
def test_templates_use_no_inline_code(template):
    source = re.sub(r"\{#.*?#\}", "", template.read_text())  # comments may name what they avoid

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), "inline <script>: move it to static/js/"
    assert not re.search(r"<style\b", source), "inline <style>: move it to a stylesheet"
    assert not re.search(r"\son[a-z]+\s*=", source), (
        "inline event handler: use addEventListener in static/js/"
    )
    assert not re.search(r"\sstyle\s*=", source), "style attribute: use a class"
    assert not re.search(r"\shx-on", source), "hx-on needs eval, which the policy forbids"
    assert "javascript:" not in source
    assert not re.search(r"hx-vals\s*=\s*['\"]\s*js:", source), "hx-vals js: needs eval"


def test_htmx_is_configured_to_need_no_inline_style_or_eval(client, db):
    html = client.get("/accounts/login/").content.decode()

    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'', html).group(1)
    assert '"includeIndicatorStyles": false' in config
    assert '"allowEval": false' in config
