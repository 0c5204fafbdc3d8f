"""`/healthz`: are the database, the cache, the channel layer and the task broker answering?

200 when every part answers (`"status": "degraded"` when local use runs on its no-Redis stand-ins),
503 naming the parts that do not. Each Redis part is probed against its own URL, so a broker on
another server (or database) than the cache is reported on its own. Nothing is decided at start:
a part that comes back answers the next request, without a restart.

Anyone may call it, so by default it says only which parts are ok. Hosts (without passwords),
timings, backends, error messages and the read cache's hit and miss counters are shown to staff
users and to callers presenting `HEALTH_TOKEN` (`Authorization: Bearer …` or `X-Health-Token: …`);
even then credentials are scrubbed from error messages.

Each probe runs in a small thread pool of its own and is waited for at most `CHECK_TIMEOUT`
seconds, all at once: a hung server makes `/healthz` answer 503 in about a second instead of
hanging the request (or, under Daphne, the thread every sync view shares). A probe still stuck
after its deadline keeps its pool thread until the driver gives up; the pool is bounded, so a
flood of health checks against a dead server cannot pile up threads.
"""

from __future__ import annotations

import asyncio
import hmac
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

from contacts import read_stats
from contactsite.envparse import redacted_url

CHECK_TIMEOUT = 1.0  # seconds, per probe (they run concurrently)
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="healthz")
_REDIS_SCHEMES = {"redis", "rediss", "unix"}
CACHE_PROBE_KEY = "healthz:probe"

# A probe returns extra fields for its report ({} when there is nothing to add) or raises.
# Only `degraded` is shown to every caller; the other fields are details (see `_public`).
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
    report: dict[str, Any] = {"backend": backend.rsplit(".", 1)[-1]}
    if backend.startswith("django_redis."):
        # The cache swallows Redis errors (IGNORE_EXCEPTIONS) so pages survive an outage;
        # asking the raw client is the only way to hear that Redis is down.
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
        report = {"backend": "redis"}
    # Then a round trip through Django's cache API: the app's own reads and writes work.
    token = get_random_string(12)
    cache.set(CACHE_PROBE_KEY, token, 10)
    if cache.get(CACHE_PROBE_KEY) != token:
        raise RuntimeError("the cache did not return the value just stored")
    if not settings.REDIS_AVAILABLE:
        report.update(degraded=True, detail="local-memory (Redis unreachable at start, DEBUG=1)")
    return report


def probe_channel_layer() -> dict[str, Any]:
    layer = settings.CHANNEL_LAYERS["default"]
    backend = layer["BACKEND"]
    if backend == "channels.layers.InMemoryChannelLayer":
        return {
            "backend": "in-process",
            "degraded": True,
            "detail": "live updates reach only this process (Redis unreachable at start, DEBUG=1)",
        }
    if not backend.startswith("channels_redis."):
        return {"backend": backend.rsplit(".", 1)[-1]}
    # A ping per configured server, with the layer's own URLs but a client of our own: the layer's
    # pools belong to the event loops of the consumers using them.
    for host in layer.get("CONFIG", {}).get("hosts", []):
        _ping_redis(_redis_host_url(host))
    return {"backend": "redis"}


def probe_broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {
            "backend": "eager",
            "degraded": True,
            "detail": "jobs run in the web process (Redis unreachable at start, DEBUG=1)",
        }
    url = settings.CELERY_BROKER_URL
    if urlsplit(url).scheme in _REDIS_SCHEMES:
        _ping_redis(url)
        return {"backend": "redis"}
    with BrokerConnection(url, connect_timeout=CHECK_TIMEOUT) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT)
    return {"backend": urlsplit(url).scheme}


PROBES: dict[str, Probe] = {
    "database": probe_database,
    "cache": probe_cache,
    "channel_layer": probe_channel_layer,
    "broker": probe_broker,
}


def database_target() -> str:
    database = settings.DATABASES[DEFAULT_DB_ALIAS]
    host = str(database.get("HOST") or "")
    if "://" in host:  # MongoDB: the whole connection string
        return redacted_url(host)
    if not host:  # SQLite, or a local socket
        return str(database.get("NAME") or "")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"{host}{port}/{database.get('NAME') or ''}"


