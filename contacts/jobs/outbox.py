"""Jobs recorded with the write that calls for them, sent to a worker after commit, run once.

`dispatch` hands a job to the broker after its write commits; when the broker is down the job
simply waits in the database, and `dispatch_pending` (every 30 s, from beat) sends what is still
waiting. Running a job twice is harmless: `job_run` works only on a pending job and records each
step (activity entry, e-mail) as it completes, so a retry skips what is done.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from contacts.dbengine import atomic
from contacts.jobs.models import Activity, Job, JobKind, JobStatus
from contacts.models import Contact, Membership, Role

logger = logging.getLogger(__name__)

# A dispatched job still pending after this long was lost on the way (a broker flushed, a worker
# gone with it): it is sent again.
REDISPATCH_AFTER = timedelta(minutes=10)
# A job just recorded is left to its own after-commit dispatch for this long.
DISPATCH_GRACE = timedelta(seconds=10)


class TransientJobError(Exception):
    """Worth trying again later (the mail server is unreachable or busy)."""


class PermanentJobError(Exception):
    """Trying again will not help (the mail server refused the addresses)."""


def dispatch(job_id: UUID | str) -> bool:
    """Hand the job to the broker; False (logged) when the broker cannot be reached."""
    from contacts.tasks import job_run

    try:
        job_run.delay(str(job_id))
    except Exception as error:  # the job stays pending; dispatch_pending sends it later
        logger.warning(
            "job %s recorded but not sent to a worker (%s: %s)", job_id, type(error).__name__, error
        )
        return False
    Job.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    return True


def dispatch_pending() -> int:
    """Send the pending jobs nobody sent (broker down at commit) or that were lost; how many."""
    now = timezone.now()
    waiting = Job.objects.filter(status=JobStatus.PENDING).filter(
        Q(dispatched_at__isnull=True, created_at__lt=now - DISPATCH_GRACE)
        | Q(dispatched_at__lt=now - REDISPATCH_AFTER)
    )
    return sum(dispatch(job_id) for job_id in waiting.values_list("pk", flat=True)[:500])


def job_run(job_id: UUID | str) -> str:
    """Do the job's remaining steps; "done", or "skipped" when it is not pending."""
    job = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).select_related("workspace").first()
    if job is None:
        return "skipped"
    Job.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1)
    if job.kind == JobKind.CONTACT_CREATED:
        _contact_created(job)
    Job.objects.filter(pk=job.pk, status=JobStatus.PENDING).update(
        status=JobStatus.DONE, finished_at=timezone.now(), error=""
    )
    return "done"


def job_failed(job_id: UUID | str, error: str) -> None:
    """Record a job that will not be tried again, for the admin to see (and retry)."""
    logger.error("job %s failed: %s", job_id, error)
    Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def _contact_created(job: Job) -> None:
    contact = (
        Contact.objects.filter(pk=job.subject_id, workspace_id=job.workspace_id)
        .select_related("created_by")
        .first()
    )
    if contact is None:
        return  # deleted before the job ran: nothing to announce
    if not job.activity_written:
        author = (
            contact.created_by.get_full_name() or contact.created_by.get_username()
            if contact.created_by
            else ""
        )
        with atomic():
            Activity.objects.create(
                workspace_id=job.workspace_id,
                contact=contact,
                text=f"Added by {author}." if author else "Added.",
            )
            Job.objects.filter(pk=job.pk).update(activity_written=True)
    if job.emailed_at is None:
        _email_admins(job, contact)
        Job.objects.filter(pk=job.pk).update(emailed_at=timezone.now())


def _email_admins(job: Job, contact: Contact) -> None:
    addresses = sorted(
        set(
            Membership.objects.filter(
                workspace_id=job.workspace_id, role__in=(Role.OWNER, Role.ADMIN), user__is_active=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    if not addresses:
        return
    context = {"contact": contact, "workspace": job.workspace, "url": _contact_url(job, contact)}
    message = EmailMessage(
        subject=render_to_string("emails/contact_created_subject.txt", context).strip(),
        body=render_to_string("emails/contact_created.txt", context),
        to=addresses,
        headers={"Message-ID": f"<job-{job.pk}@{settings.CONTACTS_MAIL_DOMAIN}>"},
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as refused:
        raise PermanentJobError(f"The mail server refused every address: {refused.recipients}") from refused
    except smtplib.SMTPResponseException as refused:
        if refused.smtp_code >= 500:
            raise PermanentJobError(f"The mail server refused the e-mail: {refused.smtp_code}") from refused
        raise TransientJobError(f"The mail server asked to try later: {refused.smtp_code}") from refused
    except OSError as error:  # connection refused, reset, timed out, server disconnected
        raise TransientJobError(
            f"The mail server could not be reached: {type(error).__name__}: {error}"
        ) from error


def _contact_url(job: Job, contact: Contact) -> str:
    from django.urls import reverse

    path = reverse("contact_detail", kwargs={"slug": job.workspace.slug, "contact_id": contact.pk})
    return f"{settings.CONTACTS_BASE_URL}{path}" if settings.CONTACTS_BASE_URL else path
