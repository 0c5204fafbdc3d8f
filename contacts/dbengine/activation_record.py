"""The per-lead record of an activation run (contacts/jobs/activation.py): one short write per lead.

For each lead the engine records, in one transaction, the previous lead `sent` (its e-mail was
accepted), the contact `active` (only if it is still a lead) and this lead's item `sending`; or,
if the contact is no longer a lead, the item `failed`. That record is the run's critical path, so
on the SQL engines it is fixed SQL rather than three ORM updates (building and compiling a
queryset costs about 1.1 ms of CPU on PostgreSQL, its statement 0.2 ms):

- PostgreSQL: one statement (data-modifying CTEs), prepared once per connection: one round trip,
  one transaction. `start_take_lead` sends it and returns, so the engine builds the lead's e-mail
  while the database works (contacts/dbengine/postgresql_prepared.py);
- SQLite: up to three statements in one transaction on the driver's own connection, in process;
- MongoDB: the ORM, as before (no SQL there), in `atomic()`.

These commits do not wait for the disk: `synchronous_commit = off` for that transaction only on
PostgreSQL, `synchronous=NORMAL` for that commit only on SQLite in WAL mode. A killed worker
loses nothing (the database has the commit). A crash of the database server or its machine can
lose the records since the last durable commit: the engine's progress write is a normal commit
every 50 leads or 250 ms, which makes every record before it durable, and PostgreSQL's WAL writer
flushes within ~0.6 s anyway. Those leads are then e-mailed again when the run resumes (same
Message-ID); none is skipped, as a crash only loses the latest commits, in order.

Table and column names come from the models' `_meta`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import F
from django.utils import timezone

from contacts.dbengine import atomic, is_mongodb, postgresql_prepared

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from contacts.jobs.models import ActivationItem


def record_sent(item_id: UUID) -> None:
    """Item `item_id`, whose e-mail the mail server accepted, becomes `sent`."""
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup per attribute
    if is_mongodb(db):
        _orm_record_sent(item_id)
    elif db.vendor == "postgresql":
        _postgresql(db, sent_id=item_id, item=None, email="", activate=False, not_a_lead="").rows()
    else:
        with _sqlite_transaction(db) as cursor:
            _sqlite_record_sent(db, cursor, item_id, timezone.now())


def take_lead(
    item: ActivationItem, email: str, *, activate: bool, sent_id: UUID | None, not_a_lead: str
) -> bool:
    """Record item `sent_id` (if any) `sent` and take `item`, all in one transaction.

    With `activate`, the item's contact becomes active only if it is still a lead; if it is not,
    the item fails with `not_a_lead` as its error and False is returned (do not e-mail it).
    Otherwise the item becomes `sending` to `email`, one more attempt, and True is returned.
    Without `activate` (a resumed item, whose contact this run already activated) it just
    becomes `sending` again.
    """
    return start_take_lead(item, email, activate=activate, sent_id=sent_id, not_a_lead=not_a_lead).taken()


class Taking:
    """A `take_lead` under way. On PostgreSQL the statement travels while the caller works (it must
    not use the database meanwhile); elsewhere it is done already. `taken()` must always be called."""

    def __init__(self, outcome: bool = False, sent: postgresql_prepared.Sent | None = None) -> None:
        self.outcome = outcome
        self.sent = sent

    def taken(self) -> bool:
        if self.sent is not None:
            sent, self.sent = self.sent, None
            self.outcome = sent.rows()[0][1] == b"t"
        return self.outcome


def start_take_lead(
    item: ActivationItem, email: str, *, activate: bool, sent_id: UUID | None, not_a_lead: str
) -> Taking:
    """`take_lead`, whose answer `Taking.taken()` waits for: the caller may build the lead's e-mail
    meanwhile, overlapping that work with the database's on PostgreSQL."""
    db = connections[DEFAULT_DB_ALIAS]
    if is_mongodb(db):
        return Taking(_orm_take_lead(item, email, activate=activate, sent_id=sent_id, not_a_lead=not_a_lead))
    if db.vendor == "postgresql":
        return Taking(
            sent=_postgresql(
                db, sent_id=sent_id, item=item, email=email, activate=activate, not_a_lead=not_a_lead
            )
        )
    return Taking(
        _sqlite_take_lead(db, item, email, activate=activate, sent_id=sent_id, not_a_lead=not_a_lead)
    )


# --- names and values --------------------------------------------------------------------------------


@functools.cache
def _names() -> dict[str, str]:
    """Quoted table and column names for the SQL below, from the models' `_meta`."""
    from contacts.jobs.models import ActivationItem
    from contacts.models import Contact

    quote = connection.ops.quote_name
    names = {"items": quote(ActivationItem._meta.db_table), "contacts": quote(Contact._meta.db_table)}
    for prefix, model, fields in (
        ("i", ActivationItem, ("id", "status", "sent_at", "error", "attempts", "email")),
        ("c", Contact, ("id", "status", "version", "updated_at")),
    ):
        names.update({f"{prefix}_{name}": quote(model._meta.get_field(name).column) for name in fields})
    return names


