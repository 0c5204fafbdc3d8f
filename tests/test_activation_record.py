"""The engine's per-lead record (contacts/dbengine/activation_record.py) on the engine under test, and
its e-mail (contacts/jobs/bulk_email.py): the same message as Django's, serialised more cheaply."""

from __future__ import annotations

import random
import re
import string
import threading
import time
from email.policy import compat32

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, IntegrityError, connection

from contacts import services
from contacts.dbengine import activation_record, atomic, is_mongodb
from contacts.factories import leads
from contacts.jobs.activation import NOT_A_LEAD, activation_email
from contacts.jobs.bulk_email import QUICK_FOLDING, BulkEmail
from contacts.models import ActivationItem, ActivationRun, Contact, ContactStatus, ItemStatus

pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's row locks and commit setting"
)


@pytest.fixture
def items(workspace, workspace_admin, not_dispatched) -> list[ActivationItem]:
    """Three items of a new run, in order; the first one's e-mail has just gone out (`sending`)."""
    chosen = leads(workspace, 3)
    run = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in chosen]
    )
    first, *rest = run.items.order_by("position")
    ActivationItem.objects.filter(pk=first.pk).update(status=ItemStatus.SENDING, attempts=1)
    Contact.objects.filter(pk=first.contact_id).update(status=ContactStatus.ACTIVE)
    return [first, *rest]


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


def test_taking_a_lead_records_the_previous_one_sent_activates_its_contact_and_marks_it_sending(items):
    first, second, _ = items
    lead = fresh(second.contact)

    assert activation_record.take_lead(
        second, "new@example.com", activate=True, sent_id=first.pk, not_a_lead=NOT_A_LEAD
    )

    first, second, contact = fresh(first), fresh(second), fresh(lead)
    assert (first.status, first.error) == (ItemStatus.SENT, "") and first.sent_at is not None
    assert (second.status, second.attempts, second.email) == (ItemStatus.SENDING, 1, "new@example.com")
    assert (contact.status, contact.version) == (ContactStatus.ACTIVE, lead.version + 1)
    assert contact.updated_at > lead.updated_at


def test_a_contact_no_longer_a_lead_fails_its_item_and_is_left_alone(items):
    first, second, _ = items
    Contact.objects.filter(pk=second.contact_id).update(status=ContactStatus.ARCHIVED)
    archived = fresh(second.contact)

    assert not activation_record.take_lead(
        second, "new@example.com", activate=True, sent_id=first.pk, not_a_lead=NOT_A_LEAD
    )

    second = fresh(second)
    assert (second.status, second.error, second.attempts, second.email) == (
        ItemStatus.FAILED,
        NOT_A_LEAD,
        0,
        "",
    )
    contact = fresh(archived)
    assert (contact.status, contact.version, contact.updated_at) == (
        ContactStatus.ARCHIVED,
        archived.version,
        archived.updated_at,
    )
    assert fresh(first).status == ItemStatus.SENT  # the previous lead is recorded all the same


def test_a_resumed_item_is_taken_again_without_asking_its_contact(items):
    _, second, _ = items
    ActivationItem.objects.filter(pk=second.pk).update(status=ItemStatus.SENDING, attempts=1)
    Contact.objects.filter(pk=second.contact_id).update(status=ContactStatus.ACTIVE)  # by this run
    active = fresh(second.contact)

    assert activation_record.take_lead(
        fresh(second), "new@example.com", activate=False, sent_id=None, not_a_lead=NOT_A_LEAD
    )

    assert (fresh(second).status, fresh(second).attempts) == (ItemStatus.SENDING, 2)
    assert fresh(active).version == active.version


def test_recording_an_item_sent_alone(items):
    first, second, _ = items

    activation_record.record_sent(first.pk)

    assert fresh(first).status == ItemStatus.SENT and fresh(first).sent_at is not None
    assert fresh(second).status == ItemStatus.PENDING


def test_the_record_is_one_transaction(items):
    """A failure in its last step (here a NULL address) undoes the previous lead's `sent` and the
    contact's activation: never one without the other."""
    if is_mongodb():
        pytest.skip("MongoDB has no NOT NULL constraint to make the last step fail")
    first, second, _ = items
    lead = fresh(second.contact)

    with pytest.raises(IntegrityError):
        activation_record.take_lead(second, None, activate=True, sent_id=first.pk, not_a_lead=NOT_A_LEAD)

    assert fresh(first).status == ItemStatus.SENDING
    assert fresh(second).status == ItemStatus.PENDING
    assert (fresh(lead).status, fresh(lead).version) == (ContactStatus.LEAD, lead.version)


def test_inside_a_callers_transaction_its_commit_is_left_as_it_is(items):
    """The record relaxes only its own commit; inside a caller's transaction it must not relax
    the caller's (PostgreSQL), nor try to (SQLite refuses to change the level mid-transaction)."""
    first, second, _ = items
    with atomic():
        assert activation_record.take_lead(
            second, "x@example.com", activate=True, sent_id=first.pk, not_a_lead=NOT_A_LEAD
        )
        assert _commit_setting() in {"on", 2, None}
    assert _commit_setting() in {"on", 2, None}  # and the session's level is back afterwards
    assert fresh(second).status == ItemStatus.SENDING


