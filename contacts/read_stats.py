"""The read layer's hit and miss counters, added up over every process through Redis.

contacts/cache.py counts outcomes per process (`cache.stats()`). Asking Redis on every read would
add a round trip to each one, so each process keeps what it has not yet reported in memory and
adds it to shared counters (INCRBY, one pipeline) at most every `FLUSH_SECONDS`, or sooner once
`FLUSH_EVERY` outcomes are waiting. `maybe_flush()` runs once each response is closed (the
Server-Timing middleware connects it); a failed flush keeps the counts for the next one and is
logged once per outage.

The shared counters live in the Redis of the "reads" cache. With the local-memory stand-in (no
Redis, DEBUG=1) there is nothing to share and `report()` gives this process's counters.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings

from contacts import cache

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
FLUSH_EVERY = 100
# Always reported, even before the first read of that kind; other outcomes appear once counted.
OUTCOMES = ("hit", "miss", "wait", "error", "off")

# Held while flushing or reading the shared totals: both look at `_flushed`, and a report must not
# count a batch twice (once in Redis, once still pending) while it is being written.
_lock = threading.Lock()
_flushed: dict[str, int] = {}  # how much of each process counter Redis already has
_next_flush = time.monotonic() + FLUSH_SECONDS
_failing = False  # a flush failed and was logged; the next success re-arms the warning


def _redis() -> Any:
    """The raw client of the "reads" cache's Redis, or None when that cache is not Redis."""
    alias = settings.CONTACTS_CACHE_ALIAS
    if not settings.CACHES.get(alias, {}).get("BACKEND", "").startswith("django_redis."):
        return None
    from django_redis import get_redis_connection

    return get_redis_connection(alias)


def _key(outcome: str) -> str:
    prefix = settings.CACHES[settings.CONTACTS_CACHE_ALIAS].get("KEY_PREFIX") or "contacts"
    return f"{prefix}:reads:stats:{outcome}"


def _process_counters() -> tuple[dict[str, int], bool]:
    """This process's counters (every outcome in OUTCOMES) and whether the breaker is open."""
    counters = cache.stats()
    bypassed = bool(counters.pop("bypassed_until_retry", False))
    totals = dict.fromkeys(OUTCOMES, 0)
    totals.update({name: value for name, value in counters.items() if type(value) is int})
    return totals, bypassed


def _pending(counters: dict[str, int]) -> dict[str, int]:
    """Counts not in Redis yet. A counter below what was flushed was reset (tests do): start over."""
    pending = {}
    for outcome, value in counters.items():
        flushed = _flushed.get(outcome, 0)
        if value < flushed:
            _flushed[outcome] = flushed = value
        if value > flushed:
            pending[outcome] = value - flushed
    return pending


def _waiting() -> int:
    """How many outcomes wait for a flush (read without the lock: a hint, not an account)."""
    counters, _ = _process_counters()
    return sum(max(0, value - _flushed.get(outcome, 0)) for outcome, value in counters.items())


def maybe_flush() -> None:
    """Add this process's new counts to the shared counters if a flush is due; never raises."""
    global _next_flush
    now = time.monotonic()
    if now < _next_flush and (_failing or _waiting() < FLUSH_EVERY):
        return
    # Another thread is flushing: these counts go with the next flush.
    if not _lock.acquire(blocking=False):
        return
    try:
        _next_flush = now + FLUSH_SECONDS
        # While the read layer's breaker is open Redis is known to be down: no flush, no timeout.
        if cache.breaker.closed():
            _flush()
    finally:
        _lock.release()


def _flush() -> None:
    global _failing
    pending = _pending(_process_counters()[0])
    if not pending:
        return
    try:
        client = _redis()
        if client is None:
            return
        pipe = client.pipeline()
        for outcome, count in pending.items():
            pipe.incrby(_key(outcome), count)
        pipe.execute()
    except Exception as error:  # statistics must never fail a response
        if not _failing:
            logger.warning(
                "Could not add the read cache's counters to Redis (%s); keeping them in this process "
                "and retrying every %ss.",
                error.__class__.__name__,
                FLUSH_SECONDS,
            )
        _failing = True
        return
    _failing = False
    for outcome, count in pending.items():
        _flushed[outcome] = _flushed.get(outcome, 0) + count


def report() -> dict[str, Any]:
    """Counters for /healthz's staff detail: every process's when Redis answers, else this one's."""
    with _lock:
        counters, bypassed = _process_counters()
        scope = "this process"
        client = None if bypassed else _redis()
        if client is not None:
            try:
                names = list(counters)
                shared = client.mget([_key(name) for name in names])
            except Exception as error:
                logger.info("Could not read the shared read-cache counters: %s", error.__class__.__name__)
            else:
                pending = _pending(counters)
                counters = {
                    name: int(value or 0) + pending.get(name, 0)
                    for name, value in zip(names, shared, strict=True)
                }
                scope = "all processes"
    reads = counters["hit"] + counters["miss"]
    return {
        **counters,
        "hit_ratio": round(counters["hit"] / reads, 2) if reads else None,
        "bypassed_until_retry": bypassed,
        "scope": scope,
    }