def _db_value(db: BaseDatabaseWrapper, field: Any, value: Any) -> Any:
    """`value` as the engine stores it: on SQLite a UUID as 32 hex digits, a datetime as UTC text."""
    return field.get_db_prep_value(value, db)


@functools.cache
def _fields() -> tuple[Any, Any, Any]:
    """The fields whose values need converting: item id, contact id, and a datetime (both alike)."""
    from contacts.jobs.models import ActivationItem
    from contacts.models import Contact

    return ActivationItem._meta.pk, Contact._meta.pk, ActivationItem._meta.get_field("sent_at")


@functools.cache
def _statuses() -> dict[str, str]:
    from contacts.jobs.models import ItemStatus
    from contacts.models import ContactStatus

    return {
        "sent": ItemStatus.SENT.value,
        "sending": ItemStatus.SENDING.value,
        "failed": ItemStatus.FAILED.value,
        "lead": ContactStatus.LEAD.value,
        "active": ContactStatus.ACTIVE.value,
    }


# --- PostgreSQL: one statement -----------------------------------------------------------------------


@functools.cache
def _postgresql_statement(async_commit: bool) -> postgresql_prepared.Statement:
    # Data-modifying CTEs run once and to completion, whatever the outer query reads. Rows are
    # locked in the order `items_finished` (a cancel) locks a run's items, by position: the item
    # just sent before the next one. `taken`'s condition on `sent` is a one-time filter, evaluated
    # before its scan reaches the next item; the contact is locked in between, as the ORM does.
    sync = "set_config('synchronous_commit', 'off', true)" if async_commit else "NULL"
    sql = """
        WITH sent AS (
            UPDATE {items} SET {i_status} = %(sent)s, {i_sent_at} = %(now)s, {i_error} = ''
            WHERE {i_id} = %(sent_id)s
            RETURNING 1
        ), activated AS (
            UPDATE {contacts} SET {c_status} = %(active)s, {c_version} = {c_version} + 1,
                {c_updated_at} = %(now)s
            WHERE {c_id} = %(contact_id)s AND {c_status} = %(lead)s AND %(activate)s
                AND (SELECT count(*) FROM sent) >= 0
            RETURNING 1
        ), outcome AS MATERIALIZED (  -- once, not inlined into each CASE: cheaper to plan and run
            SELECT NOT %(activate)s OR EXISTS (SELECT FROM activated) AS ok
        ), taken AS (
            UPDATE {items} SET
                {i_status} = CASE WHEN ok THEN %(sending)s ELSE %(failed)s END,
                {i_attempts} = CASE WHEN ok THEN {i_attempts} + 1 ELSE {i_attempts} END,
                {i_email} = CASE WHEN ok THEN %(email)s ELSE {i_email} END,
                {i_error} = CASE WHEN ok THEN {i_error} ELSE %(not_a_lead)s END
            FROM outcome
            WHERE {i_id} = %(item_id)s AND (SELECT count(*) FROM sent) >= 0
            RETURNING ok
        )
        SELECT {sync}, (SELECT ok FROM taken)
    """.format(sync=sync, **_names())
    return postgresql_prepared.Statement(f"contacts_take_lead_{'async' if async_commit else 'sync'}", sql)


def _postgresql(
    db: BaseDatabaseWrapper,
    *,
    sent_id: UUID | None,
    item: ActivationItem | None,
    email: str,
    activate: bool,
    not_a_lead: str,
) -> postgresql_prepared.Sent:
    # Asynchronous commit only when the statement is its own transaction: inside someone's
    # atomic() block `set_config(..., true)` would relax that whole transaction's commit.
    async_commit = db.get_autocommit()
    params = {
        **_statuses(),
        "now": timezone.now(),
        "sent_id": sent_id,
        "item_id": item.pk if item else None,
        "contact_id": item.contact_id if item else None,
        "activate": activate,
        "email": email,
        "not_a_lead": not_a_lead,
    }
    return postgresql_prepared.start(db, _postgresql_statement(async_commit), params)


# --- SQLite: a few statements in one transaction -----------------------------------------------------


@functools.cache
def _sqlite_sql() -> dict[str, str]:
    # The driver's own placeholders: these run on its connection (see _sqlite_transaction).
    statements = {
        "sent": "UPDATE {items} SET {i_status} = ?, {i_sent_at} = ?, {i_error} = '' WHERE {i_id} = ?",
        "activate": "UPDATE {contacts} SET {c_status} = ?, {c_version} = {c_version} + 1, "
        "{c_updated_at} = ? WHERE {c_id} = ? AND {c_status} = ?",
        "sending": "UPDATE {items} SET {i_status} = ?, {i_attempts} = {i_attempts} + 1, {i_email} = ? "
        "WHERE {i_id} = ?",
        "failed": "UPDATE {items} SET {i_status} = ?, {i_error} = ? WHERE {i_id} = ?",
    }
    return {key: sql.format(**_names()) for key, sql in statements.items()}