def _commit_setting() -> object:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            return cursor.fetchone()[0]
    return None


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's journal")
def test_sqlite_writes_ahead_with_full_sync_by_default(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT journal_mode, synchronous FROM pragma_journal_mode, pragma_synchronous")
        assert cursor.fetchone() == ("wal", 2)


@postgresql_only
def test_postgresql_locks_the_item_just_sent_before_the_next_one(items):
    """A cancel locks a run's items by position (`items_finished`). The record must take them in
    the same order: while it waits for the item just sent, it holds neither the contact nor the
    next item, or the two would deadlock."""
    first, second, _ = items
    holding, release, errors = threading.Event(), threading.Event(), []

    def hold_the_first_item() -> None:
        try:
            with atomic():
                list(ActivationItem.objects.select_for_update().filter(pk=first.pk))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def record() -> None:
        try:
            activation_record.take_lead(
                second, "x@example.com", activate=True, sent_id=first.pk, not_a_lead=NOT_A_LEAD
            )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_first_item)
    holder.start()
    assert holding.wait(10)
    recorder = threading.Thread(target=record)
    recorder.start()
    time.sleep(0.3)  # the record now waits for the first item
    try:
        with atomic():  # neither the next item nor its contact may be held meanwhile
            list(ActivationItem.objects.select_for_update(nowait=True).filter(pk=second.pk))
            list(Contact.objects.select_for_update(nowait=True).filter(pk=second.contact_id))
    except DatabaseError as error:
        pytest.fail(f"the record locked the next item or its contact before the item just sent: {error}")
    finally:
        release.set()
        holder.join(10)
        recorder.join(10)
    assert errors == []
    assert (fresh(first).status, fresh(second).status) == (ItemStatus.SENT, ItemStatus.SENDING)


# --- the e-mail ------------------------------------------------------------------------------------

_BOUNDARY = re.compile(rb"={15}\d{19}==")


@pytest.mark.parametrize(
    ("first_name", "company", "workspace_name"),
    [
        ("Annabel", "Initech", "Acme Sales"),
        ("Zoë", "Société Générale d'Électricité", "Ålesund Fiskeri"),  # encoded headers
        ("Maximilian-Alexander", "", "A workspace with a name long enough to fold the subject line"),
    ],
)
def test_the_activation_email_is_djangos_message_byte_for_byte(
    workspace, items, first_name, company, workspace_name
):
    """Same headers and parts as the plain EmailMultiAlternatives; only the random boundary differs."""
    workspace.name = workspace_name
    run = ActivationRun.objects.select_related("workspace").get(pk=items[0].run_id)
    run.workspace = workspace
    contact = Contact(first_name=first_name, company=company, email="zoe@example.com", workspace=workspace)
    ours = activation_email(run, items[0], contact, connection=None)
    ours.extra_headers["Date"] = "Tue, 01 Dec 2026 10:00:00 -0000"  # the same second for both
    djangos = EmailMultiAlternatives(
        ours.subject, ours.body, to=ours.to, headers=ours.extra_headers, alternatives=ours.alternatives
    )

    expected = djangos.message().as_bytes(linesep="\r\n")
    got = ours.message().as_bytes(linesep="\r\n")

    assert isinstance(ours, BulkEmail) and len(_BOUNDARY.findall(got)) == 4
    assert _BOUNDARY.sub(b"BOUNDARY", got) == _BOUNDARY.sub(b"BOUNDARY", expected)


def test_the_email_is_built_without_the_database_and_once(items, django_assert_num_queries):
    """The engine builds it while the lead's record is on its way to PostgreSQL, where any query
    meanwhile would fail ("another command is already in progress"). A retry sends the same bytes."""
    run = ActivationRun.objects.select_related("workspace").get(pk=items[1].run_id)
    contact = Contact.objects.get(pk=items[1].contact_id)

    with django_assert_num_queries(0):
        message = activation_email(run, items[1], contact, connection=None)
        message.prepare()

    assert message.message() is message.prepared
    assert message.message().as_bytes() == message.message().as_bytes()


def test_quick_folding_writes_every_header_as_compat32_does():
    rng = random.Random(9)
    alphabets = [string.ascii_letters + " ", string.printable[:95], string.ascii_letters + " \téü€=?"]
    for _ in range(5000):
        name = rng.choice(["Subject", "To", "Message-ID", "Content-Type", "X-Long-Header-Name"])
        value = "".join(rng.choice(rng.choice(alphabets)) for _ in range(rng.randrange(0, 100)))
        for linesep in ("\r\n", "\n"):
            quick, standard = QUICK_FOLDING.clone(linesep=linesep), compat32.clone(linesep=linesep)
            assert quick.fold_binary(name, value) == standard.fold_binary(name, value), (name, value)


def test_a_boundary_found_in_the_text_is_left_to_the_generator(monkeypatch):
    taken = "=" * 15 + "1" * 19 + "=="
    monkeypatch.setattr("contacts.jobs.bulk_email._boundary", lambda: taken)
    email = BulkEmail("Hi", f"--{taken}\nmeant as text", to=["a@example.com"])
    email.attach_alternative("<p>hi</p>", "text/html")

    message = email.message()
    message.as_bytes()  # the generator picks the boundary

    assert message.get_boundary() != taken
    assert message.get_payload(0).get_payload() == f"--{taken}\nmeant as text"
