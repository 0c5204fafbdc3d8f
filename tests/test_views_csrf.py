"""Every form and HTMX write is CSRF-protected: a missing or tampered token answers 403, changes nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from contacts import selectors
from contacts.models import Contact

NEW = {"first_name": "Eve", "last_name": "Intruder", "status": "lead", "tags": ""}


@pytest.fixture
def csrf_client(member) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    return client


def page_token(client: Client, path: str) -> str:
    """The token a real page hands the browser (GET sets the CSRF cookie too)."""
    response = client.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)


def create_url(workspace) -> str:
    return reverse("contact_create", kwargs={"slug": workspace.slug})


def test_create_with_the_pages_token_succeeds(csrf_client, workspace):
    token = page_token(csrf_client, create_url(workspace))

    response = csrf_client.post(create_url(workspace), {**NEW, "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert Contact.objects.filter(first_name="Eve").exists()


def test_create_without_a_token_is_refused_with_a_readable_page(csrf_client, workspace):
    csrf_client.get(create_url(workspace))

    response = csrf_client.post(create_url(workspace), NEW)

    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert "Nothing was changed" in response.text
    assert not Contact.objects.exists()


def test_create_with_a_tampered_token_is_refused(csrf_client, workspace):
    token = page_token(csrf_client, create_url(workspace))
    tampered = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")

    response = csrf_client.post(create_url(workspace), {**NEW, "csrfmiddlewaretoken": tampered})

    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_edit_with_a_tampered_token_changes_nothing(csrf_client, workspace, contact):
    edit_url = reverse("contact_edit", kwargs={"slug": workspace.slug, "contact_id": contact.id})
    token = page_token(csrf_client, edit_url)

    response = csrf_client.post(edit_url, {**NEW, "csrfmiddlewaretoken": token[::-1]})

    contact.refresh_from_db()
    assert response.status_code == 403
    assert contact.first_name == "Annabel"


def test_delete_without_a_token_keeps_the_contact(csrf_client, workspace, contact):
    delete_url = reverse("contact_delete", kwargs={"slug": workspace.slug, "contact_id": contact.id})
    csrf_client.get(delete_url)

    response = csrf_client.post(delete_url)

    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_htmx_tag_edit_sends_the_token_in_a_header(csrf_client, workspace, contact):
    detail_url = reverse("contact_detail", kwargs={"slug": workspace.slug, "contact_id": contact.id})
    page = csrf_client.get(detail_url)
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page.text).group(1)
    tags_url = reverse("contact_tags", kwargs={"slug": workspace.slug, "contact_id": contact.id})
    htmx = {"HX-Request": "true", "HX-Target": "tag-editor"}

    refused = csrf_client.post(tags_url, {"add": "stolen"}, headers=htmx)
    accepted = csrf_client.post(tags_url, {"add": "kept"}, headers={**htmx, "X-CSRFToken": header_token})

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert selectors.contact_tag_names(contact) == ["kept", "vip"]


def test_sign_out_without_a_token_keeps_the_session(csrf_client, workspace):
    csrf_client.get(reverse("contact_list", kwargs={"slug": workspace.slug}))

    response = csrf_client.post("/accounts/logout/")

    assert response.status_code == 403
    assert "_auth_user_id" in csrf_client.session
