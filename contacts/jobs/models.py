"""Activation runs and their items: the durable record a worker resumes from.

Imported by contacts.models, so they belong to the `contacts` app and its migrations.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from contacts.dbengine.indexes import ExpiringIndex
from contacts.models import Contact, Workspace, uuid_primary_key

# Finished runs and their items are deleted this long after the run ended: by the server itself on
# MongoDB (TTL indexes), by the periodic task `activation_delete_finished` on the other engines.
KEEP_FINISHED_SECONDS = 24 * 60 * 60


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


UNFINISHED_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class ActivationRun(models.Model):
    """One "activate these leads" request: each lead gets the activation e-mail and becomes active."""

    id = uuid_primary_key()
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="activation_runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # How many times a worker has taken the run up; a run that keeps killing its worker stops.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Refreshed while a worker runs it; an old heartbeat means the worker died and the run resumes.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The Celery task id holding the run: its own retries may take it up again at once, any other
    # task only once the heartbeat is stale.
    claimed_by = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            ExpiringIndex(
                field="finished_at", name="activation_run_expires", expire_after_seconds=KEEP_FINISHED_SECONDS
            ),
            models.Index(fields=["workspace", "created_at"], name="activation_run_ws_created"),
            models.Index(fields=["status", "heartbeat_at"], name="activation_run_status_beat"),
        ]

    def __str__(self) -> str:
        return f"Activation of {self.total} lead(s) ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_RUN_STATUSES


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    # Recorded just before the e-mail is handed to the SMTP server: an item found in this state
    # after a crash may or may not have been sent (see contacts/jobs/activation.py).
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class ActivationItem(models.Model):
    """One lead of a run, processed in `position` order."""

    id = uuid_primary_key()
    run = models.ForeignKey(ActivationRun, on_delete=models.CASCADE, related_name="items")
    # Kept when the contact is deleted meanwhile: the item then fails with a reason.
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    email = models.CharField(max_length=254, blank=True)  # the address it was sent to
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The run's end, copied here when it ends, so MongoDB's TTL index removes items with their run.
    run_finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="activation_item_unique_position"),
        ]
        indexes = [
            models.Index(fields=["run", "status", "position"], name="activation_item_todo"),
            ExpiringIndex(
                field="run_finished_at",
                name="activation_item_expires",
                expire_after_seconds=KEEP_FINISHED_SECONDS,
            ),
        ]

    def __str__(self) -> str:
        return f"Item {self.position} of {self.run_id} ({self.status})"


class JobKind(models.TextChoices):
    CONTACT_CREATED = "contact_created", "Contact created: activity entry and e-mail to the admins"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """A job recorded in the same transaction as the write that calls for it (an outbox).

    The write commits with its job, so a job is never lost when the broker is down at that moment:
    it is sent to a worker after commit, and the periodic dispatcher sends whatever was not.
    A failed job keeps its error for the admin, who can retry it.
    """

    id = uuid_primary_key()
    kind = models.CharField(max_length=30, choices=JobKind.choices)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="jobs")
    # The contact the job is about; a plain id, so the job outlives a deleted contact.
    subject_id = models.UUIDField()
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)  # last handed to the broker
    # Steps already done, so a retry never repeats them (the e-mail in particular).
    activity_written = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "dispatched_at"], name="job_status_dispatched")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"


class Activity(models.Model):
    """What happened to a contact, for people reading its history."""

    id = uuid_primary_key()
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="activities")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["workspace", "contact", "created_at"], name="activity_contact_created")
        ]

    def __str__(self) -> str:
        return self.text
