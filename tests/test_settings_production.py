"""Production settings (DEBUG=0) refuse to start without what they need, and pass Django's deployment checks."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from contactsite.envparse import (
    MAKE_SECRET_KEY,
    production_allowed_hosts,
    production_secret_key,
    redacted_url,
)

REPO = Path(__file__).resolve().parent.parent
DEV_KEY = "dev-only-insecure-key-do-not-use-in-production"
GOOD_KEY = secrets.token_urlsafe(50)
# What the app reads; the test run sets some of them (DEBUG=1, CONTACTS_TESTING=1) for itself.
_APP_VARIABLES = {
    "DJANGO_SETTINGS_MODULE",
    "CONTACTS_TESTING",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "BEHIND_TLS_PROXY",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
}
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "contacts.example.com"}
# The deployment the README documents: behind a TLS proxy, with HSTS (the same as scripts/test.sh).
DEPLOYMENT = {
    **PRODUCTION,
    "BEHIND_TLS_PROXY": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}

_REPORT = """
import json
from django.conf import settings
print(json.dumps({name: getattr(settings, name, None) for name in [
    "DEBUG", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_REDIRECT_EXEMPT",
]}))
"""


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in _APP_VARIABLES and not key.startswith("DJANGO_")
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env={**clean, "DJANGO_SETTINGS_MODULE": "contactsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(**env: str) -> dict:
    result = _run("-c", _REPORT, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _refusal(**env: str) -> str:
    """The ImproperlyConfigured message the settings stop with."""
    result = _run("-c", "import django.conf; django.conf.settings.DEBUG", **env)
    assert result.returncode != 0, "the settings loaded"
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr, result.stderr
    return result.stderr.split("ImproperlyConfigured:", 1)[1]


# --- Refusals at start ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "SECRET_KEY is not set"),
        ("", "SECRET_KEY is not set"),
        ("short-but-random-Zq8", "SECRET_KEY is 20 characters long; it needs at least 50"),
        ("abcd" * 20, "SECRET_KEY has fewer than 5 different characters"),
        (DEV_KEY, "SECRET_KEY is the development key"),
        ("django-insecure-" + GOOD_KEY, "starts with 'django-insecure-'"),
    ],
    ids=["unset", "empty", "short", "few-characters", "dev-key", "django-insecure"],
)
def test_production_refuses_a_weak_secret_key_and_says_how_to_make_one(key, problem):
    env = {**PRODUCTION}
    if key is None:
        del env["SECRET_KEY"]
    else:
        env["SECRET_KEY"] = key

    message = _refusal(**env)

    assert problem in message
    assert MAKE_SECRET_KEY in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(50))"' in message


@pytest.mark.parametrize("hosts", [None, "", " , "], ids=["unset", "empty", "only-commas"])
def test_production_refuses_to_start_without_allowed_hosts(hosts):
    env = {**PRODUCTION}
    if hosts is None:
        del env["ALLOWED_HOSTS"]
    else:
        env["ALLOWED_HOSTS"] = hosts

    message = _refusal(**env)

    assert "ALLOWED_HOSTS is not set" in message
    assert "ALLOWED_HOSTS=contacts.example.com" in message


def test_a_deployment_that_forgets_debug_gets_production_behaviour():
    message = _refusal()  # no DEBUG, no SECRET_KEY: production, so the key is required

    assert "SECRET_KEY is not set" in message
    assert _settings(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="contacts.example.com")["DEBUG"] is False


def test_local_use_needs_nothing_but_debug():
    chosen = _settings(DEBUG="1")

    assert chosen["DEBUG"] is True
    assert "localhost" in chosen["ALLOWED_HOSTS"]
    assert chosen["SECURE_SSL_REDIRECT"] is False and chosen["SESSION_COOKIE_SECURE"] is False


def test_a_good_production_configuration_loads():
    chosen = _settings(**{**PRODUCTION, "ALLOWED_HOSTS": "a.example, b.example"})

    assert chosen["DEBUG"] is False
    assert chosen["ALLOWED_HOSTS"] == ["a.example", "b.example"]


# --- HTTPS settings ------------------------------------------------------------------------------


def test_behind_a_tls_proxy_the_app_redirects_to_https_and_marks_cookies_secure():
    chosen = _settings(**PRODUCTION, BEHIND_TLS_PROXY="1")

    assert chosen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert chosen["SECURE_SSL_REDIRECT"] is True
    assert chosen["SESSION_COOKIE_SECURE"] is True and chosen["CSRF_COOKIE_SECURE"] is True
    assert chosen["SECURE_REDIRECT_EXEMPT"] == ["^healthz$"], "health checks probe over plain HTTP"


def test_each_https_setting_can_still_be_set_on_its_own():
    chosen = _settings(
        **PRODUCTION,
        BEHIND_TLS_PROXY="1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="0",
    )

    assert chosen["SECURE_SSL_REDIRECT"] is False
    assert chosen["SESSION_COOKIE_SECURE"] is False and chosen["CSRF_COOKIE_SECURE"] is True
    assert (chosen["SECURE_HSTS_SECONDS"], chosen["SECURE_HSTS_INCLUDE_SUBDOMAINS"]) == (600, True)
    assert chosen["SECURE_HSTS_PRELOAD"] is False


def test_a_malformed_number_names_its_variable():
    assert "SECURE_HSTS_SECONDS must be a whole number, got '1y'" in _refusal(
        **PRODUCTION, SECURE_HSTS_SECONDS="1y"
    )


def test_the_documented_deployment_passes_djangos_deployment_checklist():
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **DEPLOYMENT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checklist_fails_a_production_run_without_https():
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


# --- The parsers ---------------------------------------------------------------------------------


def test_production_secret_key_accepts_a_generated_key():
    assert production_secret_key(GOOD_KEY, dev_key=DEV_KEY) == GOOD_KEY


def test_production_secret_key_refusal_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        production_secret_key(None, dev_key=DEV_KEY)


def test_production_allowed_hosts_splits_and_refuses_empty():
    assert production_allowed_hosts("a.example,b.example") == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS is not set"):
        production_allowed_hosts(None)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@cache:6379/1", "redis://:***@cache:6379/1"),
        ("redis://user:pw@cache/1", "redis://user:***@cache/1"),
        ("redis://cache:6379/1", "redis://cache:6379/1"),
        (
            "mongodb://app:s3cret@h1,h2/contacts?replicaSet=rs0",
            "mongodb://app:***@h1,h2/contacts?replicaSet=rs0",
        ),
    ],
)
def test_redacted_url_hides_only_the_password(url, shown):
    assert redacted_url(url) == shown
