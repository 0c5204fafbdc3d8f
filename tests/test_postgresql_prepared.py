"""A statement prepared on PostgreSQL and sent without waiting (contacts/dbengine/postgresql_prepared.py):
the activation engine's per-lead record travels while the lead's e-mail is built."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from contacts.dbengine import postgresql_prepared

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements"),
]

ECHO = postgresql_prepared.Statement(
    "contacts_test_echo",
    "SELECT %(number)s::int + 1, %(text)s::text, %(when)s::timestamptz, %(flag)s::bool, %(id)s::uuid, "
    "%(number)s::int",
)
VALUES = {
    "number": 41,
    "text": 'Zoë\'s "quotes"; DROP TABLE x; --',
    "when": datetime(2026, 12, 1, 10, 30, 15, 123456, tzinfo=UTC),
    "flag": True,
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
}


def test_values_reach_the_server_as_they_are_and_a_name_used_twice_is_one_parameter():
    rows = postgresql_prepared.start(connection, ECHO, VALUES).rows()

    assert rows == [
        (
            b"42",
            VALUES["text"].encode(),
            b"2026-12-01 10:30:15.123456+00",
            b"t",
            b"12345678-1234-5678-1234-567812345678",
            b"41",
        )
    ]
    assert ECHO.order == ["number", "text", "when", "flag", "id"]
    nothing = postgresql_prepared.start(connection, ECHO, dict.fromkeys(VALUES)).rows()
    assert nothing == [(None,) * 6]


def test_the_connection_serves_django_again_once_the_answer_is_read():
    sent = postgresql_prepared.start(connection, ECHO, VALUES)
    with (
        pytest.raises(DatabaseError, match="another command is already in progress"),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT 1")  # the statement's answer is still unread
    sent.rows()

    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)


def test_prepared_once_per_connection(django_assert_num_queries):
    postgresql_prepared.start(connection, ECHO, VALUES).rows()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [ECHO.name.decode()])
        assert cursor.fetchone() == (1,)
    postgresql_prepared.start(connection, ECHO, VALUES).rows()  # no "already exists" error

    connection.close()  # a new connection knows no prepared statement: prepared there again
    assert postgresql_prepared.start(connection, ECHO, VALUES).rows()[0][0] == b"42"


def test_a_statement_dropped_by_the_session_being_reset_is_prepared_again():
    postgresql_prepared.start(connection, ECHO, VALUES).rows()
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a connection pooler's DISCARD ALL does

    assert postgresql_prepared.start(connection, ECHO, VALUES).rows()[0][0] == b"42"


def test_an_error_is_djangos_error_and_leaves_the_connection_usable():
    failing = postgresql_prepared.Statement(
        "contacts_test_failing", "SELECT 1 / %(zero)s::int, %(value)s::int"
    )
    with pytest.raises(DatabaseError, match="division by zero"):
        postgresql_prepared.start(connection, failing, {"zero": 0, "value": 1}).rows()
    with pytest.raises(DatabaseError, match="invalid input syntax"):
        postgresql_prepared.start(connection, failing, {"zero": 1, "value": "x"}).rows()

    assert postgresql_prepared.start(connection, ECHO, VALUES).rows()[0][0] == b"42"


def test_inside_a_transaction_it_is_part_of_it(workspace):
    rename = postgresql_prepared.Statement(
        "contacts_test_rename", "UPDATE contacts_workspace SET name = %(name)s WHERE _id = %(id)s"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        postgresql_prepared.start(connection, rename, {"name": "Renamed", "id": workspace.pk}).rows()
        raise IntegrityError("rolled back")
    workspace.refresh_from_db()
    assert workspace.name == "Acme Sales"

    with transaction.atomic():
        postgresql_prepared.start(connection, rename, {"name": "Renamed", "id": workspace.pk}).rows()
    workspace.refresh_from_db()
    assert workspace.name == "Renamed"
