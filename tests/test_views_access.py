"""Who may open what, for every workspace page at once: login, membership, contact ownership, role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts import selectors
from contacts.models import Contact

# (url name, needs a contact id, method, data)
PAGES = [
    ("workspace_home", False, "get", None),
    ("contact_list", False, "get", None),
    ("tag_suggest", False, "get", None),
    ("contact_create", False, "get", None),
    ("contact_create", False, "post", {"first_name": "Eve", "status": "lead"}),
    ("contact_detail", True, "get", None),
    ("contact_edit", True, "get", None),
    ("contact_edit", True, "post", {"first_name": "Eve", "status": "lead"}),
    ("contact_delete", True, "get", None),
    ("contact_delete", True, "post", {}),
    ("contact_tags", True, "post", {"tags": "stolen"}),
]
WRITES = [
    page for page in PAGES if page[0] in {"contact_create", "contact_edit", "contact_delete", "contact_tags"}
]


def page_url(name: str, workspace, contact=None) -> str:
    kwargs = {"slug": workspace.slug}
    if contact is not None:
        kwargs["contact_id"] = contact.id
    return reverse(name, kwargs=kwargs)


def request(client, method: str, url: str, data):
    return getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)


def contacts_state() -> list[tuple]:
    return sorted(
        (c.first_name, c.workspace_id, tuple(selectors.contact_tag_names(c))) for c in Contact.objects.all()
    )


@pytest.mark.parametrize(("name", "with_contact", "method", "data"), PAGES)
def test_anonymous_visitors_are_sent_to_login(client, workspace, contact, name, with_contact, method, data):
    before = contacts_state()

    response = request(client, method, page_url(name, workspace, contact if with_contact else None), data)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert contacts_state() == before


@pytest.mark.parametrize(("name", "with_contact", "method", "data"), PAGES)
def test_a_workspace_you_are_not_in_is_not_found(
    member_client, other_workspace, foreign_contact, name, with_contact, method, data
):
    before = contacts_state()

    url = page_url(name, other_workspace, foreign_contact if with_contact else None)
    response = request(member_client, method, url, data)

    assert response.status_code == 404
    assert contacts_state() == before


@pytest.mark.parametrize(("name", "with_contact", "method", "data"), [p for p in PAGES if p[1]])
def test_another_workspaces_contact_under_your_slug_is_not_found(
    member_client, workspace, foreign_contact, name, with_contact, method, data
):
    before = contacts_state()

    response = request(member_client, method, page_url(name, workspace, foreign_contact), data)

    assert response.status_code == 404
    assert contacts_state() == before


@pytest.mark.parametrize(("name", "with_contact", "method", "data"), WRITES)
def test_viewers_cannot_change_anything(viewer_client, workspace, contact, name, with_contact, method, data):
    before = contacts_state()

    response = request(
        viewer_client, method, page_url(name, workspace, contact if with_contact else None), data
    )

    assert response.status_code == 403
    assert "read-only access" in response.text
    assert contacts_state() == before
