"""Compile-check scenarios for contacts.services (see scenarios.py)."""

from __future__ import annotations

from uuid import UUID

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from contacts import events, services
from contacts.dbengine import activation_record
from contacts.jobs import outbox
from contacts.models import ActivationItem, ActivationRun, Activity, ApiToken, Job, Role
from contacts.services import ContactData, common
from tests.mongodb.scenarios import (
    CONTACT_TAGS,
    CONTACTS,
    MEMBERSHIPS,
    TAGS,
    WORKSPACES,
    World,
    conditions,
    inserted,
    mentions,
    scenario,
)

APITOKENS = ApiToken._meta.db_table


def _events(w: World) -> list[tuple[events.ChangeKind, object]]:
    """The contact events the writes asked to run after commit: (kind, contact id)."""
    return [
        (call.keywords["kind"], call.keywords["contact_id"])
        for call in w.after_commit
        if call.func is events.contact_changed
    ]


def _bumped_version(w: World) -> bool:
    return any(
        op.args[0] == {"_id": w.workspace.id.hex} and "change_version" in str(op.args[1])
        for op in w.db.ops("update_many", WORKSPACES)
    )


# --- workspaces and members ------------------------------------------------------------------------


@scenario(services.workspace_create)
def workspace_create_adds_the_owner(w: World) -> None:
    workspace = services.workspace_create(name="Initech Ops", slug="initech-ops", owner=w.outsider)

    (document,) = inserted(w, WORKSPACES)
    assert document["_id"] == workspace.id.hex and document["slug"] == "initech-ops"
    (membership,) = inserted(w, MEMBERSHIPS)
    assert membership["role"] == Role.OWNER and membership["user_id"] == w.outsider.pk


@scenario(services.workspace_create, common.unique_race_as_validation_error)
def workspace_create_refuses_a_taken_slug(w: World) -> None:
    with pytest.raises(ValidationError, match="slug"):
        services.workspace_create(name="Copycat", slug="acme-sales", owner=w.outsider)

    assert not w.db.ops("insert_many")


@scenario(services.membership_set)
def membership_set_adds_a_member(w: World) -> None:
    membership = services.membership_set(workspace=w.workspace, user=w.outsider, role=Role.VIEWER)

    assert membership.role == Role.VIEWER
    (document,) = inserted(w, MEMBERSHIPS)
    assert document["workspace_id"] == w.workspace.id.hex and document["user_id"] == w.outsider.pk


@scenario(services.membership_set)
def membership_set_changes_a_role(w: World) -> None:
    services.membership_set(workspace=w.workspace, user=w.viewer.user, role=Role.ADMIN)

    assert not inserted(w, MEMBERSHIPS)
    (update,) = w.db.ops("update_many", MEMBERSHIPS)
    assert update.args == ({"_id": w.viewer.id.hex}, [{"$set": {"role": {"$literal": Role.ADMIN}}}])


# --- contacts ------------------------------------------------------------------------------------


@scenario(services.contact_create)
def contact_create_with_tags(w: World) -> None:
    data = ContactData(
        first_name=" New ", last_name="Person", email="New.Person@Example.COM", tags=["VIP", "Partner"]
    )

    contact = services.contact_create(workspace=w.workspace, by=w.member, data=data)

    (document,) = inserted(w, CONTACTS)
    assert document["_id"] == contact.id.hex and document["workspace_id"] == w.workspace.id.hex
    assert (document["first_name"], document["email"]) == ("New", "new.person@example.com")
    assert [doc["name"] for doc in inserted(w, TAGS)] == ["partner"], "the existing 'vip' tag is reused"
    assert {doc["tag_id"] for doc in inserted(w, CONTACT_TAGS)} == {w.tag.id.hex, inserted(w, TAGS)[0]["_id"]}
    assert _bumped_version(w)
    assert _events(w) == [(events.ChangeKind.CREATED, contact.id)]
    (job,) = inserted(w, Job._meta.db_table)
    assert (job["kind"], job["subject_id"], job["workspace_id"]) == (
        "contact_created",
        contact.id.hex,
        w.workspace.id.hex,
    )
    dispatched = [str(call.args[0]) for call in w.after_commit if call.func is outbox.dispatch]
    assert dispatched == [str(UUID(job["_id"]))], "the job goes to a worker after commit"


