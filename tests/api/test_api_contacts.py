"""Contacts over the REST API: the same services, rules and workspace walls as the pages."""

import pytest

from contacts.factories import ContactFactory, TagFactory
from contacts.models import Contact, Workspace


def contacts_url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/contacts/"


def contact_url(contact) -> str:
    return f"/api/v1/workspaces/{contact.workspace_id}/contacts/{contact.id}/"


NEW_CONTACT = {
    "first_name": "Zoë",
    "last_name": "Quinn",
    "email": "Zoe.Quinn@Example.com",
    "phone": "+44 20 7946 0958",
    "company": "Initech",
    "status": "active",
    "tags": ["VIP", "newsletter"],
}


# --- list ---------------------------------------------------------------------------------------


def test_list_is_paginated_with_count_and_links(member_api, workspace, member):
    ContactFactory.create_batch(3, workspace=workspace)

    response = member_api.get(contacts_url(workspace), {"page_size": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"].endswith("page=2&page_size=2")
    assert body["previous"] is None


def test_list_item_has_the_contract_fields(member_api, contact):
    response = member_api.get(contacts_url(contact.workspace))

    item = response.json()["results"][0]
    assert set(item) == {
        "id",
        "first_name",
        "last_name",
        "full_name",
        "email",
        "phone",
        "company",
        "job_title",
        "notes",
        "status",
        "tags",
        "created_at",
        "updated_at",
        "version",
    }
    assert item["full_name"] == "Annabel Leeds"
    assert item["tags"] == ["vip"]


def test_search_forgives_case_and_accents_and_matches_word_prefixes(member_api, workspace, member):
    ContactFactory(workspace=workspace, first_name="Annabel", last_name="Léeds")
    # Every searched field fixed: the factory's random company or notes could hold a word "Lee…".
    ContactFactory(
        workspace=workspace, first_name="Anne", last_name="Smith", email="anne@example.com",
        phone="", company="Globex", job_title="", notes="",
    )  # fmt: skip

    response = member_api.get(contacts_url(workspace), {"search": "ANN lee"})

    assert [c["full_name"] for c in response.json()["results"]] == ["Annabel Léeds"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tag": "VIP"}, ["Ada A"]),
        ({"company": "initech"}, ["Ada A", "Bob B"]),
        ({"status": "archived"}, ["Cy C"]),
        ({"ordering": "-name"}, ["Cy C", "Bob B", "Ada A"]),
        ({"ordering": "company"}, ["Cy C", "Ada A", "Bob B"]),
    ],
)
def test_list_filters_and_orders(member_api, workspace, member, params, expected):
    ContactFactory(
        workspace=workspace, first_name="Ada", last_name="A", company="Initech", status="lead", tags=["vip"]
    )
    ContactFactory(workspace=workspace, first_name="Bob", last_name="B", company="Initech", status="active")
    ContactFactory(workspace=workspace, first_name="Cy", last_name="C", company="Acme", status="archived")

    response = member_api.get(contacts_url(workspace), params)

    assert response.status_code == 200
    assert [c["full_name"] for c in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "deleted"}, "status"),
        ({"ordering": "email"}, "ordering"),
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
        ({"page_size": "500"}, "page_size"),
        ({"search": "x" * 201}, "search"),
        ({"tag": "<script>"}, "tag"),
    ],
)
def test_bad_query_parameters_answer_400_naming_the_parameter(member_api, workspace, member, params, field):
    response = member_api.get(contacts_url(workspace), params)

    assert response.status_code == 400
    assert field in response.json()


