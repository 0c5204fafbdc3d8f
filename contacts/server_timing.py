"""`Server-Timing` on every response: database queries, the read cache's outcome, the whole request.

    Server-Timing: db;dur=3.1;desc="4 queries", cache;dur=0.4;desc="hit", total;dur=12.7

`db` counts every SQL statement the request ran, on every database alias, and their time; that
includes what the middleware below this one does (sessions, authentication) and savepoints, but
not BEGIN/COMMIT/ROLLBACK of atomic blocks (Django runs those outside the cursor, where
`execute_wrapper` does not see them). An engine whose queries bypass the cursor (MongoDB) is left
out, and with no such alias at all the `db` metric is omitted rather than reported as 0.
`cache` is present when the request's main read went through the read cache (contacts/cache.py);
its `dur` is the time spent in cached reads, so a miss includes the queries it ran (also in `db`).
Queries run while a streaming response is being sent come after the header and are not counted.

The middleware is sync only on purpose: under ASGI, Django then runs it, the middleware below it
and a sync view in one thread, so the wrappers it installs on that thread's connections see the
view's queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.core.signals import request_finished
from django.db import connections
from django.http import HttpRequest, HttpResponseBase

from contacts import read_stats
from contacts.cache import start_report

# Vendors whose queries never pass through a cursor's execute(), so a wrapper would count none.
_UNWRAPPABLE_VENDORS = {"mongodb"}


class QueryTimer:
    """An `execute_wrapper`: counts statements and adds up their time (failed ones too)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


class ServerTimingMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        # The shared counters are flushed once the response is closed (sent, under ASGI), so the
        # occasional Redis round trip never delays a response.
        request_finished.connect(_flush_read_stats, dispatch_uid="contacts.server_timing.flush")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        report = start_report()
        queries = QueryTimer()
        measured = False
        with ExitStack() as wrappers:
            for connection in connections.all():
                if connection.vendor not in _UNWRAPPABLE_VENDORS:
                    wrappers.enter_context(connection.execute_wrapper(queries))
                    measured = True
            response = self.get_response(request)
        metrics = []
        if measured:
            metrics.append(f'db;dur={_ms(queries.seconds)};desc="{queries.count} queries"')
        if report.main in {"hit", "miss"}:
            metrics.append(f'cache;dur={_ms(report.seconds)};desc="{report.main}"')
        metrics.append(f"total;dur={_ms(time.perf_counter() - started)}")
        timing = ", ".join(metrics)
        # A view's own metrics (if any) come first; ours are added, not substituted.
        existing = response.headers.get("Server-Timing")
        response.headers["Server-Timing"] = f"{existing}, {timing}" if existing else timing
        return response


def _flush_read_stats(sender: Any, **kwargs: Any) -> None:
    read_stats.maybe_flush()
