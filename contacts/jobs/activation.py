"""The activation engine: e-mail each lead of a run once, in order, surviving any crash.

A worker takes a run up by *claiming* it (one UPDATE: queued, or running with a stale heartbeat,
or held by this very task's earlier try), then works through the items still to do. For each lead:

1. **before the send**, in one transaction: the item becomes `sending` and the contact becomes
   active, but only if it is still a lead (else the item fails and is not e-mailed), so two runs,
   or a colleague, can never both e-mail it;
2. the e-mail goes out over the run's one SMTP connection;
3. **after the send**: the item becomes `sent` (written together with the next lead's step 1,
   so each lead costs one commit; anything that ends the loop writes it at once).

Steps 1 and 3 are one short write per lead, `activation_record.take_lead` (fixed SQL on the SQL
engines: one statement on PostgreSQL; the ORM on MongoDB; see contacts/dbengine/activation_record.py).

A worker killed between 1 and 3 leaves the item `sending`. Whether the SMTP server had accepted
that message is unknowable, so the resumed run sends it again: at most one lead per kill (the
one in flight) can get the e-mail twice, and only when the kill falls between the server
accepting the message and step 3 committing, a window of about a millisecond on a local
network. Every message of an item carries the same Message-ID, which lets mail systems drop the
duplicate. No lead is skipped.

Those per-lead commits do not wait for the disk (PostgreSQL `synchronous_commit = off` for that
transaction, SQLite `synchronous=NORMAL` in WAL mode): a killed worker loses nothing, since the
database has the commit. A crash of the database server or its machine can lose the per-lead
records written since the last durable commit, which is at most the last progress write (below,
a normal commit that makes everything before it durable) and at most ~0.6 s back on PostgreSQL:
at most 50 leads. The run then resumes from that earlier state and those leads are e-mailed
again (same Message-ID); still none is skipped.

Progress (sent / failed, heartbeat) is written every 250 ms or 50 items and pushed to the
workspace's live group; the same write notices a cancel, so a cancelled run stops within a second.
"""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from contacts.dbengine import activation_record, atomic, lock_rows
from contacts.jobs.bulk_email import BulkEmail
from contacts.jobs.models import ActivationItem, ActivationRun, ItemStatus, RunStatus
from contacts.live import broadcast
from contacts.models import Contact, ContactStatus
from contacts.services.common import workspace_bump_version

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
PROGRESS_EVERY_SECONDS = 0.25
PROGRESS_EVERY_ITEMS = 50
# Contacts that became active reach open lists (a workspace version bump) at most this often.
LIST_REFRESH_EVERY_SECONDS = 1.0
# A run that keeps killing its worker (or failing to reach the mail server) stops after this many
# starts instead of being retried for ever.
MAX_RUN_ATTEMPTS = 10
# Tries of one message over a fresh connection before the task gives up and retries later.
SEND_TRIES = 3
NOT_A_LEAD = "No longer a lead (activated or archived meanwhile): not e-mailed again."


class TransientSendError(Exception):
    """The mail server could not be reached or asked us to try later: retry the run later."""


def activation_process(run_id: UUID | str, *, task_id: str) -> str:
    """Work through the run; what became of it ("completed", "cancelled", "not claimed", ...)."""
    run = _claim(run_id, task_id)
    if run is None:
        return "not claimed"
    if run.attempts > MAX_RUN_ATTEMPTS:
        _finish(run, task_id, RunStatus.FAILED, error=f"Stopped after {MAX_RUN_ATTEMPTS} attempts.")
        return "failed"
    progress = _Progress(run, task_id)
    sent = _SentLater()
    connection = get_connection(fail_silently=False)  # one SMTP connection for the whole run
    try:
        while True:
            sent.record()  # before reading the next batch, which must not see it as unsent
            items = list(
                ActivationItem.objects.filter(
                    run_id=run.pk, status__in=(ItemStatus.PENDING, ItemStatus.SENDING)
                ).order_by("position")[:BATCH_SIZE]
            )
            if not items:
                break
            contacts = Contact.objects.in_bulk([item.contact_id for item in items if item.contact_id])
            for item in items:
                if progress.due():
                    sent.record()
                    if not progress.flush():
                        progress.flush(final=True)  # the leads activated so far reach open lists
                        return "stopped"  # cancelled, or another worker took over
                progress.count(_activate_one(run, item, contacts.get(item.contact_id), connection, sent))
    except TransientSendError:
        sent.record()
        progress.flush(final=True)
        raise
    finally:
        sent.record()  # whatever ended the loop, a sent e-mail is recorded as sent
        connection.close()
    if not progress.flush(final=True):
        return "stopped"
    _finish(run, task_id, RunStatus.COMPLETED)
    return "completed"


