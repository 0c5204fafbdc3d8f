"""Activation pages: starting a run from the list's selection (ids, or all matching a filter),
cancelling it, its progress JSON, and what the list page shows of them (checkboxes, the panel).

Runs are not sent to a worker here (`not_dispatched`); the engine is tested in test_activation.py
and the whole thing in a browser in tests/e2e/test_activation_progress.py.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts import services
from contacts.factories import ContactFactory, leads
from contacts.models import ActivationRun, Contact, RunStatus

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true", "HX-Target": "results"}


def start_url(workspace) -> str:
    return reverse("activation_start", kwargs={"slug": workspace.slug})


def cancel_url(run) -> str:
    return reverse("activation_cancel", kwargs={"slug": run.workspace.slug, "run_id": run.id})


def progress_url(run, workspace=None) -> str:
    slug = (workspace or run.workspace).slug
    return reverse("activation_progress", kwargs={"slug": slug, "run_id": run.id})


def list_url(workspace) -> str:
    return reverse("contact_list", kwargs={"slug": workspace.slug})


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def messages_after(client: Client, response) -> list[str]:
    """The messages the redirect target shows."""
    page = client.get(response["Location"])
    return re.findall(r'<p class="message message--\w+">([^<]*)</p>', page.text)


# --- Starting ------------------------------------------------------------------------------------


def test_starting_with_chosen_ids_activates_those_leads_and_goes_back_to_the_list(
    workspace_admin_client, workspace, not_dispatched
):
    chosen = leads(workspace, 2)
    active = ContactFactory(workspace=workspace, status="active", email="active@example.com")

    response = workspace_admin_client.post(
        start_url(workspace),
        {
            "contact_ids": [str(chosen[1].id), str(active.id), str(chosen[0].id)],
            "search": "lead",
            "page": "1",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"{list_url(workspace)}?search=lead"
    run = ActivationRun.objects.get()
    assert (run.workspace, run.status, run.total) == (workspace, RunStatus.QUEUED, 2)
    assert list(run.items.values_list("contact_id", flat=True)) == [chosen[1].id, chosen[0].id]
    assert not_dispatched == [str(run.id)]
    assert messages_after(workspace_admin_client, response) == [
        "Activating 2 leads… 1 of the chosen was not waiting for activation."
    ]


def test_all_matching_a_filter_is_resolved_on_the_server_not_from_ids(
    workspace_admin_client, workspace, not_dispatched
):
    initech = leads(workspace, 4, company="Initech")
    globex = leads(workspace, 2, company="Globex")
    ContactFactory(workspace=workspace, company="Initech", status="active", email="on@example.com")

    response = workspace_admin_client.post(
        start_url(workspace),
        # A stray id of another company is not what "all matching" means: it is ignored.
        {"all_matching": "1", "company": "Initech", "sort": "-created", "contact_ids": [str(globex[0].id)]},
    )

    run = ActivationRun.objects.get()
    matching_leads = Contact.objects.filter(workspace=workspace, company="Initech", status="lead").count()
    assert run.total == matching_leads == 4
    assert set(run.items.values_list("contact_id", flat=True)) == {c.id for c in initech}
    assert response["Location"] == f"{list_url(workspace)}?company=Initech&sort=-created"
    assert messages_after(workspace_admin_client, response) == ["Activating 4 leads…"]


def test_all_matching_with_a_filter_that_no_longer_applies_activates_nothing(
    workspace_admin_client, workspace, not_dispatched
):
    leads(workspace, 3)

    response = workspace_admin_client.post(
        start_url(workspace), {"all_matching": "1", "tag": "deleted-meanwhile"}
    )

    assert response.status_code == 302
    assert not ActivationRun.objects.exists()
    [message] = messages_after(workspace_admin_client, response)
    assert message.startswith("Nothing was activated: There is no tag")


def test_nothing_to_activate_is_said_on_the_list_not_a_500(workspace_admin_client, workspace, not_dispatched):
    active = ContactFactory(workspace=workspace, status="active", email="active@example.com")

    response = workspace_admin_client.post(
        start_url(workspace), {"contact_ids": [str(active.id)], "status": "active"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{list_url(workspace)}?status=active"
    assert not ActivationRun.objects.exists()
    assert messages_after(workspace_admin_client, response) == [
        "None of the chosen contacts is a lead waiting for activation."
    ]
    assert not_dispatched == []


@pytest.mark.parametrize(
    "data",
    [{}, {"contact_ids": ["not-a-uuid", "\x00"]}, {"all_matching": "0"}],
    ids=["nothing", "tampered ids", "all_matching off"],
)
def test_no_choice_at_all_asks_to_tick_leads(workspace_admin_client, workspace, not_dispatched, data):
    leads(workspace, 1)

    response = workspace_admin_client.post(start_url(workspace), data)

    assert response.status_code == 302
    assert not ActivationRun.objects.exists()
    assert messages_after(workspace_admin_client, response) == [
        "Choose the leads to activate first: tick them in the list."
    ]


def test_another_workspaces_contacts_are_not_activated(
    workspace_admin_client, workspace, foreign_contact, not_dispatched
):
    Contact.objects.filter(pk=foreign_contact.pk).update(status="lead")

    response = workspace_admin_client.post(start_url(workspace), {"contact_ids": [str(foreign_contact.id)]})

    assert not ActivationRun.objects.exists()
    assert messages_after(workspace_admin_client, response) == [
        "None of the chosen contacts is a lead waiting for activation."
    ]


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_viewers_and_members_may_not_start_or_cancel(
    client, workspace, workspace_admin, not_dispatched, role, request
):
    """Members edit contacts; e-mailing leads in bulk is for the workspace's admins and owners."""
    client.force_login(request.getfixturevalue(role).user)
    chosen = leads(workspace, 1)
    run = services.activation_start(workspace=workspace, by=workspace_admin, contact_ids=[chosen[0].id])

    refused = client.post(start_url(workspace), {"contact_ids": [str(chosen[0].id)]})
    assert refused.status_code == 403
    assert client.post(start_url(workspace), {"all_matching": "1"}).status_code == 403
    assert client.post(cancel_url(run)).status_code == 403
    assert ActivationRun.objects.get().status == RunStatus.QUEUED


