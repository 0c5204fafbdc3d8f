"""Django admin: every page loads, lists stay cheap, and contact edits go through the services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import events, services
from contacts.factories import ContactFactory, TagFactory
from contacts.models import ApiToken, Contact, ContactTag, Membership, Tag, Workspace

MODELS = [Workspace, Membership, Tag, Contact, ApiToken]


def admin_url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def version_of(workspace: Workspace) -> int:
    workspace.refresh_from_db(fields=["change_version"])
    return workspace.change_version


def contact_events(callbacks) -> list[tuple[events.ChangeKind, object]]:
    return [
        (c.keywords["kind"], c.keywords["contact_id"]) for c in callbacks if c.func is events.contact_changed
    ]


def contact_form(contact: Contact | None = None, **changes) -> dict:
    data = {
        "first_name": "Annabel",
        "last_name": "Leeds",
        "email": "annabel.leeds@example.com",
        "phone": "",
        "company": "Initech",
        "job_title": "",
        "notes": "",
        "status": "lead",
        "tag_choices": [],
    }
    if contact is not None:
        data.update({name: getattr(contact, name) or "" for name in data if name != "tag_choices"})
        data["tag_choices"] = [str(link.tag_id) for link in ContactTag.objects.filter(contact=contact)]
    data.update(changes)
    return data


@pytest.fixture
def one_of_each(contact, member):
    return {
        Workspace: contact.workspace,
        Membership: member,
        Tag: Tag.objects.get(workspace=contact.workspace, name="vip"),
        Contact: contact,
        ApiToken: services.api_token_get_or_create(user=member.user),
    }


# --- every page loads ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("page", ["changelist", "add", "change", "delete"])
def test_every_admin_page_loads_for_a_superuser(admin_client, one_of_each, model, page):
    args = [] if page in {"changelist", "add"} else [one_of_each[model].pk]

    response = admin_client.get(admin_url(model, page, *args))

    assert response.status_code == 200


def test_the_admin_index_lists_every_contacts_model(admin_client, db):
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    for model in MODELS:
        assert admin_url(model, "changelist") in response.text


# --- the contact list ----------------------------------------------------------------------------


def test_contact_list_shows_each_contacts_tags(admin_client, contact):
    response = admin_client.get(admin_url(Contact, "changelist"))

    assert "Annabel Leeds" in response.text
    assert '<td class="field-tag_list">vip</td>' in response.text


def test_contact_list_reads_tags_for_the_whole_page_in_one_query(admin_client, workspace):
    ContactFactory.create_batch(2, workspace=workspace, tags=["vip"])
    with CaptureQueriesContext(connection) as few:
        admin_client.get(admin_url(Contact, "changelist"))
    ContactFactory.create_batch(10, workspace=workspace, tags=["vip", "partner"])

    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(admin_url(Contact, "changelist"))

    assert response.text.count('<td class="field-tag_list">') == 12
    assert len(many) == len(few)


def test_contact_list_searches_names_emails_and_companies(admin_client, contact, workspace):
    ContactFactory(workspace=workspace, first_name="Bob", last_name="Smith", company="Globex")

    by_company = admin_client.get(admin_url(Contact, "changelist"), {"q": "initech"})
    by_email = admin_client.get(admin_url(Contact, "changelist"), {"q": "annabel.leeds@"})

    for response in (by_company, by_email):
        assert "Annabel Leeds" in response.text and "Bob Smith" not in response.text


def test_company_filter_offers_the_most_used_companies_and_filters_by_one(admin_client, workspace):
    ContactFactory.create_batch(3, workspace=workspace, company="Initech")
    ContactFactory(workspace=workspace, company="Globex", first_name="Gina", last_name="Globex")
    for n in range(20):
        ContactFactory(workspace=workspace, company=f"Rare {n:02}")

    response = admin_client.get(admin_url(Contact, "changelist"), {"company": "Globex"})

    choices = response.context["cl"].get_filters(response.wsgi_request)[0][-1].lookup_choices
    assert [value for value, _ in choices][:2] == ["Initech", "Globex"]
    assert len(choices) == 15, "a short list of the most used companies, not every company"
    assert [c.full_name for c in response.context["cl"].result_list] == ["Gina Globex"]


def test_tag_filter_narrows_the_list_to_tagged_contacts(admin_client, contact, workspace):
    ContactFactory(workspace=workspace, first_name="Bob", last_name="Untagged")

    response = admin_client.get(admin_url(Contact, "changelist"), {"tag": "vip"})

    assert [c.full_name for c in response.context["cl"].result_list] == ["Annabel Leeds"]


def test_workspace_and_status_filters_narrow_the_list(admin_client, contact, foreign_contact):
    response = admin_client.get(
        admin_url(Contact, "changelist"),
        {"workspace__id__exact": str(contact.workspace_id), "status": contact.status},
    )

    assert [c.pk for c in response.context["cl"].result_list] == [contact.pk]


def test_tag_autocomplete_offers_each_tag_name_once(admin_client, contact, other_workspace):
    TagFactory(workspace=other_workspace, name="vip")
    TagFactory(workspace=other_workspace, name="vintage")

    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "contacts", "model_name": "contact", "field_name": "tags", "term": "vi"},
    )

    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["vintage", "vip"]


# --- contact writes go through the services ---------------------------------------------------------


def test_adding_a_contact_in_the_admin_uses_the_create_service(
    admin_client, admin_user, workspace, django_capture_on_commit_callbacks
):
    vip = TagFactory(workspace=workspace, name="vip")
    before = version_of(workspace)

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            admin_url(Contact, "add"), contact_form(workspace=str(workspace.pk), tag_choices=[str(vip.pk)])
        )

    assert response.status_code == 302
    contact = Contact.objects.get(email="annabel.leeds@example.com")
    assert contact.created_by == admin_user
    assert list(ContactTag.objects.filter(contact=contact).values_list("tag__name", flat=True)) == ["vip"]
    assert version_of(workspace) == before + 1
    assert contact_events(callbacks) == [(events.ChangeKind.CREATED, contact.id)]


def test_an_admin_edit_bumps_the_workspace_version_through_the_update_service(
    admin_client, contact, workspace, django_capture_on_commit_callbacks
):
    before = version_of(workspace)

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            admin_url(Contact, "change", contact.pk), contact_form(contact, company="Globex", tag_choices=[])
        )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.company == "Globex"
    assert not ContactTag.objects.filter(contact=contact).exists()
    assert version_of(workspace) == before + 1
    assert contact_events(callbacks) == [(events.ChangeKind.UPDATED, contact.id)]


def test_an_admin_edit_with_a_duplicate_email_is_refused_and_changes_nothing(
    admin_client, contact, workspace
):
    ContactFactory(workspace=workspace, email="taken@example.com")
    before = version_of(workspace)

    response = admin_client.post(
        admin_url(Contact, "change", contact.pk),
        contact_form(contact, email="TAKEN@example.com", company="X"),
    )

    assert response.status_code == 200
    assert "already has this e-mail address" in response.text
    contact.refresh_from_db()
    assert (contact.email, contact.company) == ("annabel.leeds@example.com", "Initech")
    assert version_of(workspace) == before


def test_a_tag_name_picked_from_another_workspace_links_this_workspaces_tag(
    admin_client, workspace, other_workspace
):
    foreign_tag = TagFactory(workspace=other_workspace, name="partner")

    response = admin_client.post(
        admin_url(Contact, "add"),
        contact_form(workspace=str(workspace.pk), tag_choices=[str(foreign_tag.pk)]),
    )

    assert response.status_code == 302
    (link,) = ContactTag.objects.select_related("tag").all()
    assert (link.tag.workspace_id, link.tag.name) == (workspace.pk, "partner")
    assert not ContactTag.objects.filter(tag=foreign_tag).exists()


def test_more_than_twenty_tags_are_refused_with_the_services_message(admin_client, contact, workspace):
    tags = [TagFactory(workspace=workspace, name=f"tag {n}") for n in range(21)]

    response = admin_client.post(
        admin_url(Contact, "change", contact.pk), contact_form(contact, tag_choices=[str(t.pk) for t in tags])
    )

    assert response.status_code == 200
    assert "A contact can have at most 20 tags." in response.text
    assert list(ContactTag.objects.filter(contact=contact).values_list("tag__name", flat=True)) == ["vip"]


def test_deleting_a_contact_in_the_admin_uses_the_delete_service(
    admin_client, contact, workspace, django_capture_on_commit_callbacks
):
    before = version_of(workspace)

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(admin_url(Contact, "delete", contact.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not ContactTag.objects.filter(contact_id=contact.pk).exists()
    assert version_of(workspace) == before + 1
    assert contact_events(callbacks) == [(events.ChangeKind.DELETED, contact.id)]


def test_deleting_selected_contacts_deletes_each_through_the_service(admin_client, contact, foreign_contact):
    versions = {ws.pk: version_of(ws) for ws in (contact.workspace, foreign_contact.workspace)}

    response = admin_client.post(
        admin_url(Contact, "changelist"),
        {"action": "delete_selected", "_selected_action": [contact.pk, foreign_contact.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Contact.objects.exists()
    assert not ContactTag.objects.exists()
    assert {ws.pk: version_of(ws) for ws in (contact.workspace, foreign_contact.workspace)} == {
        pk: version + 1 for pk, version in versions.items()
    }


# --- tags, workspaces, tokens -------------------------------------------------------------------------


def test_renaming_a_tag_stores_it_normalised_and_bumps_the_version(admin_client, contact, workspace):
    tag = Tag.objects.get(workspace=workspace, name="vip")
    before = version_of(workspace)

    response = admin_client.post(admin_url(Tag, "change", tag.pk), {"name": "  Key   Account "})

    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.name == "key account"
    assert version_of(workspace) == before + 1


def test_a_tag_name_differing_only_in_case_is_refused(admin_client, contact, workspace):
    response = admin_client.post(admin_url(Tag, "add"), {"workspace": str(workspace.pk), "name": "VIP"})

    assert response.status_code == 200
    assert "already has a tag with this name" in response.text
    assert Tag.objects.filter(workspace=workspace).count() == 1


def test_workspace_page_lists_its_members(admin_client, member):
    response = admin_client.get(admin_url(Workspace, "change", member.workspace.pk))

    assert "max-member" in response.text


def test_adding_an_api_token_creates_the_key_and_shows_it(admin_client, member):
    response = admin_client.post(admin_url(ApiToken, "add"), {"user": member.user.pk})

    token = ApiToken.objects.get(user=member.user)
    assert response.status_code == 302
    assert response.url == admin_url(ApiToken, "change", token.pk)
    assert token.key in admin_client.get(response.url).text
