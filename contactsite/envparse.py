"""Parsers for environment values. They take strings and return settings; settings.py reads os.environ."""

from __future__ import annotations

import socket
from urllib.parse import unquote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"Expected a boolean (1/0, true/false), got {value!r}")


def env_list(value: str | None, *, default: list[str]) -> list[str]:
    if value is None or not value.strip():
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def redis_db_url(url: str, db: int) -> str:
    """The same Redis server, another database number."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def redis_reachable(url: str, *, timeout: float = 0.3) -> bool:
    """Whether a TCP connection to the Redis server in `url` opens (local use only: checked once at start)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return True
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout):
            return True
    except OSError:
        return False


def env_int(name: str, value: str | None, *, default: int) -> int:
    """A whole number, or `default` when unset or empty; the error names the variable."""
    if value is None or not value.strip():
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None


MAKE_SECRET_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'
# The same bar as Django's security.W009 (`manage.py check --deploy`), enforced at start instead.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


def production_secret_key(value: str | None, *, dev_key: str) -> str:
    """SECRET_KEY for DEBUG=0, or ImproperlyConfigured saying what is wrong and how to make a good one."""
    if not value:
        problem = "SECRET_KEY is not set"
    elif value == dev_key:
        problem = "SECRET_KEY is the development key"
    elif value.startswith("django-insecure-"):
        problem = "SECRET_KEY starts with 'django-insecure-' (a key startproject made for development)"
    elif len(value) < SECRET_KEY_MIN_LENGTH:
        problem = f"SECRET_KEY is {len(value)} characters long; it needs at least {SECRET_KEY_MIN_LENGTH}"
    elif len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        problem = f"SECRET_KEY has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters"
    else:
        return value
    raise ImproperlyConfigured(
        f"{problem}. With DEBUG=0 it must be a long random value, kept secret: make one with\n"
        f"    {MAKE_SECRET_KEY}\n"
        "and set it in the environment (or set DEBUG=1 for local development)."
    )


def production_allowed_hosts(value: str | None) -> list[str]:
    """ALLOWED_HOSTS for DEBUG=0: required, since the local defaults would answer any tunnel or proxy."""
    hosts = env_list(value, default=[])
    if not hosts:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is not set. With DEBUG=0 it must list the host names this site is served "
            "under, comma-separated, e.g. ALLOWED_HOSTS=contacts.example.com,www.contacts.example.com "
            "(or set DEBUG=1 for local development)."
        )
    return hosts


def redacted_url(url: str) -> str:
    """`url` without its password (for logs and detailed health reports)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+ssl": "django.core.mail.backends.smtp.EmailBackend",
}


def email_settings(url: str) -> dict:
    """`smtp://host:port`, `smtp+tls://user:pass@host:port`, `console://`, `locmem://` → EMAIL_* settings."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _EMAIL_BACKENDS:
        raise ImproperlyConfigured(f"EMAIL_URL scheme {scheme!r} is not one of {sorted(_EMAIL_BACKENDS)}")
    settings = {"EMAIL_BACKEND": _EMAIL_BACKENDS[scheme]}
    if scheme.startswith("smtp"):
        settings.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=parts.port or (465 if scheme == "smtp+ssl" else 587 if scheme == "smtp+tls" else 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_TLS=scheme == "smtp+tls",
            EMAIL_USE_SSL=scheme == "smtp+ssl",
        )
    return settings
