"""Django's ASGI handler with the middleware run as under WSGI: one thread switch per request.

Django builds its ASGI middleware chain in async mode. Our chain holds synchronous middleware
(WhiteNoise and two of our own), so Django adapts at each border: the request goes to a worker
thread for the synchronous middleware, back to the event loop for the async-capable ones, and to
the thread again for each of their `process_request`, `process_view` and `process_response`
hooks and for the view: about a dozen switches per request, each a wake-up of the event loop and
of the thread (measured under Daphne: more CPU than the list page's own work). Here the chain is
built for synchronous code, as for WSGI, and the whole of it runs in one call on the thread that
Django uses for synchronous code anyway (`thread_sensitive=True`); an `async def` view, if one is
ever added, still works (Django runs it with `async_to_sync` in a synchronous chain).
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