@scenario(services.contact_create)
def contact_create_refuses_a_duplicate_email(w: World) -> None:
    data = ContactData(first_name="Copy", email="ANNABEL.Leeds@example.com")

    with pytest.raises(ValidationError, match="already has this e-mail"):
        services.contact_create(workspace=w.workspace, by=w.member, data=data)

    assert not w.db.ops("insert_many") and not w.after_commit


@scenario(services.contact_create, services.require_role)
def contact_create_refuses_a_viewer(w: World) -> None:
    with pytest.raises(PermissionDenied):
        services.contact_create(workspace=w.workspace, by=w.viewer, data=ContactData(first_name="X"))

    services.require_role(w.member, Role.MEMBER)
    assert not w.db.operations and not w.after_commit


@scenario(services.contact_update)
def contact_update_fields_and_tags(w: World) -> None:
    data = ContactData(company="Globex", tags=["partner"])

    contact = services.contact_update(contact=w.contact, by=w.member, data=data)

    (update,) = w.db.ops("update_many", CONTACTS)
    # By primary key *and* the version read: a contact deleted or changed meanwhile matches nothing.
    assert conditions(update.args[0]) == [{"_id": w.contact.id.hex}, {"version": 1}]
    assert update.args[1][0]["$set"]["company"] == {"$literal": "Globex"}
    assert update.args[1][0]["$set"]["version"] == {"$literal": 2} and contact.version == 2
    assert not inserted(w, CONTACTS), "an edit never inserts"
    (unlink,) = w.db.ops("delete_many", CONTACT_TAGS)
    assert unlink.args[0] == {
        "$and": [{"contact_id": w.contact.id.hex}, {"tag_id": {"$in": (w.tag.id.hex,)}}]
    }
    assert [doc["name"] for doc in inserted(w, TAGS)] == ["partner"]
    assert _bumped_version(w)
    assert _events(w) == [(events.ChangeKind.UPDATED, w.contact.id)]


@scenario(services.contact_update)
def contact_update_of_a_deleted_contact_writes_nothing(w: World) -> None:
    w.db.documents[CONTACTS] = [doc for doc in w.db.documents[CONTACTS] if doc["_id"] != w.contact.id.hex]

    with pytest.raises(services.ContactGone):
        services.contact_update(contact=w.contact, by=w.member, data=ContactData(company="Globex"))

    assert not w.db.ops("insert_many") and not w.db.ops("update_many") and not w.after_commit


@scenario(services.contact_update)
def contact_update_with_a_stale_version_is_refused(w: World) -> None:
    with pytest.raises(services.StaleVersionError):
        services.contact_update(contact=w.contact, by=w.member, data=ContactData(company="X"), if_version=7)

    assert not w.db.ops("update_many") and not w.after_commit


@scenario(services.contact_set_tags)
def contact_set_tags_to_none(w: World) -> None:
    services.contact_set_tags(contact=w.contact, by=w.member, tag_names=[])

    assert len(w.db.ops("delete_many", CONTACT_TAGS)) == 1
    assert not inserted(w, CONTACT_TAGS)
    assert _events(w) == [(events.ChangeKind.UPDATED, w.contact.id)]


@scenario(services.contact_change_tags)
def contact_change_tags_adds_and_removes_by_name(w: World) -> None:
    services.contact_change_tags(contact=w.contact, by=w.member, add=["Partner"], remove=["VIP"])

    (unlink,) = w.db.ops("delete_many", CONTACT_TAGS)
    assert mentions(unlink.args[0], "contact_id", w.contact.id.hex)
    assert [doc["name"] for doc in inserted(w, TAGS)] == ["partner"]
    (link,) = inserted(w, CONTACT_TAGS)
    assert link["contact_id"] == w.contact.id.hex
    assert _events(w) == [(events.ChangeKind.UPDATED, w.contact.id)]


