"""Starting and cancelling activation runs (the engine that works through them: contacts/jobs/)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from contacts.dbengine import after_commit, atomic, lock_rows
from contacts.jobs.activation import announce_progress, items_finished
from contacts.jobs.models import UNFINISHED_RUN_STATUSES, ActivationItem, ActivationRun, RunStatus
from contacts.models import ContactStatus, Membership, Role, Workspace
from contacts.selectors import ContactQuery, contacts_matching, contacts_of
from contacts.services.common import bump_workspace_version_announced, require_role

logger = logging.getLogger(__name__)

# One run at most this many leads: larger selections are split by the people starting them.
MAX_LEADS_PER_RUN = 50_000
NOTHING_TO_ACTIVATE = "None of the chosen contacts is a lead waiting for activation."


def activation_start(
    *,
    workspace: Workspace,
    by: Membership,
    contact_ids: Sequence[UUID] | None = None,
    query: ContactQuery | None = None,
) -> ActivationRun:
    """A run over the chosen leads: given ids (in that order), or every lead matching `query`.

    Contacts that are not leads, belong to another workspace, or already wait in an unfinished run
    are left out (activating a lead twice is a no-op); none left is a ValidationError. The run is
    handed to a worker after commit; if the broker is down then, the periodic resume picks it up.
    """
    require_role(by, Role.ADMIN)
    if (contact_ids is None) == (query is None):
        raise ValueError("Give either contact_ids or query.")
    leads = (contacts_of(workspace) if query is None else contacts_matching(workspace, query)).filter(
        status=ContactStatus.LEAD
    )
    if contact_ids is not None:
        wanted = list(dict.fromkeys(contact_ids))
        found = set(leads.filter(pk__in=wanted).values_list("pk", flat=True))
        ordered = [pk for pk in wanted if pk in found]
    else:
        ordered = list(leads.values_list("pk", flat=True)[: MAX_LEADS_PER_RUN + 1])
    with atomic():
        # Two starts over the same leads at once (two admins, a double click): the second waits
        # here until the first commits, then finds the leads waiting in its run. Without the
        # lock both would read that none waits and create a run each. (SQLite takes its write
        # lock at BEGIN already; MongoDB has no row locks, and there the second run's items fail
        # "No longer a lead" as the first activates them: still nobody is e-mailed twice.)
        lock_rows(Workspace.objects.filter(pk=workspace.pk))
        waiting = set(
            ActivationItem.objects.filter(
                run__workspace=workspace, run__status__in=UNFINISHED_RUN_STATUSES, contact_id__in=ordered
            ).values_list("contact_id", flat=True)
        )
        ordered = [pk for pk in ordered if pk not in waiting]
        if not ordered:
            raise ValidationError(NOTHING_TO_ACTIVATE)
        if len(ordered) > MAX_LEADS_PER_RUN:
            raise ValidationError(f"At most {MAX_LEADS_PER_RUN:,} leads per activation: narrow the filter.")
        run = ActivationRun.objects.create(workspace=workspace, created_by_id=by.user_id, total=len(ordered))
        ActivationItem.objects.bulk_create(
            [
                ActivationItem(run=run, contact_id=pk, position=position)
                for position, pk in enumerate(ordered)
            ],
            batch_size=1000,
        )
        # The list page reads the runs only when its cached `activation_run_ends` (per version) says
        # one may be shown: a new run must move the workspace to a new version.
        bump_workspace_version_announced(workspace)
    after_commit(_dispatch, run)
    return run


def activation_cancel(*, run: ActivationRun, by: Membership) -> ActivationRun:
    """Stop the run: the worker notices within a second; leads not yet e-mailed stay leads."""
    require_role(by, Role.ADMIN)
    if run.workspace_id != by.workspace_id:
        raise ValidationError("This activation belongs to another workspace.")
    now = timezone.now()
    with atomic():
        if ActivationRun.objects.filter(pk=run.pk, status__in=UNFINISHED_RUN_STATUSES).update(
            status=RunStatus.CANCELLED, finished_at=now
        ):
            items_finished(run, now)
    current = ActivationRun.objects.filter(pk=run.pk).first()
    if current is None:  # deleted by the daily clean-up meanwhile
        raise Http404("This activation no longer exists.")
    after_commit(announce_progress, current)
    return current


def _dispatch(run: ActivationRun) -> None:
    from contacts.tasks import activation_run

    announce_progress(run)
    try:
        activation_run.delay(str(run.pk))
    except Exception as error:  # broker down: the periodic resume sends it once it is back
        logger.warning(
            "activation run %s queued but not sent to a worker (%s: %s)", run.pk, type(error).__name__, error
        )
