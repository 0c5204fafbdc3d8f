"""Recorded jobs (contacts/jobs/outbox.py): what an admin may do with one that failed."""

from __future__ import annotations

from collections.abc import Iterable

from contacts.dbengine import after_commit, atomic
from contacts.jobs import outbox
from contacts.jobs.models import Job, JobStatus


def jobs_retry(*, jobs: Iterable[Job]) -> int:
    """Put failed jobs back in the queue (their finished steps stay done); how many."""
    failed_ids = [job.pk for job in jobs if job.status == JobStatus.FAILED]
    with atomic():
        retried = Job.objects.filter(pk__in=failed_ids, status=JobStatus.FAILED).update(
            status=JobStatus.PENDING, error="", finished_at=None, dispatched_at=None
        )
        for job_id in failed_ids:
            after_commit(outbox.dispatch, job_id)
    return retried
