"""contacts.dbengine.compiled_read: a hot read compiled once per connection answers exactly what
the ORM answers, in one query, on every engine the suite runs on."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from contacts import selectors
from contacts.dbengine import is_mongodb
from contacts.dbengine.compiled_read import CompiledRead
from contacts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from contacts.models import Membership, Role


def orm_memberships(user) -> list[Membership]:
    return list(Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name"))


def fields_of(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture
def user_of_three_workspaces(db):
    user = UserFactory()
    for name, role in (("Zeta", Role.VIEWER), ("Alpha", Role.OWNER), ("Mu", Role.MEMBER)):
        MembershipFactory(user=user, workspace=WorkspaceFactory(name=name), role=role)
    MembershipFactory(workspace=WorkspaceFactory(name="Not theirs"))
    return user


def test_memberships_are_the_orms_field_for_field_with_their_workspaces_in_one_query(
    user_of_three_workspaces,
):
    expected = orm_memberships(user_of_three_workspaces)

    with CaptureQueriesContext(connection) as queries:
        found = selectors.memberships_of(user_of_three_workspaces)
        names = [membership.workspace.name for membership in found]  # attached: no query

    assert len(queries) == 1
    assert names == ["Alpha", "Mu", "Zeta"]
    assert [fields_of(m) for m in found] == [fields_of(m) for m in expected]
    assert [fields_of(m.workspace) for m in found] == [fields_of(m.workspace) for m in expected]
    # Types too (SQLite stores UUIDs as text, booleans as integers): converters were applied.
    assert [type(value) for value in fields_of(found[0].workspace).values()] == [
        type(value) for value in fields_of(expected[0].workspace).values()
    ]
    assert all(not m._state.adding and m._state.db == "default" for m in found)


def test_a_user_without_workspaces_has_no_memberships(db):
    assert selectors.memberships_of(UserFactory()) == []


@pytest.mark.skipif(is_mongodb(), reason="MongoDB has no SQL: the ORM answers there")
def test_the_sql_is_compiled_once_per_connection_then_only_executed(user_of_three_workspaces, monkeypatch):
    read = CompiledRead(Membership, "workspace", lambda user_id: Membership.objects.filter(user_id=user_id))
    stranger = UserFactory()
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )

    first = read(user_of_three_workspaces.pk)
    again = read(user_of_three_workspaces.pk)
    other = read(stranger.pk)

    assert len(first) == len(again) == 3 and other == []
    assert len(compiled) == 1


@pytest.mark.skipif(is_mongodb(), reason="MongoDB has no SQL: the ORM answers there")
@pytest.mark.django_db(transaction=True)
def test_another_threads_connection_runs_the_sql_compiled_once(monkeypatch):
    # Under ASGI each request runs on a thread (and a connection) of its own: compiled once anyway.
    user = UserFactory()
    MembershipFactory(user=user)
    read = CompiledRead(Membership, "workspace", lambda user_id: Membership.objects.filter(user_id=user_id))
    read(user.pk)
    compiled, answers = [], []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )

    def in_another_thread():
        from django.db import connection as own

        answers.append([(m.pk, m.workspace.pk, type(m.workspace.pk)) for m in read(user.pk)])
        own.close()

    thread = threading.Thread(target=in_another_thread)
    thread.start()
    thread.join()

    expected = [(m.pk, m.workspace.pk, type(m.workspace.pk)) for m in orm_memberships(user)]
    assert answers == [expected] and compiled == [1]  # the one compile: orm_memberships above


def test_a_read_of_another_shape_goes_through_the_orm(user_of_three_workspaces):
    # Two parameters: not the one value this class substitutes. The answer is still the ORM's.
    read = CompiledRead(
        Membership,
        "workspace",
        lambda user_id: Membership.objects.filter(user_id=user_id).exclude(role="nobody"),
    )

    found = read(user_of_three_workspaces.pk)

    assert list(read._compiled.values()) == ([] if is_mongodb() else [None])
    assert sorted(m.workspace.name for m in found) == ["Alpha", "Mu", "Zeta"]
