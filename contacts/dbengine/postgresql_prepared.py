"""A fixed statement run on PostgreSQL as a server-side prepared statement, sent without waiting.

The activation engine's per-lead record (contacts/dbengine/activation_record.py) is one statement
of three data-modifying CTEs. Sent through Django's cursor, psycopg binds its parameters on the
client (quoting each value into the SQL text in Python) and the server parses and plans the whole
statement again for every lead. Prepared once per connection, each lead costs a Bind/Execute
with its values.

`start()` sends the statement and returns at once; `Sent.rows()` waits for the answer. The
engine builds the lead's e-mail in between, so the round trip to the database and the server's
work overlap with that CPU work instead of adding to it. Nothing else may use the connection in
between (psycopg would refuse: "another command is already in progress"); `rows()` must always
be called, also when the work in between failed, so the connection is left idle.

This goes below psycopg's cursor to its libpq wrapper (`PGconn`): send, then read the result when
asked. psycopg's own connection state needs no bookkeeping for that: it reads the transaction
status from libpq each time.
"""

from __future__ import annotations

import re
import select
import weakref
from typing import TYPE_CHECKING, Any

from psycopg import errors, pq

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")

# The names already prepared on each psycopg connection (a reconnect starts a new set).
_prepared: weakref.WeakKeyDictionary[Any, set[bytes]] = weakref.WeakKeyDictionary()


class Statement:
    """SQL with `%(name)s` placeholders, prepared under `name` on each connection that runs it."""

    def __init__(self, name: str, sql: str) -> None:
        self.name = name.encode()
        self.order: list[str] = []

        def numbered(found: re.Match[str]) -> str:
            if found.group(1) not in self.order:
                self.order.append(found.group(1))
            return f"${self.order.index(found.group(1)) + 1}"

        self.sql = _PLACEHOLDER.sub(numbered, sql).encode()

    def values(self, params: dict[str, Any]) -> list[bytes | None]:
        return [_text(params[name]) for name in self.order]


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text format (the server infers each parameter's type)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if hasattr(value, "isoformat"):
        return value.isoformat().encode()
    return str(value).encode()


Row = tuple[bytes | None, ...]


class Sent:
    """A statement on its way: `rows()` waits for its answer (values in PostgreSQL's text format)."""

    def __init__(self, db: BaseDatabaseWrapper, statement: Statement, values: list[bytes | None]) -> None:
        self.db, self.statement, self.values = db, statement, values
        self.pgconn = db.connection.pgconn
        with db.wrap_database_errors:
            _send(db, statement, values)

    def rows(self) -> list[Row]:
        with self.db.wrap_database_errors:
            try:
                return _read(self.pgconn)
            except errors.InvalidSqlStatementName:
                # Prepared statements vanish with `DISCARD ALL` (a pooler resetting the session).
                # Outside a transaction nothing else was lost: prepare it again and resend once.
                if self.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                    raise
                _prepared.pop(self.db.connection, None)
                _send(self.db, self.statement, self.values)
                return _read(self.pgconn)


def start(db: BaseDatabaseWrapper, statement: Statement, params: dict[str, Any]) -> Sent:
    """Send `statement` with `params` on `db`'s connection (preparing it there first if needed)."""
    db.ensure_connection()
    return Sent(db, statement, statement.values(params))


def _send(db: BaseDatabaseWrapper, statement: Statement, values: list[bytes | None]) -> None:
    raw = db.connection
    pgconn = raw.pgconn
    if not raw.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
        # Inside the caller's transaction (Django's atomic), which psycopg has not begun yet: it
        # begins it (with the connection's isolation level) before a statement of its own, and
        # libpq would otherwise run this one in a transaction of its own.
        raw.execute("SELECT 1")
    names = _prepared.setdefault(raw, set())
    if statement.name not in names:
        answer = pgconn.prepare(statement.name, statement.sql)
        if answer.status != pq.ExecStatus.COMMAND_OK:
            raise errors.error_from_result(answer, encoding=_encoding(pgconn))
        names.add(statement.name)
    pgconn.send_query_prepared(statement.name, values)  # raises psycopg's OperationalError


def _read(pgconn: pq.abc.PGconn) -> list[Row]:
    """The rows of the statement in flight; every result is read, also after an error."""
    rows: list[Row] = []
    failure: Exception | None = None
    for answer in _answers(pgconn):
        if answer.status == pq.ExecStatus.TUPLES_OK:
            rows += [
                tuple(answer.get_value(row, column) for column in range(answer.nfields))
                for row in range(answer.ntuples)
            ]
        elif answer.status != pq.ExecStatus.COMMAND_OK and failure is None:
            failure = errors.error_from_result(answer, encoding=_encoding(pgconn))
    if failure is not None:
        raise failure
    return rows


def _answers(pgconn: pq.abc.PGconn) -> Any:
    """Every result of the statement in flight, waiting for the socket (without holding the GIL)."""
    pgconn.consume_input()  # most often the answer is here already: no wait at all
    while True:
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        answer = pgconn.get_result()
        if answer is None:
            return
        yield answer


def _encoding(pgconn: pq.abc.PGconn) -> str:
    return (pgconn.parameter_status(b"client_encoding") or b"UTF8").decode()