class _SentLater:
    """The item whose e-mail just went out, recorded as `sent` in the next lead's first write.

    One commit per lead instead of two: lead k's "after" rides in lead k+1's "before". The window
    in which a crash resends lead k stays as short (nothing but the loop lies between lead k's
    send and that commit), and anything that ends the loop records it at once.
    """

    def __init__(self) -> None:
        self.item_id: UUID | None = None

    def record(self) -> None:
        if self.item_id is not None:
            activation_record.record_sent(self.item_id)
            self.item_id = None


def stale_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.CONTACTS_ACTIVATION_STALE_AFTER)


def _claim(run_id: UUID | str, task_id: str) -> ActivationRun | None:
    now = timezone.now()
    claimable = (
        Q(status=RunStatus.QUEUED)
        | Q(status=RunStatus.RUNNING, claimed_by=task_id)
        | Q(status=RunStatus.RUNNING, heartbeat_at__lt=stale_before())
    )
    claimed = ActivationRun.objects.filter(claimable, pk=run_id).update(
        status=RunStatus.RUNNING, claimed_by=task_id, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    run = ActivationRun.objects.select_related("workspace").get(pk=run_id)
    if run.started_at is None:
        ActivationRun.objects.filter(pk=run.pk, started_at=None).update(started_at=now)
    return run


def _activate_one(
    run: ActivationRun, item: ActivationItem, contact: Contact | None, connection: Any, sent: _SentLater
) -> str:
    """Send one lead its e-mail; the item's new status (sent or failed)."""
    resuming = item.status == ItemStatus.SENDING  # this run already activated it, then crashed
    if contact is None or not contact.email:
        sent.record()
        reason = (
            "The contact was deleted before its e-mail was sent." if contact is None else "No e-mail address."
        )
        return _item_failed(item, reason)
    # Lead k's `sent`, this contact's activation (if still a lead) and this item's `sending`:
    # one short transaction (one statement on PostgreSQL; see contacts/dbengine/activation_record.py).
    taking = activation_record.start_take_lead(
        item, contact.email, activate=not resuming, sent_id=sent.item_id, not_a_lead=NOT_A_LEAD
    )
    try:
        # Built while that write is on its way (PostgreSQL): the database's work and the round
        # trip overlap with this CPU work. Neither reads the database.
        message = activation_email(run, item, contact, connection)
        message.prepare()
    finally:
        taken = taking.taken()  # always: the connection must be free again, whatever happened
    sent.item_id = None
    if not taken:
        return ItemStatus.FAILED
    try:
        _send(message)
    except smtplib.SMTPResponseException as refused:
        if refused.smtp_code >= 500:
            _undo_activation(contact)
            return _item_failed(
                item, f"The mail server refused it: {refused.smtp_code} {_text(refused.smtp_error)}"
            )
        raise TransientSendError(str(refused)) from refused
    except smtplib.SMTPRecipientsRefused as refused:
        _undo_activation(contact)
        code, message = next(iter(refused.recipients.values()))
        return _item_failed(item, f"The mail server refused the address: {code} {_text(message)}")
    sent.item_id = item.pk
    return ItemStatus.SENT


def _send(message: BulkEmail) -> None:
    """Send over the run's connection, reopening it after a dropped connection or network error."""
    for attempt in range(1, SEND_TRIES + 1):
        try:
            # Opened here, not by send_messages, which would close a connection it opened itself.
            message.connection.open()
            message.connection.send_messages([message])
            return
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
            if isinstance(error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
                raise
            message.connection.close()
            if attempt == SEND_TRIES:
                raise TransientSendError(f"{type(error).__name__}: {error}") from error
            time.sleep(0.5 * attempt)


def activation_email(
    run: ActivationRun, item: ActivationItem, contact: Contact, connection: Any
) -> BulkEmail:
    """The activation e-mail of one lead (text and HTML), with a Message-ID fixed per item."""
    context = {"contact": contact, "workspace": run.workspace}
    message = BulkEmail(
        subject=render_to_string("emails/activation_subject.txt", context).strip(),
        body=render_to_string("emails/activation.txt", context),
        to=[contact.email],
        connection=connection,
        headers={"Message-ID": f"<activation-{item.pk}@{settings.CONTACTS_MAIL_DOMAIN}>"},
    )
    message.attach_alternative(render_to_string("emails/activation.html", context), "text/html")
    return message


def _undo_activation(contact: Contact) -> None:
    """The e-mail was refused for good: the contact stays a lead (unless someone changed it since)."""
    Contact.objects.filter(pk=contact.pk, status=ContactStatus.ACTIVE, version=contact.version + 1).update(
        status=ContactStatus.LEAD, version=F("version") + 1, updated_at=timezone.now()
    )


def _item_failed(item: ActivationItem, reason: str) -> str:
    ActivationItem.objects.filter(pk=item.pk).update(status=ItemStatus.FAILED, error=reason)
    return ItemStatus.FAILED


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _finish(run: ActivationRun, task_id: str, status: RunStatus, *, error: str = "") -> None:
    now = timezone.now()
    if ActivationRun.objects.filter(pk=run.pk, claimed_by=task_id, status=RunStatus.RUNNING).update(
        status=status, finished_at=now, error=error
    ):
        items_finished(run, now)
    run.refresh_from_db()
    announce_progress(run)


def items_finished(run: ActivationRun, when: Any) -> None:
    """Stamp the items with their run's end, which MongoDB's TTL index on them counts from.

    A cancel calls this while a worker may be inside a lead's transaction, which holds the item
    just sent and then takes the next one. The rows are locked here in that same order (position)
    before the update, so the cancel waits for that short transaction instead of deadlocking with
    it: a bare UPDATE locks in table order, where an item just updated sits after the next one.
    """
    items = ActivationItem.objects.filter(run_id=run.pk)
    with atomic():
        lock_rows(items.order_by("position"))
        items.update(run_finished_at=when)


def announce_progress(run: ActivationRun) -> None:
    """Tell the workspace's open pages how the run stands."""
    broadcast.announce(run.workspace_id, {"type": "activation.progress", "run": run_progress(run)})


def run_progress(run: ActivationRun) -> dict[str, Any]:
    return {
        "id": str(run.pk),
        "status": run.status,
        "total": run.total,
        "sent": run.sent,
        "failed": run.failed,
    }


class _Progress:
    """Counts in memory, written (with the heartbeat) every PROGRESS_EVERY_SECONDS or _ITEMS."""

    def __init__(self, run: ActivationRun, task_id: str) -> None:
        self.run, self.task_id = run, task_id
        done = ActivationItem.objects.filter(run_id=run.pk)
        self.sent = done.filter(status=ItemStatus.SENT).count()
        self.failed = done.filter(status=ItemStatus.FAILED).count()
        self.unwritten = 0
        self.written_at = time.monotonic()
        self.changed_contacts = 0
        self.bumped_at = time.monotonic()

    def count(self, outcome: str) -> None:
        if outcome == ItemStatus.SENT:
            self.sent += 1
        else:
            self.failed += 1
        self.unwritten += 1

    def due(self) -> bool:
        return (
            self.unwritten >= PROGRESS_EVERY_ITEMS
            or time.monotonic() - self.written_at >= PROGRESS_EVERY_SECONDS
        )

    def flush(self, *, final: bool = False) -> bool:
        """Write progress; False when the run is no longer ours to work on (cancelled, taken over)."""
        still_ours = ActivationRun.objects.filter(
            pk=self.run.pk, status=RunStatus.RUNNING, claimed_by=self.task_id
        ).update(sent=self.sent, failed=self.failed, heartbeat_at=timezone.now())
        self.changed_contacts += self.unwritten
        if self.changed_contacts and (
            final or time.monotonic() - self.bumped_at >= LIST_REFRESH_EVERY_SECONDS
        ):
            # Contacts turned active: open lists resynchronise once a second, not once per lead.
            workspace_bump_version(workspace=self.run.workspace)
            self.changed_contacts, self.bumped_at = 0, time.monotonic()
        self.unwritten = 0
        self.written_at = time.monotonic()
        self.run.sent, self.run.failed = self.sent, self.failed
        if still_ours:
            announce_progress(self.run)
        return bool(still_ours)
