"""Create, detail, edit and delete pages: happy paths, validation, workspaces and roles."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from contacts import selectors
from contacts.factories import ContactFactory
from contacts.models import Contact

VALID = {
    "first_name": "Annabel",
    "last_name": "Leeds",
    "email": "Annabel@Example.com",
    "phone": "+44 20 7946 0958",
    "company": "Initech",
    "job_title": "Buyer",
    "notes": "Met at the fair.",
    "status": "lead",
    "tags": "VIP, newsletter",
}


def url(name: str, workspace, contact=None) -> str:
    kwargs = {"slug": workspace.slug}
    if contact is not None:
        kwargs["contact_id"] = contact.id
    return reverse(name, kwargs=kwargs)


def field_error(response, field: str) -> str:
    """The error text shown next to `field` (empty when there is none)."""
    match = re.search(rf'<div class="field__error" id="id_{field}_error">(.*?)</div>', response.text, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""


def snapshot(workspace) -> list[tuple]:
    """Everything the forms could change, to prove a refused write changed nothing."""
    return sorted(
        (
            c.first_name,
            c.last_name,
            c.email,
            c.phone,
            c.notes,
            c.status,
            tuple(selectors.contact_tag_names(c)),
        )
        for c in Contact.objects.filter(workspace=workspace)
    )


# --- Create ------------------------------------------------------------------------------------


def test_create_form_has_labelled_fields(member_client, workspace):
    response = member_client.get(url("contact_create", workspace))

    assert response.status_code == 200
    for field in (
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "job_title",
        "notes",
        "status",
        "tags",
    ):
        assert f'<label for="id_{field}">' in response.text


def test_member_creates_a_contact_with_tags(member_client, member, workspace):
    response = member_client.post(url("contact_create", workspace), VALID, follow=True)

    contact = Contact.objects.get(workspace=workspace)
    assert response.redirect_chain[0][0] == url("contact_detail", workspace, contact)
    assert "Saved Annabel Leeds." in response.text
    assert contact.email == "annabel@example.com"
    assert contact.created_by == member.user
    assert selectors.contact_tag_names(contact) == ["newsletter", "vip"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "This field is required."),
        ("first_name", "A" * 81, "at most 80 characters"),
        ("company", "C" * 121, "at most 120 characters"),
        ("notes", "n" * 5001, "at most 5000 characters"),
        ("email", "not-an-email", "Enter a valid email address."),
        ("phone", "call me maybe", "Enter a phone number such as +44 20 7946 0958"),
        ("phone", "12", "Enter a phone number such as"),
        ("status", "vip", "Select a valid choice."),
        ("tags", "ok, <script>", "Tag “<script>”: Tags may contain letters"),
        ("tags", "x" * 41, "longer than 40 characters"),
    ],
)
def test_create_refuses_bad_input_next_to_the_field(member_client, workspace, field, value, message):
    response = member_client.post(url("contact_create", workspace), {**VALID, field: value})

    assert response.status_code == 200
    assert message in field_error(response, field).replace("&lt;", "<").replace("&gt;", ">")
    assert "The contact was not saved." in response.text
    assert not Contact.objects.filter(workspace=workspace).exists()


def test_create_refuses_a_duplicate_email_with_a_clear_message(member_client, workspace, contact):
    before = snapshot(workspace)

    response = member_client.post(
        url("contact_create", workspace), {**VALID, "email": "ANNABEL.LEEDS@example.com"}
    )

    error = field_error(response, "email")
    assert error.startswith("Another contact in this workspace already has this e-mail address.")
    # ... and links to that contact, so the user can open it instead of retyping.
    assert f'href="{url("contact_detail", workspace, contact)}">Open {contact.full_name}</a>' in response.text
    assert snapshot(workspace) == before


def test_the_same_email_may_exist_in_another_workspace(member_client, workspace, other_workspace):
    ContactFactory(workspace=other_workspace, email="annabel@example.com")

    response = member_client.post(url("contact_create", workspace), VALID)

    assert response.status_code == 302
    assert Contact.objects.filter(workspace=workspace, email="annabel@example.com").exists()


def test_viewer_cannot_open_or_post_the_create_form(viewer_client, workspace):
    page = viewer_client.get(url("contact_create", workspace))
    post = viewer_client.post(url("contact_create", workspace), VALID)

    assert page.status_code == 403
    assert "read-only access to Acme Sales" in page.text
    assert post.status_code == 403
    assert not Contact.objects.exists()


def test_create_in_a_workspace_you_are_not_in_is_not_found(member_client, other_workspace):
    response = member_client.post(url("contact_create", other_workspace), VALID)

    assert response.status_code == 404
    assert not Contact.objects.exists()


def test_anonymous_visitor_of_the_create_form_is_sent_to_login(client, workspace):
    response = client.post(url("contact_create", workspace), VALID)

    assert response["Location"].startswith("/accounts/login/")
    assert not Contact.objects.exists()


# --- Detail ------------------------------------------------------------------------------------


def test_detail_shows_the_contact_with_its_tags(member_client, workspace, contact):
    response = member_client.get(url("contact_detail", workspace, contact))

    assert response.status_code == 200
    assert "<h1>Annabel Leeds</h1>" in response.text
    assert 'href="mailto:annabel.leeds@example.com"' in response.text
    assert 'value="vip"' in response.text
    assert url("contact_edit", workspace, contact) in response.text


def test_viewer_sees_the_detail_without_edit_controls(viewer_client, workspace, contact):
    response = viewer_client.get(url("contact_detail", workspace, contact))

    assert response.status_code == 200
    assert url("contact_edit", workspace, contact) not in response.text
    assert "hx-post" not in response.text
    assert "Read-only" in response.text


def test_another_workspaces_contact_under_your_slug_is_not_found(member_client, workspace, foreign_contact):
    response = member_client.get(url("contact_detail", workspace, foreign_contact))

    assert response.status_code == 404
    assert "Fiona" not in response.text


def test_a_contact_in_a_workspace_you_are_not_in_is_not_found(
    member_client, other_workspace, foreign_contact
):
    response = member_client.get(url("contact_detail", other_workspace, foreign_contact))

    assert response.status_code == 404


def test_an_unknown_contact_id_is_not_found(member_client, workspace):
    response = member_client.get(f"/w/{workspace.slug}/contacts/{uuid.uuid4()}/")

    assert response.status_code == 404


# --- Edit --------------------------------------------------------------------------------------


def test_edit_form_starts_from_the_stored_contact(member_client, workspace, contact):
    response = member_client.get(url("contact_edit", workspace, contact))

    assert 'value="Annabel"' in response.text
    assert 'name="tags" id="id_tags" value="vip"' in response.text


def test_member_edits_a_contact_and_may_clear_optional_fields(member_client, workspace, contact):
    data = {**VALID, "first_name": "Anna", "email": "", "phone": "", "tags": "partner", "status": "active"}

    response = member_client.post(url("contact_edit", workspace, contact), data, follow=True)

    contact.refresh_from_db()
    assert "Saved Anna Leeds." in response.text
    assert (contact.first_name, contact.email, contact.phone, contact.status) == ("Anna", None, "", "active")
    assert selectors.contact_tag_names(contact) == ["partner"]


def test_edit_refuses_a_bad_phone_and_changes_nothing(member_client, workspace, contact):
    before = snapshot(workspace)

    response = member_client.post(url("contact_edit", workspace, contact), {**VALID, "phone": "abc"})

    assert "Enter a phone number" in field_error(response, "phone")
    assert "<h1>Edit Annabel Leeds</h1>" in response.text
    assert snapshot(workspace) == before


def test_edit_refuses_another_contacts_email(member_client, workspace, contact):
    other = ContactFactory(workspace=workspace, first_name="Bruno", email="bruno@example.com")
    before = snapshot(workspace)

    response = member_client.post(url("contact_edit", workspace, other), {**VALID, "email": contact.email})

    assert "already has this e-mail address" in field_error(response, "email")
    assert f'href="{url("contact_detail", workspace, contact)}">Open {contact.full_name}</a>' in response.text
    assert snapshot(workspace) == before


def test_editing_another_workspaces_contact_is_not_found(member_client, workspace, foreign_contact):
    response = member_client.post(url("contact_edit", workspace, foreign_contact), VALID)

    foreign_contact.refresh_from_db()
    assert response.status_code == 404
    assert foreign_contact.first_name == "Fiona"


def test_viewer_cannot_edit(viewer_client, workspace, contact):
    before = snapshot(workspace)

    page = viewer_client.get(url("contact_edit", workspace, contact))
    post = viewer_client.post(url("contact_edit", workspace, contact), {**VALID, "first_name": "Hacked"})

    assert (page.status_code, post.status_code) == (403, 403)
    assert snapshot(workspace) == before


# --- Delete ------------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_first(member_client, workspace, contact):
    response = member_client.get(url("contact_delete", workspace, contact))

    assert "Delete Annabel Leeds?" in response.text
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_member_deletes_a_contact(member_client, workspace, contact):
    response = member_client.post(url("contact_delete", workspace, contact), follow=True)

    assert response.redirect_chain[0][0] == url("contact_list", workspace)
    assert "Deleted Annabel Leeds." in response.text
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_deleting_another_workspaces_contact_is_not_found(member_client, workspace, foreign_contact):
    response = member_client.post(url("contact_delete", workspace, foreign_contact))

    assert response.status_code == 404
    assert Contact.objects.filter(pk=foreign_contact.pk).exists()


def test_viewer_cannot_delete(viewer_client, workspace, contact):
    page = viewer_client.get(url("contact_delete", workspace, contact))
    post = viewer_client.post(url("contact_delete", workspace, contact))

    assert (page.status_code, post.status_code) == (403, 403)
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_anonymous_visitor_cannot_delete(client, workspace, contact):
    response = client.post(url("contact_delete", workspace, contact))

    assert response["Location"].startswith("/accounts/login/")
    assert Contact.objects.filter(pk=contact.pk).exists()
