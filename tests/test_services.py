"""contacts/services/: permissions, validation, the version counter, events after commit, tags."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from contacts import events, selectors, services
from contacts.events import ChangeKind
from contacts.factories import ContactFactory, TagFactory, UserFactory
from contacts.models import ApiToken, Contact, ContactTag, Membership, Role, Tag, Workspace
from contacts.services import MAX_TAGS_PER_CONTACT, ContactData
from contacts.services import contacts as contact_services


@pytest.fixture
def emitted(monkeypatch) -> list[dict]:
    """The `events.contact_changed` calls, recorded instead of run."""
    calls: list[dict] = []

    def contact_changed(**payload):
        calls.append(payload)

    monkeypatch.setattr(events, "contact_changed", contact_changed)
    return calls


def version_of(workspace: Workspace) -> int:
    return Workspace.objects.get(pk=workspace.pk).change_version


def snapshot() -> tuple:
    """Everything a contact write could touch, to prove a refused write touched nothing."""
    return (
        sorted(Workspace.objects.values_list("id", "change_version")),
        sorted(Contact.objects.values_list("id", "first_name", "company", "updated_at")),
        sorted(ContactTag.objects.values_list("contact_id", "tag_id")),
        sorted(Tag.objects.values_list("workspace_id", "name")),
    )


# Each contact write, run by `by` on `contact` (create adds a new contact to its workspace),
# returning the id of the contact written.
def _create(contact, by):
    data = ContactData(first_name="Nina", email="nina@example.com", tags=["new"])
    return services.contact_create(workspace=contact.workspace, by=by, data=data).id


def _update(contact, by):
    return services.contact_update(contact=contact, by=by, data=ContactData(company="Globex")).id


def _set_tags(contact, by):
    return services.contact_set_tags(contact=contact, by=by, tag_names=["partner"]).id


def _delete(contact, by):
    contact_id = contact.id
    services.contact_delete(contact=contact, by=by)
    return contact_id


WRITES = [
    pytest.param(_create, ChangeKind.CREATED, id="create"),
    pytest.param(_update, ChangeKind.UPDATED, id="update"),
    pytest.param(_set_tags, ChangeKind.UPDATED, id="set_tags"),
    pytest.param(_delete, ChangeKind.DELETED, id="delete"),
]


# --- Version counter and events ----------------------------------------------------------------


@pytest.mark.parametrize(("write", "kind"), WRITES)
def test_each_contact_write_bumps_the_workspace_version_by_exactly_one(member, contact, emitted, write, kind):
    before = version_of(contact.workspace)

    write(contact, member)

    assert version_of(contact.workspace) == before + 1


@pytest.mark.parametrize(("write", "kind"), WRITES)
def test_each_contact_write_emits_its_event_only_once_committed(
    member, contact, emitted, django_capture_on_commit_callbacks, write, kind
):
    workspace = contact.workspace

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contact_id = write(contact, member)
    emitted_before_commit = list(emitted)
    for callback in callbacks:
        callback()

    expected = {"workspace_id": workspace.id, "contact_id": contact_id, "kind": kind}
    assert emitted_before_commit == []
    assert emitted == [{**expected, "version": version_of(workspace)}]


@pytest.mark.django_db(transaction=True)
def test_contact_changed_runs_after_the_commit_and_sees_the_row(member, workspace, monkeypatch):
    seen = []
    monkeypatch.setattr(
        events,
        "contact_changed",
        lambda **p: seen.append(
            (connection.in_atomic_block, Contact.objects.filter(pk=p["contact_id"]).exists())
        ),
    )

    services.contact_create(workspace=workspace, by=member, data=ContactData(first_name="Nina"))

    assert seen == [(False, True)]


INVALID_WRITES = {
    "create": lambda c, by: services.contact_create(
        workspace=c.workspace, by=by, data=ContactData(first_name="Nina", phone="call me")
    ),
    "update": lambda c, by: services.contact_update(
        contact=c, by=by, data=ContactData(company="Changed", email="not an e-mail")
    ),
    "set_tags": lambda c, by: services.contact_set_tags(contact=c, by=by, tag_names=["partner", "<b>"]),
}


@pytest.mark.parametrize("write", INVALID_WRITES.values(), ids=INVALID_WRITES.keys())
def test_a_write_refused_by_validation_bumps_nothing_and_emits_nothing(
    member, contact, emitted, django_capture_on_commit_callbacks, write
):
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError):
        write(contact, member)

    assert (snapshot(), callbacks, emitted) == (before, [], [])


@pytest.mark.parametrize(("write", "kind"), WRITES)
def test_a_failure_inside_the_transaction_rolls_the_write_back_and_emits_nothing(
    member, contact, emitted, django_capture_on_commit_callbacks, monkeypatch, write, kind
):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # The last step inside every write's transaction.
    monkeypatch.setattr(contact_services, "bump_workspace_version", fail)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        write(contact, member)

    assert (snapshot(), callbacks, emitted) == (before, [], [])


def test_a_failure_while_tagging_a_new_contact_leaves_no_contact_row(member, workspace, emitted, monkeypatch):
    def fail(contact, *, add, remove):
        raise RuntimeError("disk full")

    monkeypatch.setattr(contact_services, "_contact_tags_change", fail)
    before = snapshot()

    with pytest.raises(RuntimeError):
        services.contact_create(
            workspace=workspace, by=member, data=ContactData(first_name="Nina", tags=["x"])
        )

    assert (snapshot(), emitted) == (before, [])


# --- Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("write", "kind"), WRITES)
def test_a_viewer_may_not_write_and_nothing_changes(viewer, contact, emitted, write, kind):
    before = snapshot()

    with pytest.raises(PermissionDenied):
        write(contact, viewer)

    assert (snapshot(), emitted) == (before, [])


@pytest.mark.parametrize(("write", "kind"), WRITES)
def test_a_member_may_not_write_to_another_workspace_and_nothing_changes(
    member, foreign_contact, emitted, write, kind
):
    before = snapshot()

    with pytest.raises(PermissionDenied):
        write(foreign_contact, member)

    assert (snapshot(), emitted) == (before, [])


# --- Contact fields ----------------------------------------------------------------------------


def test_contact_create_then_find_by_accent_and_prefix(member, workspace):
    services.contact_create(
        workspace=workspace,
        by=member,
        data=ContactData(first_name="Ännabel", last_name="Leeds", email="A@B.COM", tags=["VIP"]),
    )

    page = selectors.contact_page(workspace, selectors.ContactQuery(search="ann lee"))

    assert [c.full_name for c in page.contacts] == ["Ännabel Leeds"]
    assert page.contacts[0].email == "a@b.com"
    assert page.tags_by_contact[page.contacts[0].id] == ["vip"]


def test_contact_create_records_who_created_it(member, workspace):
    contact = services.contact_create(workspace=workspace, by=member, data=ContactData(first_name="Nina"))

    assert Contact.objects.get(pk=contact.pk).created_by == member.user


def test_duplicate_email_is_refused(member, workspace, contact):
    with pytest.raises(ValidationError) as error:
        services.contact_create(
            workspace=workspace,
            by=member,
            data=ContactData(first_name="X", email="ANNABEL.leeds@example.com"),
        )
    assert "already has this e-mail" in str(error.value)


def test_viewer_cannot_create(viewer, workspace):
    with pytest.raises(PermissionDenied):
        services.contact_create(workspace=workspace, by=viewer, data=ContactData(first_name="X"))


def test_a_partial_update_leaves_the_other_fields_and_tags_unchanged(member, contact):
    fields = ["first_name", "last_name", "email", "phone", "job_title", "notes", "status"]
    before = Contact.objects.values(*fields).get(pk=contact.pk)

    services.contact_update(contact=contact, by=member, data=ContactData(company="Globex"))

    assert Contact.objects.values(*fields, "company").get(pk=contact.pk) == {**before, "company": "Globex"}
    assert selectors.contact_tag_names(contact) == ["vip"]


def test_an_update_with_an_empty_email_clears_it(member, contact):
    services.contact_update(contact=contact, by=member, data=ContactData(email=""))

    assert Contact.objects.get(pk=contact.pk).email is None


def test_factory_contacts_pass_the_models_own_validation(workspace):
    contacts = [ContactFactory(workspace=workspace, first_name="Chloé", last_name="D'Arcy")]
    contacts += ContactFactory.create_batch(30, workspace=workspace)

    for contact in contacts:
        contact.full_clean()


# --- Tags --------------------------------------------------------------------------------------


def test_set_tags_adds_new_links_and_removes_dropped_ones(member, contact):
    services.contact_set_tags(contact=contact, by=member, tag_names=["partner", "event 2026"])

    assert selectors.contact_tag_names(contact) == ["event 2026", "partner"]
    assert Tag.objects.filter(workspace=contact.workspace, name="vip").exists()  # unlinked, not deleted


def test_set_tags_reuses_the_workspaces_existing_tag(member, contact):
    existing = TagFactory(workspace=contact.workspace, name="partner")

    services.contact_set_tags(contact=contact, by=member, tag_names=["Partner"])

    assert list(ContactTag.objects.filter(contact=contact).values_list("tag_id", flat=True)) == [existing.id]
    assert Tag.objects.filter(workspace=contact.workspace, name="partner").count() == 1


def test_set_tags_never_links_another_workspaces_tag_of_the_same_name(member, contact, other_workspace):
    foreign = TagFactory(workspace=other_workspace, name="partner")

    services.contact_set_tags(contact=contact, by=member, tag_names=["partner"])

    linked = Tag.objects.get(contact_tags__contact=contact)
    assert (linked.name, linked.workspace_id) == ("partner", contact.workspace_id)
    assert linked.id != foreign.id
    assert not ContactTag.objects.filter(tag=foreign).exists()


def test_an_empty_tag_list_removes_every_link(member, contact):
    services.contact_set_tags(contact=contact, by=member, tag_names=[])

    assert selectors.contact_tag_names(contact) == []


def test_contact_delete_removes_its_tag_links_but_keeps_the_tags(member, contact):
    tag_ids = list(ContactTag.objects.filter(contact=contact).values_list("tag_id", flat=True))
    contact_id = contact.id

    services.contact_delete(contact=contact, by=member)

    assert not ContactTag.objects.filter(contact_id=contact_id).exists()
    assert Tag.objects.filter(id__in=tag_ids).count() == len(tag_ids)


def test_clean_tag_names_normalises_and_drops_case_insensitive_duplicates():
    names = services.clean_tag_names(["VIP", " vip ", "Big  Client", "big client", "", "   ", "Partner"])

    assert names == ["vip", "big client", "partner"]


def test_clean_tag_names_refuses_an_over_long_tag_naming_it():
    with pytest.raises(ValidationError) as error:
        services.clean_tag_names(["ok", "Extraordinarily long tag name beyond forty"])

    assert error.value.message_dict == {"tags": ["Tag “extraordinarily long…” is longer than 40 characters."]}


def test_clean_tag_names_refuses_forbidden_characters_naming_the_tag():
    with pytest.raises(ValidationError) as error:
        services.clean_tag_names(["ok", "<b>bold</b>"])

    [message] = error.value.message_dict["tags"]
    assert message.startswith("Tag “<b>bold</b>”: Tags may contain letters, digits")


def test_clean_tag_names_refuses_more_than_the_maximum_number_of_tags():
    with pytest.raises(ValidationError) as error:
        services.clean_tag_names(f"tag {n}" for n in range(MAX_TAGS_PER_CONTACT + 1))

    assert error.value.message_dict == {"tags": [f"A contact can have at most {MAX_TAGS_PER_CONTACT} tags."]}


def test_clean_tag_names_counts_the_maximum_after_removing_duplicates():
    names = [f"tag {n}" for n in range(MAX_TAGS_PER_CONTACT)]

    cleaned = services.clean_tag_names(names + [name.upper() for name in names])

    assert cleaned == names


def test_clean_tag_names_refuses_a_tag_that_is_not_text():
    with pytest.raises(ValidationError) as error:
        services.clean_tag_names(["ok", 7])

    assert error.value.message_dict == {"tags": ["Each tag must be text."]}


# --- Workspaces, members, tokens ---------------------------------------------------------------


def test_workspace_create_makes_the_creator_its_owner(db):
    user = UserFactory(username="founder")

    workspace = services.workspace_create(name="Initech", slug="initech", owner=user)

    assert list(workspace.memberships.values_list("user", "role")) == [(user.id, Role.OWNER)]


def test_workspace_create_refuses_a_taken_slug_and_creates_nothing(workspace):
    user = UserFactory(username="founder")

    with pytest.raises(ValidationError) as error:
        services.workspace_create(name="Copycat", slug=workspace.slug, owner=user)

    assert list(error.value.message_dict) == ["slug"]
    assert not Workspace.objects.filter(name="Copycat").exists()
    assert not Membership.objects.filter(user=user).exists()


def test_membership_set_adds_a_user_with_the_role(workspace):
    user = UserFactory(username="newcomer")

    membership = services.membership_set(workspace=workspace, user=user, role=Role.VIEWER)

    assert Membership.objects.get(workspace=workspace, user=user).role == Role.VIEWER
    assert membership.role == Role.VIEWER


def test_membership_set_changes_an_existing_members_role(workspace, member):
    services.membership_set(workspace=workspace, user=member.user, role=Role.ADMIN)

    assert list(Membership.objects.filter(user=member.user).values_list("role", flat=True)) == [Role.ADMIN]


def test_api_token_get_or_create_returns_the_same_token_for_a_user(member):
    first = services.api_token_get_or_create(user=member.user)

    second = services.api_token_get_or_create(user=member.user)

    assert (second.id, second.key) == (first.id, first.key)
    assert ApiToken.objects.filter(user=member.user).count() == 1


def test_api_tokens_differ_between_users(member, viewer):
    tokens = {services.api_token_get_or_create(user=m.user).key for m in (member, viewer)}

    assert len(tokens) == 2
