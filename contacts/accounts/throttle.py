"""Counting failed sign-ins and password reset requests, shared by every process through the cache.

Each limit is a fixed window that opens with the first counted event and closes `window` seconds
later (the cache entry's expiry). Counts are atomic cache increments, so web processes and servers
sharing one Redis see the same numbers. When the cache fails the check is skipped and logged:
people must still be able to sign in while Redis is down.

Keys hold an HMAC of the username or e-mail, never the value itself. Tests isolate themselves by
setting `SIGNIN_THROTTLE_KEY_PREFIX`.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

Scope = Literal["username", "address", "email"]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Lockout:
    """Why further attempts are refused and for how many more seconds (at least 1)."""

    seconds: int
    scope: Scope

    @property
    def minutes(self) -> int:
        return math.ceil(self.seconds / 60)


@dataclass(frozen=True)
class _Limit:
    key: str
    limit: int
    window: int
    scope: Scope


# --- Identities --------------------------------------------------------------------------------


def normalize_identity(value: str) -> str:
    """`"  Alice "` and `"ALICE"` are one account to count against; NFKC as Django's usernames are."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def _digest(kind: str, value: str) -> str:
    # An HMAC, not the value: the cache is not a place for a list of tried usernames and e-mails.
    return salted_hmac(f"contacts.accounts.throttle.{kind}", normalize_identity(value)).hexdigest()[:32]


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest) -> str | None:
    """The client's address as counted: REMOTE_ADDR, or behind trusted proxies the right-most untrusted
    X-Forwarded-For entry (entries left of it are whatever the client chose to send).

    IPv6 clients are counted per /64, the block one subscriber usually holds. None when unknown
    (e.g. a Unix socket), in which case only the per-username limit applies.
    """
    address = _ip(request.META.get("REMOTE_ADDR") or "")
    if address is not None and settings.TRUSTED_PROXIES and _trusted(address):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        for entry in reversed([part for part in forwarded.split(",") if part.strip()]):
            hop = _ip(entry)
            if hop is None:
                break  # garbage from the client: count against the last hop we trust instead
            address = hop
            if not _trusted(hop):
                break
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


# --- Counters ----------------------------------------------------------------------------------


def _key(kind: str, identity: str) -> str:
    prefix = getattr(settings, "SIGNIN_THROTTLE_KEY_PREFIX", "signin-throttle")
    return f"{prefix}:{kind}:{identity}"


def _hit(limit: _Limit, now: float) -> int | None:
    """Count one event and return the count so far (None when the cache swallowed an error).

    The entry's expiry closes the window the first event opened; increments keep the expiry.
    """
    # The end of the window sits next to the count so any process can say when it passes.
    cache.add(f"{limit.key}:until", now + limit.window, timeout=limit.window)
    if cache.add(limit.key, 1, timeout=limit.window):
        return 1
    try:
        return cache.incr(limit.key)
    except ValueError:
        # The window closed between add and incr: this event opens the next one.
        cache.add(f"{limit.key}:until", now + limit.window, timeout=limit.window)
        cache.add(limit.key, 1, timeout=limit.window)
        return 1


def _lockout(limits: list[_Limit], now: float) -> Lockout | None:
    """The longest wait among the limits already reached, or None."""
    values = cache.get_many([key for limit in limits for key in (limit.key, f"{limit.key}:until")])
    lockouts = []
    for limit in limits:
        count = values.get(limit.key)
        if count is None or int(count) < limit.limit:
            continue
        until = values.get(f"{limit.key}:until")
        remaining = until - now if isinstance(until, int | float) else limit.window
        lockouts.append(Lockout(seconds=max(1, min(limit.window, math.ceil(remaining))), scope=limit.scope))
    return max(lockouts, key=lambda lockout: lockout.seconds, default=None)


def _fail_open(action: str, error: Exception) -> None:
    logger.warning("Sign-in throttling skipped (%s): the cache failed: %r", action, error, exc_info=error)


def _signin_limits(username: str | None, address: str | None) -> list[_Limit]:
    window = settings.SIGNIN_FAILURE_WINDOW
    limits = []
    if username:
        key = _key("signin-user", _digest("username", username))
        limits.append(_Limit(key, settings.SIGNIN_FAILURES_PER_USERNAME, window, "username"))
    if address:
        key = _key("signin-addr", address)
        limits.append(_Limit(key, settings.SIGNIN_FAILURES_PER_ADDRESS, window, "address"))
    return limits


def signin_attempt_blocked(username: str | None, address: str | None) -> Lockout | None:
    """Whether a sign-in attempt must be refused before checking the password, and for how long."""
    try:
        return _lockout(_signin_limits(username, address), time.time())
    except Exception as error:
        _fail_open("check", error)
        return None


def signin_failed(username: str | None, address: str | None) -> None:
    """Count one failed sign-in against the username and the address."""
    now = time.time()
    try:
        for limit in _signin_limits(username, address):
            _hit(limit, now)
    except Exception as error:
        _fail_open("count", error)


def signin_succeeded(username: str) -> None:
    """A correct password clears that username's failures (not the address's: an attacker with one
    account of their own must not be able to wipe the count of their guesses at other accounts)."""
    try:
        cache.delete_many(
            [key for limit in _signin_limits(username, None) for key in (limit.key, f"{limit.key}:until")]
        )
    except Exception as error:
        _fail_open("reset", error)


def _reset_limits(email: str | None, address: str | None) -> list[_Limit]:
    window = settings.PASSWORD_RESET_WINDOW
    limits = []
    if address:
        key = _key("reset-addr", address)
        limits.append(_Limit(key, settings.PASSWORD_RESETS_PER_ADDRESS, window, "address"))
    if email:
        key = _key("reset-email", _digest("email", email))
        limits.append(_Limit(key, settings.PASSWORD_RESETS_PER_EMAIL, window, "email"))
    return limits


def password_reset_blocked(address: str | None) -> Lockout | None:
    """Whether this address has asked for too many reset e-mails."""
    try:
        return _lockout(_reset_limits(None, address), time.time())
    except Exception as error:
        _fail_open("reset check", error)
        return None


def password_reset_requested(email: str, address: str | None) -> bool:
    """Count a reset request; False when this e-mail address has had its share of messages already.

    Every request for the e-mail counts, whether or not an account has it, so the answer tells
    nothing about which addresses have accounts.
    """
    now = time.time()
    allowed = True
    try:
        for limit in _reset_limits(email, address):
            count = _hit(limit, now)
            if limit.scope == "email" and count is not None and count > limit.limit:
                allowed = False
    except Exception as error:
        _fail_open("reset count", error)
    return allowed
