"""atomic() and after_commit() on the MongoDB engine, standalone and replica set (stand-in server)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from contacts.dbengine import after_commit, atomic, is_mongodb
from contacts.models import Workspace

pytestmark = pytest.mark.skipif(
    not is_mongodb(), reason="run with DATABASE_URL=mongodb://… (see docs/mongodb.md)"
)


def _write(name: str = "Acme") -> None:
    Workspace.objects.filter(slug="acme").update(name=name)


def _session_calls(recorder) -> list[str]:
    return [op.method for op in recorder.ops(collection="<session>")]


def test_standalone_server_runs_the_block_without_a_transaction(mongo):
    ran = []

    with atomic():
        _write()
        after_commit(ran.append, "callback")
        assert ran == ["callback"], "no transaction on a standalone server: callbacks run at once"

    assert _session_calls(mongo) == []
    assert mongo.ops("update_many")[0].session is None


def test_replica_set_runs_the_block_in_one_transaction(mongo_replica_set):
    ran = []

    with atomic():
        _write()
        with atomic():
            _write("Acme 2")
        after_commit(ran.append, "callback")
        assert ran == [], "callbacks wait for the commit"

    assert ran == ["callback"]
    assert _session_calls(mongo_replica_set) == [
        "start_session",
        "start_transaction",
        "commit_transaction",
        "end_session",
    ]
    updates = mongo_replica_set.ops("update_many")
    assert len(updates) == 2 and all(op.session is not None for op in updates)


def test_replica_set_rolls_back_and_drops_callbacks_when_the_block_fails(mongo_replica_set):
    ran = []

    with pytest.raises(RuntimeError), atomic():
        _write()
        after_commit(ran.append, "callback")
        raise RuntimeError("write failed")

    assert ran == []
    assert "abort_transaction" in _session_calls(mongo_replica_set)
    assert "commit_transaction" not in _session_calls(mongo_replica_set)
    assert connection.run_on_commit == []


def test_replica_set_commit_inside_djangos_atomic_runs_callbacks(mongo_replica_set):
    # The admin wraps its change forms in django.db.transaction.atomic(), a no-op on MongoDB.
    ran = []

    with transaction.atomic():
        with atomic():
            _write()
            after_commit(ran.append, "callback")
        assert ran == ["callback"], "MongoDB's commit is the real one"

    assert _session_calls(mongo_replica_set).count("commit_transaction") == 1
