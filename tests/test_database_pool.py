"""A PostgreSQL connection pool (DATABASE_POOL_SIZE, contacts/dbengine/config.py): under an ASGI
server each request runs in a thread of its own, and only a pool lets the next request reuse the
connection the previous one opened."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

from contacts.dbengine.config import engine_settings

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connection pool"),
]


def backend_of_a_request(handler: ConnectionHandler) -> int:
    """What one request's thread does: use the database, then close at the request's end."""
    found: list[int] = []

    def request() -> None:
        db = handler["pooled"]
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            found.append(cursor.fetchone()[0])
        db.close()  # Django's request_finished: back to the pool, or closed without one

    thread = threading.Thread(target=request)
    thread.start()
    thread.join()
    assert found, "the request's thread failed (see the warning above)"
    return found[0]


@pytest.mark.parametrize("pool_size", [0, 2])
def test_requests_in_threads_of_their_own_share_connections_only_through_the_pool(pool_size):
    test_database = connection.settings_dict
    configured = engine_settings(
        f"postgres://{test_database['USER']}@{test_database['HOST']}:{test_database['PORT']}/"
        f"{test_database['NAME']}",
        pool_size=pool_size,
    ).database
    handler = ConnectionHandler(
        {"default": test_database, "pooled": {**test_database, **configured, "TEST": test_database["TEST"]}}
    )
    try:
        backends = {backend_of_a_request(handler) for _ in range(6)}
    finally:
        if pool_size:
            handler["pooled"].close_pool()

    # Without a pool every request had a server process of its own; with one, at most the pool's.
    assert len(backends) <= pool_size if pool_size else len(backends) == 6


def test_a_pooled_connection_that_died_is_replaced_not_handed_to_a_request():
    """A database restart (or failover) kills the idle connections in the pool."""
    test_database = connection.settings_dict
    configured = engine_settings(
        f"postgres://{test_database['USER']}@{test_database['HOST']}:{test_database['PORT']}/"
        f"{test_database['NAME']}",
        pool_size=1,
    ).database
    handler = ConnectionHandler(
        {"default": test_database, "pooled": {**test_database, **configured, "TEST": test_database["TEST"]}}
    )
    try:
        killed = backend_of_a_request(handler)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [killed])

        assert backend_of_a_request(handler) != killed  # and no error
    finally:
        handler["pooled"].close_pool()
