"""contactsite/asgi_handler.py: under ASGI (Daphne) a request crosses from the event loop to a
thread once for the whole middleware chain and view, not at every sync/async border."""

from __future__ import annotations

import asyncio

from asgiref.sync import SyncToAsync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler

from contactsite.asgi_handler import SyncChainASGIHandler
from tests.servers import run_async_value


def http_scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def get(application, path: str, monkeypatch) -> tuple[int, dict, bytes, int]:
    """Status, headers, body and how many times the request went from the loop to a thread."""
    hops = []
    original = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        hops.append(self.func)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)

    async def exchange():
        communicator = ApplicationCommunicator(application, http_scope(path))
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(5)
        body = b""
        while True:
            message = await communicator.receive_output(5)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await communicator.wait(5)
        return start["status"], dict(start["headers"]), body

    status, headers, body = run_async_value(exchange)
    monkeypatch.undo()
    return status, headers, body, len(hops)


def test_the_chain_is_built_for_synchronous_code(db):
    handler = SyncChainASGIHandler()

    assert not asyncio.iscoroutinefunction(handler._middleware_chain)


def test_a_request_crosses_to_a_thread_a_few_times_instead_of_a_dozen(db, monkeypatch):
    status, headers, body, hops = get(SyncChainASGIHandler(), "/accounts/login/", monkeypatch)
    *_, djangos_hops = get(ASGIHandler(), "/accounts/login/", monkeypatch)

    assert status == 200 and b"<form" in body
    # The middleware ran: the security headers and Server-Timing are there.
    assert b"server-timing" in {name.lower() for name in headers}
    assert b"x-content-type-options" in {name.lower() for name in headers}
    # The chain and view (one), the request_started and request_finished signals' receivers, closing.
    assert hops <= 3 < djangos_hops, (hops, djangos_hops)


def test_an_error_page_still_comes_back_from_the_chain(db, monkeypatch):
    status, _, body, _ = get(SyncChainASGIHandler(), "/no/such/page/", monkeypatch)

    assert status == 404 and body