@contextlib.contextmanager
def _sqlite_transaction(db: BaseDatabaseWrapper) -> Iterator[Any]:
    """A transaction (a savepoint inside the caller's) on the driver's connection; its cursor.

    Django's cursor wrapper (placeholder rewriting, wrappers, its own transaction bookkeeping)
    costs more than these in-process statements: 0.3 ms of CPU per lead against 0.1 ms this way.
    The price: they do not appear in `connection.queries` or reach `execute_wrapper`s.

    A transaction of its own also skips waiting for the disk at commit: `synchronous=NORMAL` for
    that commit only, SQLite's `SET LOCAL synchronous_commit = off` (a process crash loses
    nothing, a power or OS failure may lose the last commits, never corrupts). Only in WAL mode
    (config.py): with a rollback journal NORMAL risks corruption, so the level stays. SQLite
    cannot change the level inside a transaction, so nor does it inside the caller's.
    """
    db.ensure_connection()
    own = db.get_autocommit()
    with db.wrap_database_errors:
        cursor = db.connection.cursor()
        journal_mode, level = _sqlite_modes(db, cursor)
        relax = own and journal_mode == "wal" and level > 1
        if relax:
            cursor.execute("PRAGMA synchronous = NORMAL")
        # IMMEDIATE (config.py): the write lock is taken at BEGIN, so the transaction waits for it
        # (the busy timeout) instead of failing later.
        cursor.execute(f"BEGIN {db.transaction_mode or ''}" if own else "SAVEPOINT activation_record")
        try:
            yield cursor
            cursor.execute("COMMIT" if own else "RELEASE activation_record")
        except BaseException:
            if db.connection.in_transaction:  # SQLite ends it by itself after some errors
                cursor.execute("ROLLBACK" if own else "ROLLBACK TO activation_record")
                if not own:
                    cursor.execute("RELEASE activation_record")
            raise
        finally:
            if relax:
                cursor.execute(f"PRAGMA synchronous = {int(level)}")
            cursor.close()


def _sqlite_modes(db: BaseDatabaseWrapper, cursor: Any) -> tuple[str, int]:
    """The connection's journal mode and `synchronous` level, read once per connection (reading
    them took a third of the record's time). The record leaves both as it found them."""
    known = getattr(db, "_activation_record_modes", None)
    if known is None or known[0] is not db.connection:
        cursor.execute("SELECT journal_mode, synchronous FROM pragma_journal_mode, pragma_synchronous")
        known = (db.connection, *cursor.fetchone())
        db._activation_record_modes = known
    return known[1], known[2]


def _sqlite_record_sent(db: BaseDatabaseWrapper, cursor: Any, item_id: UUID, now: Any) -> None:
    item_pk, _, datetime = _fields()
    sent, item_id = _db_value(db, datetime, now), _db_value(db, item_pk, item_id)
    cursor.execute(_sqlite_sql()["sent"], (_statuses()["sent"], sent, item_id))


def _sqlite_take_lead(
    db: BaseDatabaseWrapper,
    item: ActivationItem,
    email: str,
    *,
    activate: bool,
    sent_id: UUID | None,
    not_a_lead: str,
) -> bool:
    sql, status = _sqlite_sql(), _statuses()
    item_pk, contact_pk, datetime = _fields()
    now, item_id = timezone.now(), _db_value(db, item_pk, item.pk)
    with _sqlite_transaction(db) as cursor:
        if sent_id is not None:
            _sqlite_record_sent(db, cursor, sent_id, now)
        if activate:
            contact_id, updated_at = _db_value(db, contact_pk, item.contact_id), _db_value(db, datetime, now)
            cursor.execute(sql["activate"], (status["active"], updated_at, contact_id, status["lead"]))
            if cursor.rowcount != 1:
                cursor.execute(sql["failed"], (status["failed"], not_a_lead, item_id))
                return False
        cursor.execute(sql["sending"], (status["sending"], email, item_id))
    return True


# --- MongoDB: the ORM --------------------------------------------------------------------------------


def _orm_record_sent(item_id: UUID) -> None:
    from contacts.jobs.models import ActivationItem, ItemStatus

    ActivationItem.objects.filter(pk=item_id).update(status=ItemStatus.SENT, sent_at=timezone.now(), error="")


def _orm_take_lead(
    item: ActivationItem, email: str, *, activate: bool, sent_id: UUID | None, not_a_lead: str
) -> bool:
    from contacts.jobs.models import ActivationItem, ItemStatus
    from contacts.models import Contact, ContactStatus

    with atomic():
        if sent_id is not None:
            _orm_record_sent(sent_id)
        if activate:
            became_active = Contact.objects.filter(pk=item.contact_id, status=ContactStatus.LEAD).update(
                status=ContactStatus.ACTIVE, version=F("version") + 1, updated_at=timezone.now()
            )
            if not became_active:
                ActivationItem.objects.filter(pk=item.pk).update(status=ItemStatus.FAILED, error=not_a_lead)
                return False
        ActivationItem.objects.filter(pk=item.pk).update(
            status=ItemStatus.SENDING, attempts=F("attempts") + 1, email=email
        )
    return True
