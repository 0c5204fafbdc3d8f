"""The one home for database-engine differences (SQLite / PostgreSQL / MongoDB).

Everything else in the project calls `atomic()` and `after_commit()` from here and never asks
which engine it runs on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from django.db import connection, transaction


def is_mongodb() -> bool:
    return connection.vendor == "mongodb"


def atomic() -> AbstractContextManager[Any]:
    """A transaction on every engine that has one.

    On MongoDB `django.db.transaction.atomic` does nothing; multi-document transactions exist
    only on a replica set or sharded cluster, through the backend's own `atomic`. On a
    standalone server the block runs without a transaction (writes are single-document there).
    """
    if not is_mongodb():
        return transaction.atomic()
    if connection.features._supports_transactions:
        from django_mongodb_backend import transaction as mongo_transaction

        return mongo_transaction.atomic()
    return contextlib.nullcontext()


def after_commit(callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run `callback(*args, **kwargs)` once the surrounding transaction commits (at once if none).

    Side effects (cache, broadcast, jobs) go through here so a rolled-back write has none.
    """
    connection.on_commit(lambda: callback(*args, **kwargs), robust=True)
