"""A stand-in MongoDB server for the compile check (docs/mongodb.md, "What runs without a server").

django-mongodb-backend compiles every queryset to an aggregation pipeline in Python and only
then hands it to PyMongo. `stand_in_server()` gives the real `DatabaseWrapper` a client that
answers like MongoDB 8.0 (standalone or replica set) and collections that record every
operation instead of sending it. Reads are answered from a small document store: pipelines made
only of `$match`/`$project`/`$addFields`/`$sort`/`$skip`/`$limit` with plain conditions are
evaluated against stored documents (enough for `get()`, `exists()`, foreign-key and uniqueness
validation); anything else answers with nothing unless a test queued an answer with `answer()`.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from tests.mongodb.evaluator import matches

SERVER_VERSION = (8, 0, 4, 0)
_EVALUATED_STAGES = {"$match", "$project", "$addFields", "$sort", "$skip", "$limit"}


@dataclass
class Operation:
    collection: str
    method: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    session: Any = None  # the client session it ran in (a transaction), if any

    @property
    def pipeline(self) -> list[dict]:
        assert self.method == "aggregate", f"{self} is not an aggregation"
        return self.args[0]

    def __str__(self) -> str:
        return f"db.{self.collection}.{self.method}{self.args!r}"


@dataclass
class _Result:
    inserted_id: Any = None
    inserted_ids: list = field(default_factory=list)
    matched_count: int = 0
    modified_count: int = 0
    deleted_count: int = 0
    acknowledged: bool = True


class _Cursor:
    """Enough of PyMongo's CommandCursor for the backend (iteration and `next()`)."""

    def __init__(self, documents: Iterable[dict]) -> None:
        self._documents = iter(list(documents))

    def __iter__(self) -> Iterator[dict]:
        return self._documents

    def __next__(self) -> dict:
        return next(self._documents)

    next = __next__

    def close(self) -> None:
        pass


def to_document(instance: Model) -> dict:
    """The document MongoDB holds for a saved model instance."""
    conn = connections[DEFAULT_DB_ALIAS]
    return {
        f.column: f.get_db_prep_save(getattr(instance, f.attname), conn)
        for f in instance._meta.concrete_fields
    }


class Recorder:
    """Every operation the backend sent, the documents it can read back, and queued answers."""

    def __init__(self, database_name: str) -> None:
        self.database_name = database_name
        self.operations: list[Operation] = []
        self.documents: dict[str, list[dict]] = defaultdict(list)
        self._answers: dict[str, deque[list[dict]]] = defaultdict(deque)

    # --- arranging -----------------------------------------------------------------------------
    def store(self, *instances: Model) -> None:
        """Make model instances readable, as if they had been saved."""
        for instance in instances:
            self.documents[instance._meta.db_table].append(to_document(instance))
            instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS

    def answer(self, collection: str, documents: list[dict]) -> None:
        """The next aggregation on `collection` returns `documents` (whatever its pipeline)."""
        self._answers[collection].append(documents)

    def forget(self) -> None:
        """Drop the operations recorded so far (arranging done; acting starts)."""
        self.operations.clear()

    # --- asserting -----------------------------------------------------------------------------
    def ops(self, method: str | None = None, collection: str | None = None) -> list[Operation]:
        return [
            op
            for op in self.operations
            if (method is None or op.method == method) and (collection is None or op.collection == collection)
        ]

    def pipelines(self, collection: str) -> list[list[dict]]:
        return [op.pipeline for op in self.ops("aggregate", collection)]

    def transcript(self) -> str:
        return "\n".join(str(op) for op in self.operations) or "(no operations)"

    # --- the server side -----------------------------------------------------------------------
    def collection(self, name: str) -> RecordingCollection:
        return RecordingCollection(self, name)

    def _aggregate(self, name: str, pipeline: list[dict]) -> list[dict]:
        if self._answers[name]:
            return self._answers[name].popleft()
        if not all(len(stage) == 1 and next(iter(stage)) in _EVALUATED_STAGES for stage in pipeline):
            return []
        found = list(self.documents[name])
        for stage in pipeline:
            (operator, argument), *_ = stage.items()
            if operator == "$match":
                found = [doc for doc in found if matches(doc, argument)]
            elif operator == "$skip":
                found = found[argument:]
            elif operator == "$limit":
                found = found[:argument]
        return [dict(doc) for doc in found]


