"""Django admin for background work: activation runs and items, and recorded jobs.

Imported by contacts/admin.py (the module Django's admin autodiscovery loads). Rows are shown,
never edited here: the engine and the services write them; the actions go through the services.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from contacts import services, tasks
from contacts.admin import acting_membership
from contacts.models import ActivationItem, ActivationRun, ItemStatus, Job, Workspace


def can_start_activations(request: HttpRequest) -> bool:
    """Starting a run adds one: Django's "add activation run" permission."""
    opts = ActivationRun._meta
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('add', opts)}")


def start_activations(
    model_admin: admin.ModelAdmin, request: HttpRequest, chosen: Iterable[tuple[UUID, UUID]]
) -> None:
    """Start one run per workspace over the chosen `(workspace id, contact id)`s, in the order
    given, through the service (which leaves out contacts that are not leads); say how it went."""
    by_workspace: dict[UUID, list[UUID]] = {}
    for workspace_id, contact_id in chosen:
        by_workspace.setdefault(workspace_id, []).append(contact_id)
    workspaces = Workspace.objects.in_bulk(list(by_workspace))
    started = leads = 0
    for workspace_id, contact_ids in by_workspace.items():
        workspace = workspaces.get(workspace_id)
        if workspace is None:  # deleted meanwhile
            continue
        try:
            run = services.activation_start(
                workspace=workspace, by=acting_membership(request.user, workspace), contact_ids=contact_ids
            )
        except ValidationError as error:
            model_admin.message_user(request, f"{workspace}: {' '.join(error.messages)}", messages.WARNING)
            continue
        started, leads = started + 1, leads + run.total
    if started:
        model_admin.message_user(
            request, f"Started {started} activation run(s) for {leads} lead(s).", messages.SUCCESS
        )
    elif not by_workspace:
        model_admin.message_user(request, "Nothing to activate.", messages.WARNING)


class ItemRunFilter(admin.SimpleListFilter):
    """The items of one run (the run page links here); shown only while one is chosen."""

    title = "run"
    parameter_name = "run"

    def _run_id(self) -> UUID | None:
        try:
            return UUID(self.value() or "")
        except ValueError:
            return None

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        if not self.value():
            return []
        run_id = self._run_id()
        run = ActivationRun.objects.select_related("workspace").filter(pk=run_id).first() if run_id else None
        label = f"{run.workspace}, {run.created_at:%Y-%m-%d %H:%M}" if run else "No such run"
        return [(self.value(), label)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ActivationItem]) -> QuerySet[ActivationItem]:
        if not self.value():
            return queryset
        run_id = self._run_id()
        return queryset.filter(run_id=run_id) if run_id else queryset.none()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written here: the engine and the services write these rows."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _items_url(run: ActivationRun, **filters: str) -> str:
    query = "&".join(f"{name}={value}" for name, value in {"run": str(run.pk), **filters}.items())
    return f"{reverse('admin:contacts_activationitem_changelist')}?{query}"


@admin.register(ActivationRun)
class ActivationRunAdmin(ReadOnlyAdmin):
    list_display = ("workspace", "status", "total", "sent", "failed", "created_at", "finished_at")
    list_filter = ("status", "workspace")
    list_select_related = ("workspace",)
    fields = (
        "workspace",
        "status",
        ("total", "sent", "failed"),
        "items",
        "error",
        "created_by",
        ("created_at", "started_at", "finished_at"),
        ("attempts", "heartbeat_at", "claimed_by"),
    )
    readonly_fields = flatten(fields)
    actions = ("resume_runs",)
    list_per_page = 50

    @admin.display(description="Items")
    def items(self, run: ActivationRun) -> str:
        return format_html(
            '<a href="{}">All {} items</a> · <a href="{}">failed ones ({})</a>',
            _items_url(run),
            run.total,
            _items_url(run, status__exact=ItemStatus.FAILED),
            run.failed,
        )

    @admin.action(description="Resume selected unfinished runs", permissions=["resume"])
    def resume_runs(self, request: HttpRequest, queryset: QuerySet[ActivationRun]) -> None:
        """Hand unfinished runs to a worker again; one a live worker still holds carries on there."""
        runs = list(queryset)
        unfinished = [run for run in runs if not run.is_finished]
        resumed = 0
        for run in unfinished:
            try:
                tasks.activation_run.delay(str(run.pk))
            except Exception as error:  # broker down: the periodic resume sends it once it is back
                self.message_user(
                    request,
                    f"Could not reach the task queue ({type(error).__name__}: {error}); "
                    "the periodic resume will send the run(s) once it is back.",
                    messages.ERROR,
                )
                break
            resumed += 1
        finished = len(runs) - len(unfinished)
        left_out = f" Left out {finished} finished run(s)." if finished else ""
        self.message_user(
            request,
            f"Resumed {resumed} unfinished run(s).{left_out}",
            messages.SUCCESS if resumed else messages.WARNING,
        )

    def has_resume_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")


@admin.register(ActivationItem)
class ActivationItemAdmin(ReadOnlyAdmin):
    """Mostly for failed items: why each failed, and "Retry" to activate their contacts again."""

    list_display = ("contact", "email", "status", "error", "run", "workspace", "attempts", "sent_at")
    list_filter = ("status", ItemRunFilter, "run__workspace")
    list_select_related = ("contact", "run__workspace")
    search_fields = ("email",)
    fields = ("run", "workspace", "position", "contact", "email", "status", "attempts", "error", "sent_at")
    readonly_fields = fields
    actions = ("retry_items",)
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="Workspace")
    def workspace(self, item: ActivationItem) -> Workspace:
        return item.run.workspace

    @admin.action(description="Retry: activate these contacts again", permissions=["activate"])
    def retry_items(self, request: HttpRequest, queryset: QuerySet[ActivationItem]) -> None:
        """A new run per workspace over the failed items' contacts (still leads, not waiting elsewhere)."""
        retried = list(
            queryset.filter(status=ItemStatus.FAILED, contact__isnull=False)
            .order_by("run__created_at", "position")
            .values_list("run__workspace_id", "contact_id")
        )
        left_out = queryset.count() - len(retried)
        if left_out:
            self.message_user(
                request,
                f"Left out {left_out} item(s) that did not fail or whose contact was deleted.",
                messages.WARNING,
            )
        if retried:
            start_activations(self, request, retried)

    def has_activate_permission(self, request: HttpRequest) -> bool:
        return can_start_activations(request)


# --- Recorded jobs ----------------------------------------------------------------------------------


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Jobs recorded with a write (the post-create job): failed ones keep their error, and retry."""

    list_display = ("kind", "workspace", "status", "attempts", "short_error", "created_at", "finished_at")
    list_filter = ("status", "kind", "workspace")
    list_select_related = ("workspace",)
    fields = (
        ("kind", "status", "workspace"),
        ("subject_id", "attempts"),
        "error",
        ("activity_written", "emailed_at"),
        ("created_at", "dispatched_at", "finished_at"),
    )
    readonly_fields = flatten(fields)
    actions = ("retry_jobs",)
    list_per_page = 50

    @admin.display(description="Error")
    def short_error(self, job: Job) -> str:
        return job.error[:120] + ("…" if len(job.error) > 120 else "")

    @admin.action(description="Retry the selected failed jobs", permissions=["retry"])
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        chosen = list(queryset)
        retried = services.jobs_retry(jobs=chosen)
        skipped = len(chosen) - retried
        text = f"Sent {retried} job(s) to be tried again."
        if skipped:
            text += f" {skipped} not failed, left alone."
        self.message_user(request, text, messages.SUCCESS if retried else messages.WARNING)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # it e-mails people again