@scenario(services.contact_delete)
def contact_delete_removes_links_then_contact(w: World) -> None:
    contact_id = w.contact.id

    services.contact_delete(contact=w.contact, by=w.member)

    deletes = w.db.ops("delete_many")
    assert {op.collection for op in deletes} == {CONTACT_TAGS, Activity._meta.db_table, CONTACTS}
    # Activation items keep their record of what was sent; only the link to the contact goes.
    assert {op.collection for op in w.db.ops("update_many")} >= {ITEMS}
    for op in deletes:
        assert "." not in str(list(op.args[0])), f"a delete must not reach into another collection: {op}"
    assert contact_id.hex in str(w.db.ops("delete_many", CONTACTS)[0].args)
    assert _bumped_version(w)
    assert _events(w) == [(events.ChangeKind.DELETED, contact_id)]


@scenario(services.contact_delete)
def contact_delete_with_if_match_deletes_only_that_version(w: World) -> None:
    services.contact_delete(contact=w.contact, by=w.member, if_version=1)

    (claim,) = w.db.ops("update_many", CONTACTS)
    assert conditions(claim.args[0]) == [{"_id": w.contact.id.hex}, {"version": 1}]
    assert len(w.db.ops("delete_many", CONTACTS)) == 1


@scenario(services.contact_delete)
def contact_delete_refuses_another_workspaces_contact(w: World) -> None:
    with pytest.raises(PermissionDenied):
        services.contact_delete(contact=w.foreign_contact, by=w.member)

    assert not w.db.ops("delete_many")


@scenario(
    services.workspace_bump_version, common.bump_workspace_version, common.bump_workspace_version_announced
)
def workspace_bump_version_after_bulk_writes(w: World) -> None:
    services.workspace_bump_version(workspace=w.workspace)

    assert _bumped_version(w)
    [announced] = w.after_commit
    assert announced.func is events.workspace_changed
    assert announced.keywords == {"workspace_id": w.workspace.pk, "version": w.workspace.change_version}


# --- tags ------------------------------------------------------------------------------------------


@scenario(services.clean_tag_names, services.comparable_value)
def clean_tag_names_needs_no_database(w: World) -> None:
    assert services.comparable_value("email", " Ann@EXAMPLE.com ") == "ann@example.com"
    assert services.clean_tag_names(["  VIP ", "vip", "Event  2026", ""]) == ["vip", "event 2026"]
    with pytest.raises(ValidationError):
        services.clean_tag_names(["<script>"])
    assert not w.db.operations


@scenario(services.tag_save)
def tag_save_renames_and_bumps_the_version(w: World) -> None:
    w.tag.name = "Key Account"

    services.tag_save(tag=w.tag)

    (update,) = w.db.ops("update_many", TAGS)
    assert update.args[1][0]["$set"]["name"] == {"$literal": "key account"}
    assert _bumped_version(w)


@scenario(services.tags_get_or_create)
def tags_get_or_create_reuses_existing(w: World) -> None:
    tags = services.tags_get_or_create(workspace=w.workspace, names=["vip", "prospect"])

    assert [tag.name for tag in tags] == ["vip", "prospect"] and tags[0].id == w.tag.id
    assert [doc["name"] for doc in inserted(w, TAGS)] == ["prospect"]


# --- API tokens ------------------------------------------------------------------------------------


@scenario(services.api_token_get_or_create)
def api_token_created_on_first_use(w: World) -> None:
    token = services.api_token_get_or_create(user=w.outsider)

    (document,) = inserted(w, APITOKENS)
    assert document["user_id"] == w.outsider.pk and document["key"] == token.key


@scenario(services.api_token_get_or_create)
def api_token_reused_afterwards(w: World) -> None:
    existing = ApiToken(user=w.member.user, key="k" * 40, created_at=timezone.now())
    w.db.store(existing)

    assert services.api_token_get_or_create(user=w.member.user) == existing
    assert not inserted(w, APITOKENS)


# --- activations -----------------------------------------------------------------------------------

RUNS = ActivationRun._meta.db_table
ITEMS = ActivationItem._meta.db_table


