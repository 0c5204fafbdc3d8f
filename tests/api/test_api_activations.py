"""Activation runs over the REST API: start (by ids or by filter), list, follow, cancel, and the walls."""

from __future__ import annotations

import uuid

import pytest

from contacts import services
from contacts.factories import ContactFactory, leads
from contacts.models import ActivationRun, ContactStatus, RunStatus
from contacts.services.activations import MAX_LEADS_PER_RUN, NOTHING_TO_ACTIVATE

RUN_FIELDS = {"id", "status", "total", "sent", "failed", "error", "created_at", "started_at", "finished_at"}


def activations_url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/activations/"


def run_url(run: ActivationRun, suffix: str = "") -> str:
    return f"/api/v1/workspaces/{run.workspace_id}/activations/{run.id}/{suffix}"


def a_run(workspace, membership, count: int = 2) -> ActivationRun:
    return services.activation_start(
        workspace=workspace, by=membership, contact_ids=[c.id for c in leads(workspace, count)]
    )


# --- starting a run ------------------------------------------------------------------------------


def test_start_by_ids_answers_202_with_the_run_and_hands_it_to_a_worker(
    admin_api, workspace, workspace_admin, not_dispatched, django_capture_on_commit_callbacks
):
    chosen = leads(workspace, 3)
    active = ContactFactory(workspace=workspace, status=ContactStatus.ACTIVE)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(
            activations_url(workspace),
            {"contact_ids": [str(chosen[2].id), str(active.id), str(chosen[0].id), str(chosen[1].id)]},
            format="json",
        )

    assert response.status_code == 202
    body = response.json()
    assert set(body) == RUN_FIELDS
    assert body["status"] == "queued"
    assert (body["total"], body["sent"], body["failed"], body["error"]) == (3, 0, 0, "")
    assert body["started_at"] is None and body["finished_at"] is None
    run = ActivationRun.objects.get(pk=body["id"])
    assert run.workspace == workspace and run.created_by == workspace_admin.user
    assert list(run.items.values_list("contact_id", flat=True)) == [chosen[2].id, chosen[0].id, chosen[1].id]
    assert not_dispatched == [body["id"]]


def test_start_by_filter_activates_every_matching_lead_resolved_on_the_server(
    admin_api, workspace, workspace_admin, not_dispatched
):
    initech = leads(workspace, 4, company="Initech")
    leads(workspace, 2, company="Globex")
    ContactFactory(workspace=workspace, company="Initech", status=ContactStatus.ACTIVE)

    response = admin_api.post(activations_url(workspace), {"filter": {"company": "initech"}}, format="json")

    assert response.status_code == 202
    run = ActivationRun.objects.get(pk=response.json()["id"])
    assert run.total == 4
    assert set(run.items.values_list("contact_id", flat=True)) == {c.id for c in initech}


def test_start_by_filter_takes_the_contact_lists_filters(
    admin_api, workspace, workspace_admin, not_dispatched
):
    vip = leads(workspace, 1, tags=["VIP"])[0]
    leads(workspace, 2)

    response = admin_api.post(
        activations_url(workspace),
        {"filter": {"tag": "vip", "status": "lead", "search": "lead"}},
        format="json",
    )

    assert response.status_code == 202
    assert list(
        ActivationRun.objects.get(pk=response.json()["id"]).items.values_list("contact_id", flat=True)
    ) == [vip.id]


def test_an_empty_filter_activates_every_lead_of_the_workspace(
    admin_api, workspace, workspace_admin, foreign_contact, not_dispatched
):
    leads(workspace, 3)

    response = admin_api.post(activations_url(workspace), {"filter": {}}, format="json")

    assert response.status_code == 202
    assert response.json()["total"] == 3


