"""The one home for database-engine differences (SQLite / PostgreSQL / MongoDB).

Everything else in the project calls `atomic()` and `after_commit()` from here and never asks
which engine it runs on. Layout (see docs/mongodb.md):

- `config.py`: `DATABASE_URL` → engine settings (pure; settings.py calls it).
- `apps.py`: contrib app configs with ObjectId primary keys, installed only on MongoDB.
- MongoDB-only schema bits belong here too, each a no-op elsewhere: a TTL index is an `Index`
  subclass overriding `get_pymongo_index_model()` (a plain index on SQL), and a text index is a
  `RunPython` operation that acts only when `is_mongodb(schema_editor.connection)`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet


def is_mongodb(conn: BaseDatabaseWrapper | None = None) -> bool:
    """Whether `conn` (by default the project's database) runs on the MongoDB engine."""
    return (conn or connection).vendor == "mongodb"


def atomic() -> AbstractContextManager[Any]:
    """A transaction on every engine that has one.

    On MongoDB `django.db.transaction.atomic` does nothing; multi-document transactions exist
    only on a replica set or sharded cluster, through the backend's own `atomic`. On a
    standalone server the block runs without a transaction (each write is atomic on its own
    document) and `after_commit` callbacks run as soon as they are registered.
    """
    if not is_mongodb():
        return transaction.atomic()
    if connection.features._supports_transactions:
        return _mongo_atomic()
    return contextlib.nullcontext()


@contextlib.contextmanager
def _mongo_atomic() -> Iterator[None]:
    from django_mongodb_backend import transaction as mongo_transaction

    outermost = not connection.in_atomic_block_mongo
    block = mongo_transaction.atomic()
    block.__enter__()
    try:
        yield
    except BaseException as error:
        block.__exit__(type(error), error, error.__traceback__)
        raise
    # Django's own `atomic()` is a no-op on MongoDB but still sets `in_atomic_block` (the admin
    # wraps every change form in one). The backend's commit then refuses to run on-commit
    # callbacks and raises TransactionManagementError after the data is already committed.
    # Only the MongoDB transaction is real, so its commit is the moment callbacks belong to.
    django_block = connection.in_atomic_block
    if outermost:
        connection.in_atomic_block = False
    try:
        block.__exit__(None, None, None)
    finally:
        connection.in_atomic_block = django_block


def lock_rows(queryset: QuerySet) -> None:
    """Lock the rows of `queryset`, in its order, until the surrounding transaction ends.

    For writers that must take many rows in the same order as another writer to avoid a
    deadlock. MongoDB has no row locks (and no deadlocks between single-document writes): there
    it does nothing.
    """
    if not is_mongodb():
        list(queryset.select_for_update().values_list("pk", flat=True))


def after_commit(callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run `callback(*args, **kwargs)` once the surrounding transaction commits (at once if none).

    Side effects (cache, broadcast, jobs) go through here so a rolled-back write has none. A
    callback that raises is logged (under its own name) and does not undo the committed write.
    """
    # A partial keeps the callback and its arguments inspectable; the wrapper attributes give
    # Django's "Error calling ... in on_commit()" log line the callback's own name.
    run = functools.update_wrapper(functools.partial(callback, *args, **kwargs), callback)
    if not hasattr(run, "__qualname__"):  # e.g. a mock: Django's error log needs a name
        run.__qualname__ = repr(callback)
    connection.on_commit(run, robust=True)
