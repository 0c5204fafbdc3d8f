"""Activation pages: start a run from the list's selection, cancel it, and read its progress.

The list's checkboxes and its "all N matching this filter" switch post to `activation_start`; the
progress panel on the list page (templates/contacts/_activations.html, static/js/activation.js)
follows the runs through the workspace's live events and, while the socket is down, by polling
`activation_progress`. Every write goes through contacts.services.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from contacts import selectors, services
from contacts.decorators import member_required
from contacts.forms import ContactFilterForm
from contacts.jobs.activation import run_progress
from contacts.jobs.models import ActivationRun
from contacts.selectors import ContactQuery
from contacts.views.listing import list_url

# Far more ids than a page of the list holds (and below Django's 1,000 fields per request);
# a larger selection is "all matching this filter".
MAX_CHOSEN_IDS = 500
# The list page shows at most this many unfinished and recently ended runs.
SHOW_UNFINISHED, SHOW_FINISHED = 20, 5


def activation_runs_for_list(request: HttpRequest) -> list[ActivationRun]:
    """The runs the list page's progress panel shows, read per request (they move every second)."""
    return selectors.activation_runs_to_show(
        request.workspace, unfinished=SHOW_UNFINISHED, finished=SHOW_FINISHED
    )


def activation_panel_html(
    request: HttpRequest, query: ContactQuery, runs: list[ActivationRun], **context: Any
) -> str:
    """The list page's progress panel (contacts/_activations.html) for `runs`: with none, the
    hidden panel that static/js/activation.js fills when a run starts in another tab. A cancel
    without JavaScript returns to the list's tidy address."""
    context = {"activation_runs": runs, "activation_back_url": list_url(request.path, query), **context}
    return render_to_string("contacts/_activations.html", context, request=request)


@member_required(can_edit=True)
@require_POST
def activation_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a run over the chosen leads (`contact_ids`), or every lead matching the list's filter
    (`all_matching=1` with its search / status / tag / company); back to that list either way."""
    form = ContactFilterForm(request.POST, workspace=request.workspace)
    form.is_valid()
    query = form.to_query()
    back = redirect(list_url(reverse("contact_list", kwargs={"slug": slug}), query))

    if request.POST.get("all_matching") == "1":
        if form.problems():
            # A filter that no longer applies (a tag deleted meanwhile) would widen the selection.
            messages.error(
                request, f"Nothing was activated: {' '.join(form.problems())} Check the list and try again."
            )
            return back
        chosen: dict[str, Any] = {"query": query}
    else:
        ids = _uuids(request.POST.getlist("contact_ids"))
        if not ids:
            messages.error(request, "Choose the leads to activate first: tick them in the list.")
            return back
        if len(ids) > MAX_CHOSEN_IDS:
            messages.error(
                request,
                f"Choose at most {MAX_CHOSEN_IDS:,} contacts at a time, or use “all matching this filter”.",
            )
            return back
        chosen = {"contact_ids": ids}

    try:
        run = services.activation_start(workspace=request.workspace, by=request.membership, **chosen)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return back
    text = f"Activating {run.total} lead{'s' if run.total != 1 else ''}…"
    left_out = len(chosen.get("contact_ids", ())) - run.total
    if left_out > 0:
        text += f" {left_out} of the chosen {'was' if left_out == 1 else 'were'} not waiting for activation."
    messages.success(request, text)
    return back


@member_required(can_edit=True)
@require_POST
def activation_cancel(request: HttpRequest, slug: str, run_id: UUID) -> HttpResponse:
    """Stop a run. Answers the run's progress as JSON to the panel's script, a redirect otherwise."""
    run = _run_or_404(request, run_id)
    was_finished = run.is_finished
    run = services.activation_cancel(run=run, by=request.membership)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(run_progress(run))
    if was_finished:
        messages.info(request, f"That activation had already ended ({run.get_status_display().lower()}).")
    else:
        messages.success(
            request, f"Cancelled the activation: {run.sent} of {run.total} sent; the others stay leads."
        )
    return redirect(_safe_next(request, slug))


@member_required
@require_GET
@never_cache
def activation_progress(request: HttpRequest, slug: str, run_id: UUID) -> JsonResponse:
    """`{"id", "status", "total", "sent", "failed", "error"}`: what the panel polls while its socket is down."""
    run = _run_or_404(request, run_id)
    return JsonResponse({**run_progress(run), "error": run.error})


def _run_or_404(request: HttpRequest, run_id: UUID) -> ActivationRun:
    run = selectors.activation_run_in(request.workspace, run_id)
    if run is None:
        raise Http404("No activation with this address in this workspace.")
    return run


def _uuids(values: list[str]) -> list[UUID]:
    """The well-formed ids among `values`, in order, once each (a tampered value is simply not chosen)."""
    ids: dict[UUID, None] = {}
    for value in values:
        try:
            ids[UUID(value)] = None
        except ValueError:
            continue
    return list(ids)


def _safe_next(request: HttpRequest, slug: str) -> str:
    """The page the form came from (`next`), if it is one of this workspace's; else the list."""
    target = request.POST.get("next", "")
    workspace_path = reverse("workspace_home", kwargs={"slug": slug})
    if (
        target.startswith(workspace_path)
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        and "\\" not in target
    ):
        return target
    return reverse("contact_list", kwargs={"slug": slug})
