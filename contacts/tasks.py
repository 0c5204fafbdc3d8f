"""Celery tasks (found by `app.autodiscover_tasks()`). Each takes ids only and is safe to run twice.

Thin wrappers: the work is in contacts/jobs/. Settings (contactsite/settings.py, CELERY_*): late
acknowledgement, requeue when the worker is lost, prefetch 1, JSON only.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from contacts.jobs import activation, outbox
from contacts.jobs.activation import TransientSendError
from contacts.jobs.models import KEEP_FINISHED_SECONDS, ActivationRun, RunStatus

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(TransientSendError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def activation_run(self, run_id: str) -> str:
    """Work through one activation run (claimed, so two deliveries never run it at once)."""
    return activation.activation_process(run_id, task_id=self.request.id or f"inline-{run_id}")


@shared_task
def activation_resume_stale() -> int:
    """Start again the runs whose worker died (stale heartbeat) or that never reached a worker
    (queued while the broker was down); how many were sent off."""
    stale = activation.stale_before()
    run_ids = list(
        ActivationRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=stale).values_list(
            "pk", flat=True
        )
    ) + list(
        ActivationRun.objects.filter(status=RunStatus.QUEUED, created_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    for run_id in run_ids:
        logger.warning("activation run %s: resuming (no worker for it since %s)", run_id, stale)
        activation_run.delay(str(run_id))
    return len(run_ids)


@shared_task
def activation_delete_finished() -> int:
    """Delete runs (with their items) that finished more than a day ago; how many.

    MongoDB's TTL indexes do this by themselves; running it there too is harmless."""
    cutoff = timezone.now() - timezone.timedelta(seconds=KEEP_FINISHED_SECONDS)
    deleted, _ = ActivationRun.objects.filter(finished_at__lt=cutoff).delete()
    return deleted


# Waits before the retries of a job whose mail server was unreachable: 10 s, 20 s, 40 s ... 16 min.
JOB_RETRY_BASE_SECONDS = 10
JOB_MAX_RETRIES = 7


def job_retry_delay(retries: int) -> int:
    """Exponential back-off: the wait before retry number `retries + 1`."""
    return JOB_RETRY_BASE_SECONDS * 2**retries


@shared_task(bind=True, max_retries=JOB_MAX_RETRIES)
def job_run(self, job_id: str) -> str:
    """Run one recorded job (contacts.jobs.outbox); transient failures retry with back-off, then
    the job is marked failed with its error for the admin."""
    try:
        return outbox.job_run(job_id)
    except outbox.PermanentJobError as error:
        outbox.job_failed(job_id, str(error))
        return "failed"
    except outbox.TransientJobError as error:
        if self.request.retries >= self.max_retries:
            outbox.job_failed(job_id, f"Gave up after {self.max_retries + 1} tries: {error}")
            return "failed"
        raise self.retry(exc=error, countdown=job_retry_delay(self.request.retries)) from error


@shared_task
def jobs_dispatch_pending() -> int:
    """Send the recorded jobs that never reached the broker (it was down at commit)."""
    return outbox.dispatch_pending()