@scenario(services.activation_start)
def activation_start_queues_one_item_per_lead(w: World) -> None:
    w.db.answer(CONTACTS, [{"_id": w.contact.id.hex}])  # the leads among the ids given
    w.db.answer(ITEMS, [])  # none of them waits in another run

    run = services.activation_start(
        workspace=w.workspace, by=w.owner, contact_ids=[w.contact.id, w.foreign_contact.id]
    )

    (leads,) = w.db.pipelines(CONTACTS)
    assert mentions(leads, "workspace_id", w.workspace.id.hex) and mentions(leads, "status", "lead")
    (waiting,) = w.db.pipelines(ITEMS)
    assert any("$lookup" in step and step["$lookup"]["from"] == RUNS for step in waiting)
    (document,) = inserted(w, RUNS)
    assert (document["_id"], document["workspace_id"], document["total"]) == (
        run.id.hex,
        w.workspace.id.hex,
        1,
    )
    assert [(item["contact_id"], item["position"]) for item in inserted(w, ITEMS)] == [(w.contact.id.hex, 0)]
    # A new run moves the workspace to a new version (the list page's cached run ends).
    assert [call.func.__name__ for call in w.after_commit] == ["workspace_changed", "_dispatch"]


@scenario(services.activation_start)
def activation_start_with_nothing_to_do_writes_nothing(w: World) -> None:
    w.db.answer(CONTACTS, [])
    w.db.answer(ITEMS, [])
    with pytest.raises(ValidationError, match="None of the chosen contacts"):
        services.activation_start(workspace=w.workspace, by=w.owner, contact_ids=[w.other_contact.id])
    assert not w.db.ops("insert_many") and not w.after_commit


@scenario(services.activation_cancel)
def activation_cancel_stops_an_unfinished_run(w: World) -> None:
    run = ActivationRun(workspace=w.workspace, total=3)
    w.db.store(run)

    services.activation_cancel(run=run, by=w.owner)

    (update,) = w.db.ops("update_many", RUNS)
    assert {"_id": run.id.hex} in conditions(update.args[0])
    assert {"status": {"$in": ("queued", "running")}} in conditions(update.args[0])
    assert update.args[1][0]["$set"]["status"] == {"$literal": "cancelled"}
    # The items are stamped for their TTL index (the row locks taken first elsewhere are no-ops here).
    (stamp,) = w.db.ops("update_many", ITEMS)
    assert "run_finished_at" in stamp.args[1][0]["$set"]


@scenario(activation_record.take_lead, activation_record.record_sent)
def activation_record_takes_a_lead_only_while_it_is_one(w: World) -> None:
    # The engine's per-lead record is SQL on the SQL engines; MongoDB runs its ORM version.
    run = ActivationRun(workspace=w.workspace, total=3)
    done = ActivationItem(run=run, contact=w.foreign_contact, position=0, status="sending")
    lead = ActivationItem(run=run, contact=w.contact, position=1)
    not_a_lead = ActivationItem(run=run, contact=w.other_contact, position=2)  # Bob is active
    w.db.store(run, done, lead, not_a_lead)

    assert activation_record.take_lead(lead, "a@example.com", activate=True, sent_id=done.id, not_a_lead="x")
    assert not activation_record.take_lead(
        not_a_lead, "b@example.com", activate=True, sent_id=None, not_a_lead="x"
    )
    activation_record.record_sent(lead.id)

    sent, sending, failed, sent_again = w.db.ops("update_many", ITEMS)
    assert [op.args[0] for op in (sent, sending, failed, sent_again)] == [
        {"_id": item.id.hex} for item in (done, lead, not_a_lead, lead)
    ]
    statuses = [op.args[1][0]["$set"]["status"] for op in (sent, sending, failed, sent_again)]
    assert statuses == [{"$literal": status} for status in ("sent", "sending", "failed", "sent")]
    activated, refused = w.db.ops("update_many", CONTACTS)
    assert {"status": "lead"} in conditions(activated.args[0]) and {"status": "lead"} in conditions(
        refused.args[0]
    )
    assert activated.args[1][0]["$set"]["status"] == {"$literal": "active"}


@scenario(services.jobs_retry)
def jobs_retry_puts_failed_jobs_back(w: World) -> None:
    job = Job(
        kind="contact_created", workspace=w.workspace, subject_id=w.contact.id, status="failed", error="x"
    )
    w.db.store(job)

    services.jobs_retry(jobs=[job])

    (update,) = w.db.ops("update_many", Job._meta.db_table)
    assert {"status": "failed"} in conditions(update.args[0])
    assert update.args[1][0]["$set"]["status"] == {"$literal": "pending"}
    assert [call.func for call in w.after_commit] == [outbox.dispatch]
