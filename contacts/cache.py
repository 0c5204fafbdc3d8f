"""Cache-aside for the read layer: plain data in Redis, keyed by workspace and its change version.

Every key names the workspace and the workspace's `change_version`, which every write bumps inside
its transaction. A reader takes the version from the workspace row it already loaded for the
permission check, so the first read after a commit (in any process) asks for a new key and never
sees the old value; old keys simply expire (TTL, `CONTACTS_CACHE_TTL`). A rolled-back write bumps
nothing. Values are plain data (dicts, lists, ids): never querysets, pages or model instances.

Stampede protection: the first reader of a missing key takes a short lock (`add`) and computes;
the others wait up to `CONTACTS_CACHE_LOCK_WAIT` seconds for its value, then compute themselves.

Copies in the process: a value never changes under its key (a change means a new version, so a
new key), so reads that ask for it (`keep_local=True`: the list page's) keep what Redis returned
in this process's memory too (`LocalCopies`, at most `CONTACTS_CACHE_LOCAL_BYTES`, least recently
used out first, each for the TTL). Their next read costs no round trip and no copying of ~170 kB
out of Redis; the version read from the database with the permission check still decides which
key is asked for, so a copy is never stale.

Redis down, slow or gone: a failing call opens a breaker for `CONTACTS_CACHE_RETRY_AFTER` seconds
in this process, during which reads go straight to the database (one warning per opening), so a
dead Redis costs one socket timeout per interval, not one per read. The next call after the
interval tries Redis again.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.core.cache import caches

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Counters of this process, for /healthz's staff detail (hits, misses, errors, waits).
_STATS_LOCK = threading.Lock()
STATS: dict[str, int] = {"hit": 0, "miss": 0, "wait": 0, "error": 0, "local": 0}


@dataclass
class ReadReport:
    """What the cache did for the current request's reads (for the `Server-Timing` header)."""

    outcomes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def main(self) -> str | None:
        """The first read's outcome: the request's main read ("hit" / "miss" / "off")."""
        return self.outcomes[0] if self.outcomes else None


_report: contextvars.ContextVar[ReadReport | None] = contextvars.ContextVar("cache_report", default=None)


def start_report() -> ReadReport:
    """Begin collecting the outcomes of this request's cached reads (middleware calls it)."""
    report = ReadReport()
    _report.set(report)
    return report


class _Breaker:
    """Skip Redis for a while after it failed, so each request does not wait for a timeout."""

    def __init__(self) -> None:
        self.open_until = 0.0
        self.lock = threading.Lock()

    def closed(self) -> bool:
        return time.monotonic() >= self.open_until

    def trip(self, error: Exception) -> None:
        with self.lock:
            already_open = not self.closed()
            self.open_until = time.monotonic() + settings.CONTACTS_CACHE_RETRY_AFTER
        if not already_open:
            logger.warning(
                "The cache (Redis) failed: %s. Reads go to the database for %ss, then try Redis again.",
                error.__class__.__name__,
                settings.CONTACTS_CACHE_RETRY_AFTER,
            )


breaker = _Breaker()


class LocalCopies:
    """Values read or computed under a key, kept in this process for the TTL, within a byte budget
    (least recently used out first). Shared by the request threads: callers never change them."""

    def __init__(self) -> None:
        self.entries: OrderedDict[str, tuple[Any, int, float]] = OrderedDict()  # value, size, expiry
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[2] <= time.monotonic():
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return entry[0]

    def put(self, key: str, value: Any, ttl: int | None = None) -> None:
        budget = settings.CONTACTS_CACHE_LOCAL_BYTES
        size = _size_of(value)
        if size > budget // 4:  # nothing crowds out most of the others
            return
        expiry = time.monotonic() + (ttl or settings.CONTACTS_CACHE_TTL)
        with self.lock:
            if key in self.entries:
                self._drop(key)
            self.entries[key] = (value, size, expiry)
            self.size += size
            while self.size > budget:
                self._drop(next(iter(self.entries)))

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0

    def _drop(self, key: str) -> None:
        self.size -= self.entries.pop(key)[1]


