"""Activation runs in the Django admin: read-only pages, and the three actions (activate selected leads,
resume unfinished runs, retry failed items), which start runs through the services only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from contacts import services
from contacts.factories import ContactFactory, leads
from contacts.models import ActivationItem, ActivationRun, Contact, ContactStatus, ItemStatus, RunStatus
from contacts.services.activations import NOTHING_TO_ACTIVATE


def admin_url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def act(client, model, action: str, objects) -> list[str]:
    """Run an admin action on the objects; the messages it left."""
    response = client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [str(obj.pk) for obj in objects]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def failed_run(workspace, workspace_admin, not_dispatched):
    """A finished run whose first two items failed (their contacts still leads) and third was sent."""
    contacts = leads(workspace, 3)
    run = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in contacts]
    )
    items = list(run.items.order_by("position"))
    for item in items[:2]:
        ActivationItem.objects.filter(pk=item.pk).update(
            status=ItemStatus.FAILED, error="The mail server refused the address: 550 No such user"
        )
    ActivationItem.objects.filter(pk=items[2].pk).update(status=ItemStatus.SENT)
    Contact.objects.filter(pk=contacts[2].pk).update(status=ContactStatus.ACTIVE)
    ActivationRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED, sent=1, failed=2)
    run.refresh_from_db()
    return run


# --- the pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "action"),
    [(ActivationRun, "resume_runs"), (ActivationItem, "retry_items"), (Contact, "activate_leads")],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_changelist_and_view_pages_load_for_a_superuser_with_the_action(
    admin_client, failed_run, model, action
):
    obj = {ActivationRun: failed_run, ActivationItem: failed_run.items.first()}.get(
        model
    ) or Contact.objects.first()

    changelist = admin_client.get(admin_url(model, "changelist"))

    assert changelist.status_code == 200
    assert f'value="{action}"' in changelist.text
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200


def test_runs_and_items_are_read_only_in_the_admin(admin_client, failed_run):
    item = failed_run.items.first()

    assert admin_client.get(admin_url(ActivationRun, "add")).status_code == 403
    assert admin_client.get(admin_url(ActivationItem, "add")).status_code == 403
    assert admin_client.get(admin_url(ActivationRun, "delete", failed_run.pk)).status_code == 403
    response = admin_client.post(admin_url(ActivationRun, "change", failed_run.pk), {"status": "queued"})
    assert response.status_code == 403
    failed_run.refresh_from_db()
    item.refresh_from_db()
    assert failed_run.status == RunStatus.COMPLETED and item.status == ItemStatus.FAILED


def test_run_list_shows_counts_and_filters_by_status_and_workspace(
    admin_client, failed_run, other_workspace, outsider, not_dispatched
):
    foreign = services.activation_start(
        workspace=other_workspace, by=outsider, contact_ids=[c.id for c in leads(other_workspace, 1)]
    )

    everything = admin_client.get(admin_url(ActivationRun, "changelist"))
    completed = admin_client.get(admin_url(ActivationRun, "changelist"), {"status__exact": "completed"})
    theirs = admin_client.get(
        admin_url(ActivationRun, "changelist"), {"workspace__id__exact": str(other_workspace.pk)}
    )

    assert {run.pk for run in everything.context["cl"].result_list} == {failed_run.pk, foreign.pk}
    assert [run.pk for run in completed.context["cl"].result_list] == [failed_run.pk]
    assert [run.pk for run in theirs.context["cl"].result_list] == [foreign.pk]
    assert '<td class="field-failed">2</td>' in completed.text


def test_the_run_page_links_to_its_failed_items_which_show_why(admin_client, failed_run):
    page = admin_client.get(admin_url(ActivationRun, "change", failed_run.pk))
    failed_items_url = (
        f"{admin_url(ActivationItem, 'changelist')}?run={failed_run.pk}&amp;status__exact=failed"
    )
    assert failed_items_url in page.text

    items = admin_client.get(
        admin_url(ActivationItem, "changelist"), {"run": str(failed_run.pk), "status__exact": "failed"}
    )

    assert items.status_code == 200
    assert [item.position for item in items.context["cl"].result_list] == [0, 1]
    assert "550 No such user" in items.text


def test_an_unknown_run_in_the_item_filter_lists_nothing(admin_client, failed_run):
    response = admin_client.get(admin_url(ActivationItem, "changelist"), {"run": "not-a-run"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


# --- "Activate selected leads" on contacts -------------------------------------------------------


def test_activate_selected_leads_starts_one_run_per_workspace_through_the_service(
    admin_client, admin_user, workspace, other_workspace, not_dispatched, django_capture_on_commit_callbacks
):
    mine = leads(workspace, 2)
    active = ContactFactory(workspace=workspace, status=ContactStatus.ACTIVE)
    theirs = leads(other_workspace, 1)

    with django_capture_on_commit_callbacks(execute=True):
        notes = act(admin_client, Contact, "activate_leads", [*mine, active, *theirs])

    assert notes == ["Started 2 activation run(s) for 3 lead(s)."]
    runs = {run.workspace_id: run for run in ActivationRun.objects.all()}
    assert set(runs) == {workspace.pk, other_workspace.pk}
    assert set(runs[workspace.pk].items.values_list("contact_id", flat=True)) == {c.id for c in mine}
    assert runs[workspace.pk].created_by == admin_user
    assert sorted(not_dispatched) == sorted(str(run.pk) for run in runs.values())


def test_activate_selected_leads_reports_the_services_refusal(admin_client, workspace, not_dispatched):
    active = ContactFactory(workspace=workspace, status=ContactStatus.ACTIVE)

    notes = act(admin_client, Contact, "activate_leads", [active])

    assert notes == [f"{workspace}: {NOTHING_TO_ACTIVATE}"]
    assert not ActivationRun.objects.exists()


# --- "Resume selected unfinished runs" -----------------------------------------------------------


def test_resume_hands_unfinished_runs_to_a_worker_and_leaves_finished_ones(
    admin_client, workspace, workspace_admin, failed_run, not_dispatched
):
    queued = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[leads(workspace, 1)[0].id]
    )
    running = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[leads(workspace, 1)[0].id]
    )
    ActivationRun.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING)
    not_dispatched.clear()

    notes = act(admin_client, ActivationRun, "resume_runs", [queued, running, failed_run])

    assert sorted(not_dispatched) == sorted([str(queued.pk), str(running.pk)])
    assert notes == ["Resumed 2 unfinished run(s). Left out 1 finished run(s)."]


def test_resume_says_so_when_the_task_queue_cannot_be_reached(
    admin_client, workspace, workspace_admin, not_dispatched, monkeypatch
):
    run = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[leads(workspace, 1)[0].id]
    )

    def broker_down(run_id: str) -> None:
        raise ConnectionError("Connection refused")

    monkeypatch.setattr("contacts.tasks.activation_run.delay", broker_down)

    notes = act(admin_client, ActivationRun, "resume_runs", [run])

    assert "Could not reach the task queue (ConnectionError: Connection refused)" in notes[0]
    assert notes[-1] == "Resumed 0 unfinished run(s)."


# --- "Retry: activate these contacts again" on failed items ---------------------------------------


def test_retry_starts_a_new_run_over_the_failed_items_contacts(
    admin_client, admin_user, failed_run, not_dispatched, django_capture_on_commit_callbacks
):
    items = list(failed_run.items.order_by("position"))
    not_dispatched.clear()

    with django_capture_on_commit_callbacks(execute=True):
        notes = act(admin_client, ActivationItem, "retry_items", items)

    retry = ActivationRun.objects.exclude(pk=failed_run.pk).get()
    assert list(retry.items.values_list("contact_id", flat=True)) == [
        items[0].contact_id,
        items[1].contact_id,
    ]
    assert retry.workspace_id == failed_run.workspace_id and retry.created_by == admin_user
    assert not_dispatched == [str(retry.pk)]
    assert notes == [
        "Left out 1 item(s) that did not fail or whose contact was deleted.",
        "Started 1 activation run(s) for 2 lead(s).",
    ]


def test_retry_reports_the_services_refusal(admin_client, failed_run, workspace, not_dispatched):
    items = list(failed_run.items.filter(status=ItemStatus.FAILED))
    Contact.objects.filter(pk__in=[item.contact_id for item in items]).update(status=ContactStatus.ARCHIVED)

    notes = act(admin_client, ActivationItem, "retry_items", items)

    assert notes == [f"{workspace}: {NOTHING_TO_ACTIVATE}"]
    assert ActivationRun.objects.count() == 1


def test_staff_without_the_permission_are_not_offered_the_actions(client, failed_run, django_user_model):
    staff = django_user_model.objects.create_user("stu-staff", password="x", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_activationrun", "view_activationitem", "view_contact"])
    )
    client.force_login(staff)

    for model, action in [
        (ActivationRun, "resume_runs"),
        (ActivationItem, "retry_items"),
        (Contact, "activate_leads"),
    ]:
        response = client.get(admin_url(model, "changelist"))
        assert response.status_code == 200
        assert f'value="{action}"' not in response.text
