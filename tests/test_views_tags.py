"""The detail page's in-place tag editor and the tag suggestions."""

from __future__ import annotations

import re

from django.urls import reverse

from contacts import selectors
from contacts.factories import ContactFactory, TagFactory

HTMX = {"HX-Request": "true", "HX-Target": "tag-editor"}


def tags_url(workspace, contact) -> str:
    return reverse("contact_tags", kwargs={"slug": workspace.slug, "contact_id": contact.id})


def suggest_url(workspace) -> str:
    return reverse("tag_suggest", kwargs={"slug": workspace.slug})


def suggestions_in(response) -> list[str]:
    return re.findall(r'data-tag-suggestion="([^"]+)"', response.text)


def test_adding_tags_in_place_answers_the_editor_fragment(member_client, workspace, contact):
    response = member_client.post(tags_url(workspace, contact), {"add": "Partner, event 2026"}, headers=HTMX)

    assert response.status_code == 200
    assert '<div id="tag-editor"' in response.text
    assert "<html" not in response.text
    assert selectors.contact_tag_names(contact) == ["event 2026", "partner", "vip"]


def test_a_remove_button_drops_that_one_tag(member_client, workspace, contact):
    response = member_client.post(
        tags_url(workspace, contact), {"add": "partner", "remove": "vip"}, headers=HTMX
    )

    assert response.status_code == 200
    assert selectors.contact_tag_names(contact) == ["partner"]


def test_without_javascript_saving_tags_redirects_back_with_a_message(member_client, workspace, contact):
    response = member_client.post(tags_url(workspace, contact), {"add": "partner"}, follow=True)

    assert response.redirect_chain[0][0] == reverse(
        "contact_detail", kwargs={"slug": workspace.slug, "contact_id": contact.id}
    )
    assert "Saved the tags of Annabel Leeds." in response.text


def test_a_bad_tag_is_refused_in_place_and_changes_nothing(member_client, workspace, contact):
    response = member_client.post(tags_url(workspace, contact), {"add": "ok, !!bad"}, headers=HTMX)

    assert response.status_code == 200
    assert "Tag “!!bad”: Tags may contain letters" in response.text
    assert 'value="ok, !!bad"' in response.text
    assert selectors.contact_tag_names(contact) == ["vip"]


def test_a_bad_tag_without_javascript_shows_the_detail_page_with_the_error(member_client, workspace, contact):
    response = member_client.post(tags_url(workspace, contact), {"add": "x" * 41})

    assert response.status_code == 200
    assert "<h1>Annabel Leeds</h1>" in response.text
    assert "longer than 40 characters" in response.text
    assert selectors.contact_tag_names(contact) == ["vip"]


def test_too_many_tags_are_refused(member_client, workspace, contact):
    response = member_client.post(
        tags_url(workspace, contact), {"add": ", ".join(f"t{n}" for n in range(20))}, headers=HTMX
    )

    assert "at most 20 tags" in response.text
    assert selectors.contact_tag_names(contact) == ["vip"]


def test_viewer_cannot_change_tags(viewer_client, workspace, contact):
    response = viewer_client.post(tags_url(workspace, contact), {"add": "hacked"}, headers=HTMX)

    assert response.status_code == 403
    assert selectors.contact_tag_names(contact) == ["vip"]


def test_tags_of_another_workspaces_contact_are_not_found(member_client, workspace, foreign_contact):
    response = member_client.post(tags_url(workspace, foreign_contact), {"add": "mine"}, headers=HTMX)

    assert response.status_code == 404
    assert selectors.contact_tag_names(foreign_contact) == []


def test_tags_address_only_accepts_post(member_client, workspace, contact):
    response = member_client.get(tags_url(workspace, contact))

    assert response.status_code == 405


def test_suggestions_complete_the_last_word_from_the_workspaces_tags(
    member_client, workspace, other_workspace
):
    for name in ("partner", "press", "prospect", "vip"):
        TagFactory(workspace=workspace, name=name)
    TagFactory(workspace=other_workspace, name="private")

    response = member_client.get(suggest_url(workspace), {"q": "vip, PR"})

    assert suggestions_in(response) == ["press", "prospect"]


def test_suggestions_leave_out_tags_already_chosen(member_client, workspace):
    for name in ("partner", "press", "vip"):
        TagFactory(workspace=workspace, name=name)

    response = member_client.get(suggest_url(workspace), {"tags": "press, ", "exclude": "vip"})

    assert suggestions_in(response) == ["partner"]


def test_suggestions_with_nothing_typed_offer_existing_tags(member_client, workspace, contact):
    ContactFactory(workspace=workspace, tags=["partner"])

    response = member_client.get(suggest_url(workspace))

    assert suggestions_in(response) == ["partner", "vip"]


def test_suggestions_of_a_workspace_you_are_not_in_are_not_found(
    member_client, other_workspace, foreign_contact
):
    TagFactory(workspace=other_workspace, name="secret")

    response = member_client.get(suggest_url(other_workspace), {"q": "s"})

    assert response.status_code == 404
    assert "secret" not in response.text


def test_viewer_may_read_suggestions(viewer_client, workspace, contact):
    response = viewer_client.get(suggest_url(workspace), {"q": "v"})

    assert suggestions_in(response) == ["vip"]


def test_the_contact_form_offers_suggestions(member_client, workspace):
    response = member_client.get(reverse("contact_create", kwargs={"slug": workspace.slug}))

    assert f'hx-get="{suggest_url(workspace)}"' in response.text
    assert 'id="tags-suggestions"' in response.text


def test_a_tag_typed_in_full_is_not_suggested_again(member_client, workspace):
    for name in ("vip", "vip customer"):
        TagFactory(workspace=workspace, name=name)

    response = member_client.get(suggest_url(workspace), {"q": "VIP"})

    assert suggestions_in(response) == ["vip customer"]