class RecordingCollection:
    """Records each call; answers reads from the recorder's store and acknowledges writes."""

    def __init__(self, recorder: Recorder, name: str) -> None:
        self.recorder = recorder
        self.name = name

    def _record(self, method: str, *args: Any, **kwargs: Any) -> None:
        session = kwargs.pop("session", None)
        self.recorder.operations.append(Operation(self.name, method, args, kwargs, session))

    def _stored(self) -> list[dict]:
        return self.recorder.documents[self.name]

    def aggregate(self, pipeline: list[dict], *args: Any, **kwargs: Any) -> _Cursor:
        self._record("aggregate", pipeline, *args, **kwargs)
        return _Cursor(self.recorder._aggregate(self.name, pipeline))

    def find(self, filter: dict | None = None, *args: Any, **kwargs: Any) -> _Cursor:
        self._record("find", filter, *args, **kwargs)
        return _Cursor(doc for doc in self._stored() if matches(doc, filter or {}))

    def find_one(self, filter: dict | None = None, *args: Any, **kwargs: Any) -> dict | None:
        self._record("find_one", filter, *args, **kwargs)
        return next((dict(doc) for doc in self._stored() if matches(doc, filter or {})), None)

    def count_documents(self, filter: dict, *args: Any, **kwargs: Any) -> int:
        self._record("count_documents", filter, *args, **kwargs)
        return sum(1 for doc in self._stored() if matches(doc, filter))

    def insert_many(self, documents: list[dict], *args: Any, **kwargs: Any) -> _Result:
        documents = list(documents)
        self._record("insert_many", documents, *args, **kwargs)
        for document in documents:
            document.setdefault("_id", ObjectId())
            self._stored().append(dict(document))
        return _Result(inserted_ids=[document["_id"] for document in documents])

    def insert_one(self, document: dict, *args: Any, **kwargs: Any) -> _Result:
        result = self.insert_many([document], *args, **kwargs)
        self.recorder.operations[-1].method = "insert_one"
        return _Result(inserted_id=result.inserted_ids[0])

    def update_many(self, filter: dict, update: Any, *args: Any, **kwargs: Any) -> _Result:
        self._record("update_many", filter, update, *args, **kwargs)
        count = sum(1 for doc in self._stored() if matches(doc, filter))
        return _Result(matched_count=count, modified_count=count)

    def update_one(self, filter: dict, update: Any, *args: Any, **kwargs: Any) -> _Result:
        self._record("update_one", filter, update, *args, **kwargs)
        count = min(1, sum(1 for doc in self._stored() if matches(doc, filter)))
        return _Result(matched_count=count, modified_count=count)

    def delete_many(self, filter: dict, *args: Any, **kwargs: Any) -> _Result:
        self._record("delete_many", filter, *args, **kwargs)
        kept = [doc for doc in self._stored() if not matches(doc, filter)]
        deleted = len(self._stored()) - len(kept)
        self.recorder.documents[self.name] = kept
        return _Result(deleted_count=deleted)

    def create_index(self, keys: Any, *args: Any, **kwargs: Any) -> str:
        self._record("create_index", keys, *args, **kwargs)
        return kwargs.get("name", "index")

    def create_indexes(self, indexes: list, *args: Any, **kwargs: Any) -> list[str]:
        self._record("create_indexes", indexes, *args, **kwargs)
        return [getattr(index, "document", {}).get("name", "index") for index in indexes]

    def drop_index(self, name: Any, *args: Any, **kwargs: Any) -> None:
        self._record("drop_index", name, *args, **kwargs)

    def index_information(self, *args: Any, **kwargs: Any) -> dict:
        self._record("index_information", *args, **kwargs)
        return {"_id_": {"key": [("_id", 1)]}}

    def list_search_indexes(self, *args: Any, **kwargs: Any) -> list:
        from pymongo.errors import OperationFailure

        # Answer like a server without Atlas Search, so the backend never plans search indexes.
        raise OperationFailure("$listSearchIndexes stage is only allowed on MongoDB Atlas")

    def options(self) -> dict:
        return {}

    def drop(self, *args: Any, **kwargs: Any) -> None:
        self._record("drop", *args, **kwargs)
        self.recorder.documents.pop(self.name, None)

    def rename(self, new_name: str, *args: Any, **kwargs: Any) -> None:
        self._record("rename", new_name, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(
            f"The backend called {self.name}.{name}(), which the stand-in server does not know: "
            "teach tests/mongodb/standin.py what MongoDB would answer."
        )


class _Database:
    def __init__(self, recorder: Recorder, client: StandInClient, name: str) -> None:
        self.recorder, self.client, self.name = recorder, client, name

    def __getitem__(self, name: str) -> RecordingCollection:
        return self.recorder.collection(name)

    get_collection = __getitem__

    def __getattr__(self, name: str) -> RecordingCollection:
        # Like PyMongo, `database.<name>` is the collection of that name.
        if name.startswith("_"):
            raise AttributeError(name)
        return self.recorder.collection(name)

    def list_collections(self, *args: Any, **kwargs: Any) -> list[dict]:
        return [{"name": name} for name in sorted(self.recorder.documents)]

    def list_collection_names(self, *args: Any, **kwargs: Any) -> list[str]:
        return sorted(self.recorder.documents)

    def create_collection(self, name: str, *args: Any, **kwargs: Any) -> RecordingCollection:
        self.recorder.operations.append(Operation(name, "create_collection", args, kwargs))
        self.recorder.documents.setdefault(name, [])
        return self.recorder.collection(name)

    def drop_collection(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.recorder.operations.append(Operation(name, "drop_collection", args, kwargs))
        self.recorder.documents.pop(name, None)

    def command(self, command: Any, *args: Any, **kwargs: Any) -> dict:
        name = command if isinstance(command, str) else next(iter(command))
        if name in {"hello", "isMaster", "ismaster"}:
            return self.client.hello()
        if name == "buildinfo" or name == "buildInfo":
            return self.client.server_info()
        self.recorder.operations.append(Operation(self.name, f"command:{name}", (command, *args), kwargs))
        return {"ok": 1.0}


class StandInSession:
    """A client session; records the transaction calls the backend makes."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def _record(self, method: str) -> None:
        self.recorder.operations.append(Operation("<session>", method, ()))

    def start_transaction(self, *args: Any, **kwargs: Any) -> None:
        self._record("start_transaction")

    def commit_transaction(self) -> None:
        self._record("commit_transaction")

    def abort_transaction(self) -> None:
        self._record("abort_transaction")

    def end_session(self) -> None:
        self._record("end_session")


class StandInClient:
    """Answers like a MongoDB 8.0 standalone server or replica-set primary."""

    def __init__(self, recorder: Recorder, *, replica_set: bool) -> None:
        self.recorder = recorder
        self.replica_set = replica_set
        self.admin = _Database(recorder, self, "admin")

    def server_info(self) -> dict:
        return {
            "version": ".".join(map(str, SERVER_VERSION[:3])),
            "versionArray": list(SERVER_VERSION),
            "ok": 1.0,
        }

    def hello(self) -> dict:
        answer = {"isWritablePrimary": True, "maxWireVersion": 25, "ok": 1.0}
        if self.replica_set:
            answer.update(setName="rs0", hosts=["localhost:27017"], primary="localhost:27017")
        return answer

    def __getitem__(self, name: str) -> _Database:
        return _Database(self.recorder, self, name)

    get_database = __getitem__

    def start_session(self, *args: Any, **kwargs: Any) -> StandInSession:
        self.recorder.operations.append(Operation("<session>", "start_session", ()))
        return StandInSession(self.recorder)

    def close(self) -> None:
        pass


# Cached per connection: each stand-in must be asked afresh.
_CACHED_FEATURES = ("_supports_transactions", "is_mongodb_6_3", "supports_atlas_search")


def _reset(conn: Any) -> None:
    for name in ("get_new_connection", "get_collection", "get_database", "database"):
        conn.__dict__.pop(name, None)
    for name in _CACHED_FEATURES:
        conn.features.__dict__.pop(name, None)
    conn.connection = None
    conn.session = None
    conn.in_atomic_block_mongo = False
    conn.nested_atomics = 0
    conn.run_on_commit = []


@contextlib.contextmanager
def stand_in_server(*, replica_set: bool = False, alias: str = DEFAULT_DB_ALIAS) -> Iterator[Recorder]:
    """Point the MongoDB connection `alias` at a stand-in server for the duration of the block."""
    conn = connections[alias]
    if conn.vendor != "mongodb":
        raise RuntimeError(f"The stand-in server needs the MongoDB engine; {alias!r} is {conn.vendor}.")
    recorder = Recorder(conn.settings_dict["NAME"])
    client = StandInClient(recorder, replica_set=replica_set)
    _reset(conn)
    # Instance attributes shadow the class's methods; `_reset` removes them again.
    conn.get_new_connection = lambda params: client
    conn.get_collection = lambda name, **kwargs: recorder.collection(name)
    conn.get_database = lambda: client[conn.settings_dict["NAME"]]
    try:
        conn.connect()
        yield recorder
    finally:
        _reset(conn)