def test_outsiders_and_signed_out_visitors_get_nothing(
    client, workspace, outsider, workspace_admin, not_dispatched
):
    run = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[leads(workspace, 1)[0].id]
    )

    signed_out = client.post(start_url(workspace), {"all_matching": "1"})
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/accounts/login/")
    client.force_login(outsider.user)
    assert client.post(start_url(workspace), {"all_matching": "1"}).status_code == 404
    assert client.get(progress_url(run)).status_code == 404
    assert ActivationRun.objects.count() == 1


def test_starting_needs_a_post_with_a_csrf_token(workspace_admin, workspace, not_dispatched):
    chosen = leads(workspace, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(workspace_admin.user)

    assert client.get(start_url(workspace)).status_code == 405
    assert client.post(start_url(workspace), {"contact_ids": [str(chosen[0].id)]}).status_code == 403
    assert not ActivationRun.objects.exists()


def test_too_many_ids_are_refused_with_a_message(workspace_admin_client, workspace, not_dispatched):
    response = workspace_admin_client.post(
        start_url(workspace), {"contact_ids": [str(uuid.uuid4()) for _ in range(501)]}
    )

    assert not ActivationRun.objects.exists()
    assert messages_after(workspace_admin_client, response) == [
        "Choose at most 500 contacts at a time, or use “all matching this filter”."
    ]


# --- Cancelling ----------------------------------------------------------------------------------


@pytest.fixture
def run(workspace, workspace_admin, not_dispatched) -> ActivationRun:
    return services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in leads(workspace, 3)]
    )


def test_cancel_stops_the_run_and_goes_back_where_the_user_was(workspace_admin_client, workspace, run):
    came_from = f"{list_url(workspace)}?search=lead&page=2"

    response = workspace_admin_client.post(cancel_url(run), {"next": came_from})

    assert response.status_code == 302
    assert response["Location"] == came_from
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.finished_at is not None
    assert messages_after(workspace_admin_client, response) == [
        "Cancelled the activation: 0 of 3 sent; the others stay leads."
    ]


def test_cancel_answers_json_to_the_panels_script(workspace_admin_client, run):
    response = workspace_admin_client.post(cancel_url(run), HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == {"id": str(run.id), "status": "cancelled", "total": 3, "sent": 0, "failed": 0}


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/w/acme-sales/", "/w/globex-buying/contacts/", "", "/\\evil"],
)
def test_cancel_never_redirects_off_the_workspace(workspace_admin_client, workspace, run, next_url):
    response = workspace_admin_client.post(cancel_url(run), {"next": next_url})

    assert response["Location"] == list_url(workspace)


def test_cancelling_an_ended_run_changes_nothing(workspace_admin_client, run):
    ActivationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED, sent=3, finished_at=timezone.now()
    )

    response = workspace_admin_client.post(cancel_url(run))

    assert ActivationRun.objects.get(pk=run.pk).status == RunStatus.COMPLETED
    assert messages_after(workspace_admin_client, response) == [
        "That activation had already ended (completed)."
    ]