def test_unknown_tag_matches_nothing(member_api, contact):
    response = member_api.get(contacts_url(contact.workspace), {"tag": "no-such-tag"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("params", [{"page": ["1", "2"]}, {"page": ""}, {"status": ["lead", "active"]}])
def test_repeated_or_empty_typed_parameters_answer_400(member_api, contact, params):
    response = member_api.get(contacts_url(contact.workspace), params)

    assert response.status_code == 400
    assert list(response.json()) == list(params)


def test_page_past_the_end_answers_404(member_api, contact):
    response = member_api.get(contacts_url(contact.workspace), {"page": 9})

    assert response.status_code == 404


# --- create ------------------------------------------------------------------------------------


def test_create_normalises_and_returns_the_contact(member_api, workspace, member):
    response = member_api.post(contacts_url(workspace), NEW_CONTACT, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "zoe.quinn@example.com"
    assert body["tags"] == ["newsletter", "vip"]
    assert Contact.objects.get(pk=body["id"]).workspace == workspace


def test_create_bumps_the_workspace_version(member_api, workspace, member):
    member_api.post(contacts_url(workspace), NEW_CONTACT, format="json")

    assert Workspace.objects.get(pk=workspace.pk).change_version == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": "x" * 81}, "first_name"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"phone": "1234"}, "phone"),
        ({"status": "deleted"}, "status"),
        ({"tags": ["ok", "bad,tag!"]}, "tags"),
        ({"tags": "vip"}, "tags"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"notes": "x" * 5001}, "notes"),
        ({"company": "nul\x00byte"}, "company"),
        ({"job_title": 1043}, "job_title"),
        ({"first_name": 0.5}, "first_name"),
        ({"email": ["a@b.com"]}, "email"),
        ({"tags": [" vip"]}, "tags"),
    ],
)
def test_invalid_create_answers_400_with_field_message_and_changes_nothing(
    member_api, workspace, member, changes, field
):
    response = member_api.post(contacts_url(workspace), {**NEW_CONTACT, **changes}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Contact.objects.exists()


def test_error_messages_say_what_to_fix(member_api, workspace, member):
    response = member_api.post(
        contacts_url(workspace), {"first_name": "X", "phone": "call me", "tags": ["bad!"]}, format="json"
    )

    assert response.status_code == 400
    assert "such as +44 20 7946 0958" in response.json()["phone"][0]
    assert "Tags may contain letters" in str(response.json()["tags"])


def test_duplicate_email_in_the_workspace_answers_409_on_the_email_field(member_api, contact, member):
    response = member_api.post(
        contacts_url(contact.workspace),
        {"first_name": "Other", "email": "ANNABEL.LEEDS@example.com"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json() == {
        "email": ["Another contact in this workspace already has this e-mail address."]
    }
    assert Contact.objects.count() == 1


def test_same_email_in_another_workspace_is_fine(member_api, workspace, member, foreign_contact):
    response = member_api.post(
        contacts_url(workspace), {"first_name": "Twin", "email": foreign_contact.email}, format="json"
    )

    assert response.status_code == 201


def test_non_json_body_answers_415(member_api, workspace, member):
    response = member_api.post(
        contacts_url(workspace), "first_name=X", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert not Contact.objects.exists()


def test_malformed_json_answers_400(member_api, workspace, member):
    response = member_api.post(contacts_url(workspace), "{not json", content_type="application/json")

    assert response.status_code == 400


# --- get / put / patch / delete ----------------------------------------------------------------


def test_get_one_contact(member_api, contact):
    response = member_api.get(contact_url(contact))

    assert response.status_code == 200
    assert response.json()["email"] == "annabel.leeds@example.com"


def test_patch_changes_only_the_given_fields(member_api, contact):
    response = member_api.patch(contact_url(contact), {"company": "Hooli"}, format="json")

    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.company, contact.first_name, response.json()["tags"]) == ("Hooli", "Annabel", ["vip"])


def test_put_replaces_the_contact_and_clears_omitted_fields(member_api, contact):
    response = member_api.put(contact_url(contact), {"first_name": "Anna"}, format="json")

    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.first_name, contact.company, contact.email) == ("Anna", "", None)
    assert response.json()["tags"] == []


def test_put_without_required_field_answers_400_and_changes_nothing(member_api, contact):
    response = member_api.put(contact_url(contact), {"company": "Hooli"}, format="json")

    assert response.status_code == 400
    assert "first_name" in response.json()
    contact.refresh_from_db()
    assert contact.company == "Initech"


def test_patch_to_a_taken_email_is_refused(member_api, contact, workspace):
    other = ContactFactory(workspace=workspace, email="taken@example.com")

    response = member_api.patch(contact_url(contact), {"email": "TAKEN@example.com"}, format="json")

    assert response.status_code == 409
    contact.refresh_from_db()
    assert contact.email == "annabel.leeds@example.com"
    assert other.email == "taken@example.com"


def test_delete_removes_the_contact_and_its_tag_links(member_api, contact):
    response = member_api.delete(contact_url(contact))

    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert member_api.get(contact_url(contact)).status_code == 404


# --- walls between workspaces, roles and auth ---------------------------------------------------


def test_another_workspaces_contact_under_my_workspace_answers_404(
    member_api, workspace, member, foreign_contact
):
    url = f"/api/v1/workspaces/{workspace.id}/contacts/{foreign_contact.id}/"

    assert member_api.get(url).status_code == 404
    assert member_api.patch(url, {"first_name": "Hacked"}, format="json").status_code == 404
    assert member_api.delete(url).status_code == 404
    foreign_contact.refresh_from_db()
    assert foreign_contact.first_name == "Fiona"


def test_a_workspace_i_am_not_in_answers_404(member_api, member, foreign_contact):
    assert member_api.get(contacts_url(foreign_contact.workspace)).status_code == 404
    assert member_api.get(contact_url(foreign_contact)).status_code == 404
    assert (
        member_api.post(contacts_url(foreign_contact.workspace), NEW_CONTACT, format="json").status_code
        == 404
    )


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_malformed_or_unknown_ids_answer_404(member_api, workspace, member, bad_id):
    assert member_api.get(f"/api/v1/workspaces/{bad_id}/contacts/").status_code == 404
    assert member_api.get(f"/api/v1/workspaces/{workspace.id}/contacts/{bad_id}/").status_code == 404


def test_viewer_can_read(viewer_api, contact, viewer):
    assert viewer_api.get(contact_url(contact)).status_code == 200


def test_viewer_writes_answer_403_and_change_nothing(viewer_api, contact, viewer):
    assert viewer_api.post(contacts_url(contact.workspace), NEW_CONTACT, format="json").status_code == 403
    assert viewer_api.patch(contact_url(contact), {"first_name": "X"}, format="json").status_code == 403
    assert viewer_api.put(contact_url(contact), {"first_name": "X"}, format="json").status_code == 403
    assert viewer_api.delete(contact_url(contact)).status_code == 403
    contact.refresh_from_db()
    assert contact.first_name == "Annabel"
    assert Contact.objects.count() == 1


def test_missing_credentials_answer_401_with_the_scheme(anonymous_api, contact):
    response = anonymous_api.get(contacts_url(contact.workspace))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_wrong_token_answers_401(anonymous_api, contact):
    anonymous_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    assert anonymous_api.get(contacts_url(contact.workspace)).status_code == 401


def test_session_write_without_csrf_is_refused(member, contact):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member.user)

    response = client.patch(contact_url(contact), {"first_name": "X"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_unsupported_method_answers_405(member_api, workspace, member):
    assert member_api.delete(contacts_url(workspace)).status_code == 405


def test_tags_list_counts_contacts(member_api, workspace, member):
    ContactFactory(workspace=workspace, tags=["vip", "partner"])
    ContactFactory(workspace=workspace, tags=["vip"])
    TagFactory(workspace=workspace, name="unused")

    response = member_api.get(f"/api/v1/workspaces/{workspace.id}/tags/")

    assert response.status_code == 200
    assert {t["name"]: t["contact_count"] for t in response.json()["results"]} == {
        "partner": 1,
        "unused": 0,
        "vip": 2,
    }


def test_a_length_limit_counts_the_white_space_sent(member_api, contact):
    response = member_api.patch(
        f"/api/v1/workspaces/{contact.workspace_id}/contacts/{contact.id}/",
        {"last_name": "\u0085" * 81},
        format="json",
    )

    assert response.status_code == 400
    assert "80 characters" in response.json()["last_name"][0]
