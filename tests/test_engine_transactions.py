"""atomic() and after_commit(): side effects only for committed writes.

Real commits are needed, hence transactional tests. They run on every engine with transactions
(SQL, a MongoDB replica set); tests/mongodb/check_transactions.py checks the MongoDB side
without a server.
"""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from contacts import events, services
from contacts.dbengine import after_commit, atomic, is_mongodb
from contacts.models import Contact, Workspace
from contacts.services import ContactData
from contacts.services import contacts as contact_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _needs_transactions(transactional_db):
    if is_mongodb() and not connection.features._supports_transactions:
        pytest.skip(
            "a standalone MongoDB server has no transactions: run against a replica set (docs/mongodb.md)"
        )


def test_after_commit_waits_for_the_outermost_commit():
    ran = []

    with atomic():
        Workspace.objects.create(name="Acme", slug="acme")
        with atomic():
            after_commit(ran.append, "inner")
        assert ran == [], "the inner block's end is not a commit"

    assert ran == ["inner"]


def test_after_commit_is_dropped_when_the_block_rolls_back():
    ran = []

    with pytest.raises(RuntimeError), atomic():
        Workspace.objects.create(name="Acme", slug="acme")
        after_commit(ran.append, "never")
        raise RuntimeError("the write failed")

    assert ran == []
    assert not Workspace.objects.exists()


def test_after_commit_runs_at_once_outside_a_transaction():
    ran = []

    after_commit(ran.append, "now")

    assert ran == ["now"]


def test_after_commit_passes_arguments():
    calls = []

    with atomic():
        after_commit(lambda *args, **kwargs: calls.append((args, kwargs)), 1, 2, kind="x")

    assert calls == [((1, 2), {"kind": "x"})]


def test_a_failing_callback_is_logged_by_name_and_the_write_stays(caplog):
    def broadcast_change():
        raise ConnectionError("Redis is down")

    with caplog.at_level(logging.ERROR), atomic():
        Workspace.objects.create(name="Acme", slug="acme")
        after_commit(broadcast_change)

    assert Workspace.objects.filter(slug="acme").exists()
    assert "broadcast_change" in caplog.text and "Redis is down" in caplog.text


def test_a_contact_write_announces_itself_once_committed(member, workspace, monkeypatch):
    sent = []
    monkeypatch.setattr(events, "contact_changed", lambda **kwargs: sent.append(kwargs))

    contact = services.contact_create(workspace=workspace, by=member, data=ContactData(first_name="Ann"))

    assert [(event["kind"], event["contact_id"]) for event in sent] == [
        (events.ChangeKind.CREATED, contact.id)
    ]
    assert sent[0]["version"] == Workspace.objects.get(pk=workspace.pk).change_version


def test_a_contact_write_that_fails_announces_nothing(member, workspace, monkeypatch):
    sent = []
    monkeypatch.setattr(events, "contact_changed", lambda **kwargs: sent.append(kwargs))

    def broken_tag_write(contact, *, add, remove):
        raise RuntimeError("the tag write failed")

    monkeypatch.setattr(contact_services, "_contact_tags_change", broken_tag_write)

    with pytest.raises(RuntimeError):
        services.contact_create(
            workspace=workspace, by=member, data=ContactData(first_name="Ann", tags=["vip"])
        )

    assert sent == []
    assert not Contact.objects.exists(), "the contact saved before the failure is rolled back"
