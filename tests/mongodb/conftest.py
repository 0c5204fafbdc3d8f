"""Fixtures for the MongoDB checks in this folder.

The `check_*.py` modules run only under the MongoDB engine, in a subprocess started by
tests/test_engine_mongodb.py (or by hand: see docs/mongodb.md). Default collection skips them.
"""

from __future__ import annotations

import pytest

from tests.mongodb.standin import stand_in_server


@pytest.fixture
def mongo(django_db_blocker):
    """The database connection pointed at a stand-in standalone MongoDB 8.0; yields its recorder."""
    with django_db_blocker.unblock(), stand_in_server() as recorder:
        yield recorder


@pytest.fixture
def mongo_replica_set(django_db_blocker):
    """As `mongo`, but the server is a replica-set primary, so transactions exist."""
    with django_db_blocker.unblock(), stand_in_server(replica_set=True) as recorder:
        yield recorder