def test_nothing_to_activate_answers_400_with_the_services_message(
    admin_api, workspace, workspace_admin, foreign_contact, not_dispatched
):
    active = ContactFactory(workspace=workspace, status=ContactStatus.ACTIVE)

    by_ids = admin_api.post(
        activations_url(workspace),
        {"contact_ids": [str(active.id), str(foreign_contact.id), str(uuid.uuid4())]},
        format="json",
    )
    by_filter = admin_api.post(activations_url(workspace), {"filter": {"status": "active"}}, format="json")

    for response in (by_ids, by_filter):
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": [NOTHING_TO_ACTIVATE]}
    assert not ActivationRun.objects.exists()
    assert not_dispatched == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            {"contact_ids": ["6f1c1f1e-1d1a-4c4e-9a51-3a1f0e2b7c10"], "filter": {}},
            "non_field_errors",
            id="both",
        ),
        pytest.param({}, "non_field_errors", id="neither"),
        pytest.param({"contact_ids": []}, "contact_ids", id="empty-list"),
        pytest.param({"contact_ids": ["not-a-uuid"]}, "contact_ids", id="not-a-uuid"),
        pytest.param({"contact_ids": [12345]}, "contact_ids", id="a-number"),
        pytest.param({"contact_ids": ["{6f1c1f1e-1d1a-4c4e-9a51-3a1f0e2b7c10}"]}, "contact_ids", id="braces"),
        pytest.param({"contact_ids": "6f1c1f1e-1d1a-4c4e-9a51-3a1f0e2b7c10"}, "contact_ids", id="not-a-list"),
        pytest.param({"filter": {"status": "deleted"}}, "filter", id="bad-status"),
        pytest.param({"filter": {"tag": "<script>"}}, "filter", id="bad-tag"),
        pytest.param({"filter": {"search": "x" * 201}}, "filter", id="long-search"),
        pytest.param({"filter": None}, "filter", id="null-filter"),
        pytest.param({"filter": "vip"}, "filter", id="filter-not-an-object"),
        pytest.param(["6f1c1f1e-1d1a-4c4e-9a51-3a1f0e2b7c10"], "non_field_errors", id="body-not-an-object"),
    ],
)
def test_bad_bodies_answer_400_naming_what_to_fix(
    admin_api, workspace, workspace_admin, not_dispatched, body, field
):
    leads(workspace, 1)

    response = admin_api.post(activations_url(workspace), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not ActivationRun.objects.exists()


def test_giving_both_or_neither_says_to_give_one(admin_api, workspace, workspace_admin):
    both = admin_api.post(
        activations_url(workspace), {"contact_ids": [str(uuid.uuid4())], "filter": {}}, format="json"
    )
    neither = admin_api.post(activations_url(workspace), {"contact_id": [str(uuid.uuid4())]}, format="json")

    for response in (both, neither):
        message = response.json()["non_field_errors"][0]
        assert "contact_ids" in message and "filter" in message


def test_more_ids_than_one_run_takes_answer_400(admin_api, workspace, workspace_admin, not_dispatched):
    ids = [str(uuid.uuid4()) for _ in range(MAX_LEADS_PER_RUN + 1)]

    response = admin_api.post(activations_url(workspace), {"contact_ids": ids}, format="json")

    assert response.status_code == 400
    assert response.json()["contact_ids"] == [
        f"Ensure this field has no more than {MAX_LEADS_PER_RUN} elements."
    ]
    assert not ActivationRun.objects.exists()


def test_a_viewer_cannot_start_a_run(viewer_api, workspace, workspace_admin, not_dispatched):
    chosen = leads(workspace, 1)

    response = viewer_api.post(
        activations_url(workspace), {"contact_ids": [str(chosen[0].id)]}, format="json"
    )

    assert response.status_code == 403
    assert not ActivationRun.objects.exists()


def test_another_workspace_answers_404(admin_api, other_workspace, workspace_admin, not_dispatched):
    leads(other_workspace, 1)

    response = admin_api.post(activations_url(other_workspace), {"filter": {}}, format="json")

    assert response.status_code == 404
    assert not ActivationRun.objects.exists()


# --- list and progress ---------------------------------------------------------------------------


def test_list_shows_the_workspaces_runs_newest_first_paginated(
    admin_api, workspace, workspace_admin, other_workspace, outsider, not_dispatched
):
    first, second, third = (a_run(workspace, workspace_admin) for _ in range(3))
    a_run(other_workspace, outsider)

    response = admin_api.get(activations_url(workspace), {"page_size": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [run["id"] for run in body["results"]] == [str(third.id), str(second.id)]
    assert set(body["results"][0]) == RUN_FIELDS
    assert body["next"].endswith("page=2&page_size=2") and body["previous"] is None
    rest = admin_api.get(body["next"]).json()
    assert [run["id"] for run in rest["results"]] == [str(first.id)]


def test_a_viewer_can_read_runs(viewer_api, workspace, workspace_admin, not_dispatched):
    run = a_run(workspace, workspace_admin)

    assert viewer_api.get(activations_url(workspace)).json()["count"] == 1
    assert viewer_api.get(run_url(run)).status_code == 200


def test_bad_list_query_answers_400(admin_api, workspace, workspace_admin):
    response = admin_api.get(activations_url(workspace), {"page_size": "500"})

    assert response.status_code == 400
    assert "page_size" in response.json()


def test_progress_shows_how_far_the_run_got(admin_api, workspace, workspace_admin, not_dispatched):
    run = a_run(workspace, workspace_admin, count=5)
    ActivationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, sent=3, failed=1)

    response = admin_api.get(run_url(run))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(run.id)
    assert (body["status"], body["total"], body["sent"], body["failed"]) == ("running", 5, 3, 1)


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_stops_the_run_and_answers_200_with_it(admin_api, workspace, workspace_admin, not_dispatched):
    run = a_run(workspace, workspace_admin)

    response = admin_api.post(run_url(run, "cancel/"))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(run.id) and body["status"] == "cancelled" and body["finished_at"]
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_cancelling_a_finished_run_changes_nothing(admin_api, workspace, workspace_admin, not_dispatched):
    run = a_run(workspace, workspace_admin)
    ActivationRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED)

    response = admin_api.post(run_url(run, "cancel/"))

    assert response.status_code == 200
    assert response.json()["status"] == "completed"


def test_a_viewer_cannot_cancel(viewer_api, workspace, workspace_admin, not_dispatched):
    run = a_run(workspace, workspace_admin)

    response = viewer_api.post(run_url(run, "cancel/"))

    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED


def test_a_member_may_read_runs_but_not_start_or_cancel_them(
    member_api, workspace, workspace_admin, not_dispatched
):
    """Members edit contacts; e-mailing leads in bulk is for the workspace's admins and owners."""
    run = a_run(workspace, workspace_admin)
    lead = leads(workspace, 1)[0]

    started = member_api.post(activations_url(workspace), {"contact_ids": [str(lead.id)]}, format="json")
    cancelled = member_api.post(run_url(run, "cancel/"))

    assert started.status_code == 403 and "(member) cannot do this" in started.json()["detail"]
    assert cancelled.status_code == 403
    assert member_api.get(run_url(run)).status_code == 200
    assert ActivationRun.objects.get().status == RunStatus.QUEUED


# --- workspace walls -----------------------------------------------------------------------------


def test_another_workspaces_run_is_not_found_through_mine(
    admin_api, workspace, workspace_admin, other_workspace, outsider, not_dispatched
):
    foreign = a_run(other_workspace, outsider)
    through_mine = f"/api/v1/workspaces/{workspace.id}/activations/{foreign.id}/"

    assert admin_api.get(through_mine).status_code == 404
    assert admin_api.post(through_mine + "cancel/").status_code == 404
    assert admin_api.get(run_url(foreign)).status_code == 404  # not an admin there either
    assert admin_api.post(run_url(foreign, "cancel/")).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == RunStatus.QUEUED


@pytest.mark.parametrize("run_id", ["not-a-uuid", "12345", str(uuid.uuid4())])
def test_a_bad_or_unknown_run_id_answers_404(admin_api, workspace, workspace_admin, run_id):
    url = f"{activations_url(workspace)}{run_id}/"

    assert admin_api.get(url).status_code == 404
    assert admin_api.post(url + "cancel/").status_code == 404


def test_without_credentials_answers_401(anonymous_api, workspace):
    assert anonymous_api.get(activations_url(workspace)).status_code == 401
    assert anonymous_api.post(activations_url(workspace), {"filter": {}}, format="json").status_code == 401
