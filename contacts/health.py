"""`/healthz`: is the database, the cache (Redis) and the task broker answering? (DESIGN.md "Outside contracts").

200 when every part answers (`"status": "degraded"` when the app runs on its no-Redis fallbacks),
503 naming the parts that do not. No authentication, so nothing secret is shown: no URLs, and
credentials are scrubbed from error messages.

Each probe runs in a small thread pool of its own and is waited for at most `CHECK_TIMEOUT`
seconds, all three at once: a hung server makes `/healthz` answer 503 in about a second instead
of hanging the request (or, under Daphne, the thread every sync view shares). A probe still
stuck after its deadline keeps its pool thread until the driver gives up; the pool is bounded,
so a flood of health checks against a dead server cannot pile up threads.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import get_random_string
from django.views.decorators.cache import never_cache
from kombu import Connection as BrokerConnection

CHECK_TIMEOUT = 1.0  # seconds, per probe (they run concurrently)
_POOL = ThreadPoolExecutor(max_workers=6, thread_name_prefix="healthz")
_REDIS_SCHEMES = {"redis", "rediss", "unix"}

# A probe returns extra fields for its report ({} when there is nothing to add) or raises.
Probe = Callable[[], dict[str, Any]]


def probe_database() -> dict[str, Any]:
    """One round trip through the ORM, on every engine.

    It reads `django_migrations` rather than a product table: the answer also says the schema
    was migrated, and it never waits on a lock a writer holds on a busy table.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        MigrationRecorder(connection).migration_qs.exists()
    finally:
        # Pool threads are not request threads: nothing else closes their connections.
        connection.close()
    return {"engine": connection.vendor}


def probe_cache() -> dict[str, Any]:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.startswith("django_redis."):
        # The cache swallows Redis errors (IGNORE_EXCEPTIONS) so pages survive an outage;
        # asking the raw client is the only way to hear that Redis is down.
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
        return {"backend": "redis"}
    token = get_random_string(12)
    cache.set("healthz:probe", token, 10)
    if cache.get("healthz:probe") != token:
        raise RuntimeError("the cache did not return the value just stored")
    if not settings.REDIS_AVAILABLE:
        return {
            "backend": "local-memory",
            "degraded": True,
            "detail": "local-memory (Redis unreachable at start)",
        }
    return {"backend": backend.rsplit(".", 1)[-1]}


def probe_broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {
            "backend": "eager",
            "degraded": True,
            "detail": "jobs run in the web process (Redis unreachable at start)",
        }
    url = settings.CELERY_BROKER_URL
    if urlsplit(url).scheme in _REDIS_SCHEMES:
        client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
        return {"backend": "redis"}
    with BrokerConnection(url, connect_timeout=CHECK_TIMEOUT) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT)
    return {"backend": urlsplit(url).scheme}


PROBES: dict[str, Probe] = {"database": probe_database, "cache": probe_cache, "broker": probe_broker}


@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    """Every probe at once; 503 and `failing` name the parts that did not answer in time."""
    names = list(PROBES)
    reports = await asyncio.gather(*(_run(PROBES[name]) for name in names))
    checks = dict(zip(names, reports, strict=True))
    failing = [name for name, report in checks.items() if not report["ok"]]
    body: dict[str, Any] = {"status": "ok", "checks": checks}
    if failing:
        body.update(status="error", failing=failing)
    elif any(report.get("degraded") for report in checks.values()):
        body["status"] = "degraded"
    return JsonResponse(body, status=503 if failing else 200)


async def _run(probe: Probe) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        extra = await asyncio.wait_for(loop.run_in_executor(_POOL, probe), timeout=CHECK_TIMEOUT)
    except TimeoutError:
        return {"ok": False, "ms": _ms_since(started), "error": f"no answer within {CHECK_TIMEOUT:g} s"}
    except Exception as error:
        return {"ok": False, "ms": _ms_since(started), "error": _describe(error)}
    return {"ok": True, "ms": _ms_since(started), **extra}


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def _describe(error: Exception) -> str:
    """The error's class and message, without credentials a driver might quote."""
    message = _CREDENTIALS.sub("***@", str(error)).strip()
    for secret in _configured_passwords():
        message = message.replace(secret, "***")
    return f"{type(error).__name__}: {message}"[:300] if message else type(error).__name__


def _configured_passwords() -> set[str]:
    urls = (settings.CACHE_REDIS_URL, settings.CELERY_BROKER_URL, settings.DATABASE_URL)
    found = {urlsplit(url).password for url in urls if url}
    found.add(settings.DATABASES["default"].get("PASSWORD"))
    return {secret for secret in found if secret}