def cache_target() -> str:
    location = settings.CACHES["default"].get("LOCATION") or ""
    return redacted_url(location) if isinstance(location, str) else ", ".join(map(redacted_url, location))


def channel_layer_target() -> str:
    hosts = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts", [])
    return ", ".join(redacted_url(_redis_host_url(host)) for host in hosts)


def broker_target() -> str:
    return "" if settings.CELERY_TASK_ALWAYS_EAGER else redacted_url(settings.CELERY_BROKER_URL)


# Where each part is (a detail): shown with failures too, since that is when it is wanted.
TARGETS: dict[str, Callable[[], str]] = {
    "database": database_target,
    "cache": cache_target,
    "channel_layer": channel_layer_target,
    "broker": broker_target,
}


@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    """Every probe at once; 503 and `failing` name the parts that did not answer in time."""
    names = list(PROBES)
    reports = await asyncio.gather(*(_run(PROBES[name], TARGETS.get(name)) for name in names))
    checks = dict(zip(names, reports, strict=True))
    failing = [name for name, report in checks.items() if not report["ok"]]
    if await _may_see_details(request):
        checks["cache"]["reads"] = await _read_counters()
    else:
        checks = {name: _public(report) for name, report in checks.items()}
    body: dict[str, Any] = {"status": "ok", "checks": checks}
    if failing:
        body.update(status="error", failing=failing)
    elif any(report.get("degraded") for report in checks.values()):
        body["status"] = "degraded"
    return JsonResponse(body, status=503 if failing else 200)


async def _may_see_details(request: HttpRequest) -> bool:
    token = settings.HEALTH_TOKEN
    if token:
        presented = request.headers.get("X-Health-Token", "")
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            presented = presented or credentials.strip()
        # Constant-time: the comparison must not tell a caller how much of a guess was right.
        if presented and hmac.compare_digest(presented.encode(), token.encode()):
            return True
    if not hasattr(request, "auser") or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    try:
        # The session and the user are database reads: when the database is what is down, the
        # caller still gets the public answer, in time.
        user = await asyncio.wait_for(request.auser(), timeout=CHECK_TIMEOUT)
    except Exception:
        return False
    return bool(user.is_active and user.is_staff)


async def _read_counters() -> dict[str, Any]:
    """The read cache's hits and misses over every process (a detail: it tells how busy the app is).

    Shown whether or not the cache probe passed: with Redis down, this process's counters say how
    reads fared meanwhile.
    """
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(_POOL, read_stats.report), timeout=CHECK_TIMEOUT)
    except TimeoutError:
        return {"error": f"no answer within {CHECK_TIMEOUT:g} s"}
    except Exception as error:
        return {"error": _describe(error)}


def _public(report: dict[str, Any]) -> dict[str, Any]:
    """The state of a part and nothing about where or what it is."""
    public = {"ok": report["ok"]}
    if report.get("degraded"):
        public["degraded"] = True
    return public


async def _run(probe: Probe, target: Callable[[], str] | None) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    where = {"target": where} if target is not None and (where := target()) else {}
    try:
        extra = await asyncio.wait_for(loop.run_in_executor(_POOL, probe), timeout=CHECK_TIMEOUT)
    except TimeoutError:
        error = f"no answer within {CHECK_TIMEOUT:g} s"
        return {"ok": False, "ms": _ms_since(started), **where, "error": error}
    except Exception as error:
        return {"ok": False, "ms": _ms_since(started), **where, "error": _describe(error)}
    return {"ok": True, "ms": _ms_since(started), **where, **extra}


def _ping_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()


def _redis_host_url(host: Any) -> str:
    """channels_redis accepts a URL, a dict with `address`, or a (host, port) pair."""
    if isinstance(host, dict):
        host = host["address"]
    if isinstance(host, str):
        return host
    hostname, port = host
    return f"redis://{hostname}:{port}/0"


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
    urls = (
        settings.CACHE_REDIS_URL,
        settings.CHANNELS_REDIS_URL,
        settings.CELERY_BROKER_URL,
        settings.DATABASE_URL,
    )
    found = {urlsplit(url).password for url in urls if url}
    found.add(settings.DATABASES["default"].get("PASSWORD"))
    return {secret for secret in found if secret}