def _size_of(value: Any) -> int:
    """About how many bytes `value` holds: its strings and bytes, plus a little per container."""
    if isinstance(value, bytes | str):
        return len(value) + 50
    if isinstance(value, dict):
        return 100 + sum(_size_of(key) + _size_of(item) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 60 + sum(_size_of(item) for item in value)
    return 50


local_copies = LocalCopies()
# Errors of the Redis client (and of the socket under it) that mean "the cache is unavailable".
CACHE_ERRORS = (redis.exceptions.RedisError, OSError)


def _store():
    return caches[settings.CONTACTS_CACHE_ALIAS]


# The shape of the cached values: bump it when code changes what it stores under a key (a str
# becoming cut pieces, a dict gaining a field), so a deploy that changes no template still never
# reads what the previous code wrote.
VALUE_FORMAT = 2


def workspace_key(workspace: Any, kind: str, *parts: Any) -> str:
    """`ws:<id>:<change version>:<release>.<value format>:<kind>:<digest of parts>`: one
    workspace, one version, one release of the code, one question."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest() if parts else "-"
    return f"ws:{workspace.pk.hex}:{workspace.change_version}:{release()}.{VALUE_FORMAT}:{kind}:{digest}"


@functools.cache
def release() -> str:
    """What this process serves: `CONTACTS_RELEASE` if set, else a digest of the templates and the
    static files' manifest.

    Cached HTML is laid out by the templates and names the static files by their hashed names, so
    the first process of a new deploy must not be served what the previous one rendered (its CSS
    may no longer exist). Computed once per process.
    """
    if settings.CONTACTS_RELEASE:
        return settings.CONTACTS_RELEASE
    digest = hashlib.blake2b(digest_size=6)
    folders = [Path(folder) for engine in settings.TEMPLATES for folder in engine.get("DIRS", ())]
    for path in sorted(file for folder in folders for file in folder.rglob("*.html")):
        digest.update(path.read_bytes())
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json" if settings.STATIC_ROOT else None
    if manifest is not None and manifest.exists():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()


def cached(key: str, compute: Callable[[], T], *, ttl: int | None = None, keep_local: bool = False) -> T:
    """The value under `key`, computed (once, even under concurrent misses) and stored when missing.

    `compute` must return plain, picklable data and never None. With `keep_local`, the value is
    also kept in this process (`LocalCopies`): the caller must never change what it gets.
    """
    report = _report.get()
    if report is not None:
        # Claim the slot before computing: reads nested in `compute` come after this one.
        slot = len(report.outcomes)
        report.outcomes.append("pending")
    started = time.perf_counter()
    try:
        value, outcome = _cached(key, compute, ttl, keep_local)
    finally:
        if report is not None:
            report.seconds += time.perf_counter() - started
    if report is not None:
        report.outcomes[slot] = outcome
    _count(outcome)
    return value


def cached_together(
    computations: dict[str, Callable[[], Any]], *, keep_local: bool = False
) -> dict[str, Any]:
    """The values under several keys, read in one round trip; each missing one computed (and
    protected against a stampede) as `cached` does. The first key is the request's main read.
    With `keep_local`, as `cached`: values kept in this process are not asked of Redis."""
    report = _report.get()
    started = time.perf_counter()
    found: dict[str, Any] = {}
    if settings.CONTACTS_CACHE_ENABLED:
        if keep_local:
            found = {key: value for key in computations if (value := local_copies.get(key)) is not None}
            _count("local", len(found))
        wanted = [key for key in computations if key not in found]
        if wanted and breaker.closed():
            try:
                from_redis = _store().get_many(wanted)
            except CACHE_ERRORS as error:
                breaker.trip(error)
                _count("error")
            else:
                found.update(from_redis)
                for key, value in from_redis.items() if keep_local else ():
                    local_copies.put(key, value)
    if report is not None:
        report.seconds += time.perf_counter() - started
    values = {}
    for key, compute in computations.items():
        if key in found:
            values[key] = found[key]
            if report is not None:
                report.outcomes.append("hit")
            _count("hit")
        else:
            values[key] = cached(key, compute, keep_local=keep_local)
    return values


def _cached(key: str, compute: Callable[[], T], ttl: int | None, keep_local: bool = False) -> tuple[T, str]:
    if not settings.CONTACTS_CACHE_ENABLED:
        return compute(), "off"
    if keep_local:
        value = local_copies.get(key)
        if value is not None:
            _count("local")
            return value, "hit"
    value, outcome, stored = _shared(key, compute, ttl)
    if keep_local and stored:
        local_copies.put(key, value, ttl)
    return value, outcome


def _shared(key: str, compute: Callable[[], T], ttl: int | None) -> tuple[T, str, bool]:
    """The value Redis holds under `key`, computed by one reader at a time when it holds none:
    (value, "hit" or "miss" or "off", whether it is the value stored under the key)."""
    if not breaker.closed():
        return compute(), "off", False
    store = _store()
    try:
        value = store.get(key)
        if value is not None:
            return value, "hit", True
        if store.add(f"{key}:lock", 1, timeout=settings.CONTACTS_CACHE_LOCK_TIMEOUT):
            try:
                value = compute()
                store.set(key, value, timeout=ttl or settings.CONTACTS_CACHE_TTL)
            finally:
                store.delete(f"{key}:lock")
            return value, "miss", True
        value = _wait_for(store, key)
        if value is not None:
            return value, "hit", True
    except CACHE_ERRORS as error:
        breaker.trip(error)
        _count("error")
    # Waited long enough for another reader's value (or Redis failed): read the database.
    return compute(), "miss", False


def _wait_for(store: Any, key: str) -> Any:
    """Another reader holds the lock and is computing: poll briefly for its value."""
    _count("wait")
    deadline = time.monotonic() + settings.CONTACTS_CACHE_LOCK_WAIT
    pause = 0.005
    while time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
        value = store.get(key)
        if value is not None:
            return value
    return None


def _count(outcome: str, times: int = 1) -> None:
    if times:
        with _STATS_LOCK:
            STATS[outcome] = STATS.get(outcome, 0) + times


def stats() -> dict[str, Any]:
    """This process's counters and whether the breaker is open (for staff on /healthz)."""
    with _STATS_LOCK:
        counters = dict(STATS)
    return {**counters, "bypassed_until_retry": not breaker.closed()}