def test_another_workspaces_run_is_not_found(client, workspace, other_workspace, outsider, run):
    client.force_login(outsider.user)

    # Through the outsider's own workspace address: the run is simply not there.
    own_cancel = reverse("activation_cancel", kwargs={"slug": other_workspace.slug, "run_id": run.id})
    assert client.post(own_cancel).status_code == 404
    assert client.get(progress_url(run, workspace=other_workspace)).status_code == 404
    assert ActivationRun.objects.get(pk=run.pk).status == RunStatus.QUEUED


# --- Progress ------------------------------------------------------------------------------------


def test_progress_is_the_runs_figures_as_json_for_every_member(viewer_client, run):
    ActivationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, sent=2, failed=1)

    response = viewer_client.get(progress_url(run))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert response.json() == {
        "id": str(run.id),
        "status": "running",
        "total": 3,
        "sent": 2,
        "failed": 1,
        "error": "",
    }
    assert viewer_client.post(progress_url(run)).status_code == 405


# --- The list page ---------------------------------------------------------------------------------


def test_admins_get_a_checkbox_per_row_and_the_activation_form(
    workspace_admin_client, workspace, not_dispatched
):
    chosen = leads(workspace, 2)

    page = workspace_admin_client.get(list_url(workspace)).text

    assert page.count('name="contact_ids"') == 2
    for contact in chosen:
        assert f'value="{contact.id}" form="activate-form"' in page
        assert f'aria-label="Select {contact.full_name}"' in page
    assert 'aria-label="Select all contacts on this page"' in page
    assert 'id="activate-form"' in page and 'name="csrfmiddlewaretoken"' in page
    assert "js/activation.js" in page


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_viewers_and_members_get_no_checkboxes_nor_form(
    client, workspace, workspace_admin, not_dispatched, role, request
):
    chosen = leads(workspace, 2)
    services.activation_start(workspace=workspace, by=workspace_admin, contact_ids=[chosen[0].id])
    client.force_login(request.getfixturevalue(role).user)

    page = client.get(list_url(workspace)).text

    assert "contact_ids" not in page and "activate-form" not in page
    assert "data-activation-run=" in page  # they do see the progress
    assert "data-activation-cancel" not in page


def test_the_cached_rows_hold_nothing_of_one_user(workspace_admin_client, workspace, not_dispatched):
    leads(workspace, 2)

    fragment = workspace_admin_client.get(list_url(workspace), {"search": "lead"}, headers=HTMX).text

    assert 'name="contact_ids"' in fragment
    assert 'name="search" value="lead" form="activate-form"' in fragment
    assert "csrfmiddlewaretoken" not in fragment and "data-activation-run" not in fragment


def test_the_panel_shows_unfinished_and_recently_ended_runs(
    workspace_admin_client, workspace, workspace_admin, not_dispatched
):
    chosen = leads(workspace, 6)
    running = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in chosen[:4]]
    )
    ActivationRun.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING, sent=2, failed=1)
    done = services.activation_start(workspace=workspace, by=workspace_admin, contact_ids=[chosen[4].id])
    ActivationRun.objects.filter(pk=done.pk).update(
        status=RunStatus.COMPLETED, sent=1, finished_at=timezone.now()
    )
    old = services.activation_start(workspace=workspace, by=workspace_admin, contact_ids=[chosen[5].id])
    ActivationRun.objects.filter(pk=old.pk).update(
        status=RunStatus.COMPLETED, sent=1, finished_at=timezone.now() - timedelta(hours=1)
    )

    page = workspace_admin_client.get(list_url(workspace), {"status": "lead", "sort": "nonsense"}).text

    # Unfinished first, then the recently ended; the hour-old one no longer.
    assert page.index(f'data-activation-run="{running.id}"') < page.index(f'data-activation-run="{done.id}"')
    assert (
        f'data-activation-run="{running.id}" data-activation-status="running" data-activation-sent="2" '
        'data-activation-failed="1" data-activation-total="4"'
    ) in page
    assert '<progress class="activation__bar" max="4" value="3"' in page
    assert f'data-activation-run="{done.id}" data-activation-status="completed"' in page
    assert "Completed: 1 sent, 0 failed" in page
    assert f'data-activation-run="{old.id}"' not in page
    assert reverse("activation_cancel", kwargs={"slug": workspace.slug, "run_id": running.id}) in page
    # A cancel without JavaScript comes back to the list's tidy address (the bad sort left out).
    assert f'name="next" value="{list_url(workspace)}?status=lead"' in page
    assert "nonsense" not in page.replace("Contacts cannot be sorted by “nonsense”", "")


def test_no_runs_no_panel(workspace_admin_client, workspace):
    page = workspace_admin_client.get(list_url(workspace)).text

    assert '<section class="activations"' in page and "data-activations-url" in page
    assert re.search(r'<section class="activations"[^>]* hidden>', page)
