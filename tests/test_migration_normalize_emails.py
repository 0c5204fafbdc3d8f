"""contacts/migrations/0003_normalize_emails.py: old rows get the stored spelling; clashes are reported."""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from contacts.factories import ContactFactory
from contacts.models import Contact

migration = importlib.import_module("contacts.migrations.0003_normalize_emails")

STORED = "ann@xn--exmple-cua.com"


def stored_as(contact: Contact, email: str | None, *, minutes_ago: int) -> Contact:
    """Write `email` as an old version of the product might have, bypassing `save()`."""
    created = timezone.now() - timedelta(minutes=minutes_ago)
    Contact.objects.filter(pk=contact.pk).update(email=email, created_at=created)
    return contact


def run_migration() -> None:
    migration.normalize_emails(apps, SimpleNamespace(connection=connection))


def email_of(contact: Contact) -> str | None:
    return Contact.objects.get(pk=contact.pk).email


@pytest.fixture
def rows(workspace, other_workspace):
    def new(ws, email, minutes_ago):
        return stored_as(ContactFactory(workspace=ws, email=None), email, minutes_ago=minutes_ago)

    return SimpleNamespace(
        nfd=new(workspace, "ann@exa\u0308mple.com", 50),
        nfc_later=new(workspace, "ann@exämple.com", 40),
        upper=new(workspace, "Bob@Example.COM", 30),
        already_normal=new(workspace, "carl@example.com", 20),
        blank=new(workspace, "   ", 10),
        dora_old_spelling=new(workspace, "DORA@example.com", 60),
        dora_normal_newer=new(workspace, "dora@example.com", 5),
        elsewhere=new(other_workspace, "ann@exämple.com", 45),
        without_email=new(other_workspace, None, 1),
    )


def test_the_migration_normalises_every_email_that_does_not_clash(rows):
    run_migration()

    assert email_of(rows.nfd) == STORED
    assert email_of(rows.upper) == "bob@example.com"
    assert email_of(rows.already_normal) == "carl@example.com"
    assert email_of(rows.blank) is None
    assert email_of(rows.elsewhere) == STORED  # another workspace: no clash
    assert email_of(rows.without_email) is None


def test_of_two_spellings_of_one_address_the_later_keeps_its_spelling(rows):
    run_migration()

    assert email_of(rows.nfd) == STORED
    assert email_of(rows.nfc_later) == "ann@exämple.com"


def test_a_contact_already_holding_the_normal_spelling_keeps_it_and_the_other_is_left(rows):
    run_migration()

    assert email_of(rows.dora_normal_newer) == "dora@example.com"
    assert email_of(rows.dora_old_spelling) == "DORA@example.com"


def test_the_clashes_are_reported_on_stdout_and_in_a_warning(rows, workspace, capsys, caplog):
    with caplog.at_level(logging.WARNING, logger="contacts.migrations"):
        run_migration()

    out = capsys.readouterr().out
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for report in (out, "\n".join(warnings)):
        assert (
            f"workspace {workspace.id}: contact {rows.nfc_later.id} keeps 'ann@exämple.com' because "
            f"contact {rows.nfd.id} has '{STORED}'"
        ) in report
        assert (
            f"workspace {workspace.id}: contact {rows.dora_old_spelling.id} keeps 'DORA@example.com' because "
            f"contact {rows.dora_normal_newer.id} has 'dora@example.com'"
        ) in report
    assert "2 contact(s) kept their e-mail spelling" in out
    assert "Normalised the e-mail address of 4 contact(s)" in out


def test_running_the_migration_again_changes_nothing_more(rows):
    run_migration()
    before = sorted(Contact.objects.values_list("pk", "email"))

    updated, collisions = migration.normalize_contact_emails(Contact, connection.alias)

    assert updated == 0
    assert len(collisions) == 2
    assert sorted(Contact.objects.values_list("pk", "email")) == before


def test_without_old_spellings_the_migration_prints_nothing(contact, capsys):
    run_migration()

    assert capsys.readouterr().out == ""


def test_the_migration_follows_the_version_field_and_reverses_as_a_no_op():
    assert ("contacts", "0002_contact_version") in migration.Migration.dependencies
    (operation,) = migration.Migration.operations
    assert operation.reversible
