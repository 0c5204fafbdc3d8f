"""The contact list: count, search, filters, sorting, pages, HTMX fragments, bad query strings."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.factories import ContactFactory
from contacts.models import Contact, ContactStatus

HTMX = {"HX-Request": "true", "HX-Target": "results"}


def list_url(workspace) -> str:
    return reverse("contact_list", kwargs={"slug": workspace.slug})


def names_in(response) -> list[str]:
    names = re.findall(r'<span class="person__name">(.*?)</span>', response.text)
    return [re.sub(r"</?mark>", "", name) for name in names]  # a search marks what matched


@pytest.fixture
def three_contacts(workspace):
    """Annabel (Initech, vip, lead), Bruno (Acme, active), Chloé (Umbrella, archived), added in that order."""
    now = timezone.now()
    rows = [
        ("Annabel", "Leeds", "Initech", ContactStatus.LEAD, ["vip"]),
        ("Bruno", "Adams", "Acme", ContactStatus.ACTIVE, []),
        ("Chloé", "Zola", "Umbrella", ContactStatus.ARCHIVED, ["partner"]),
    ]
    contacts = []
    for age, (first, last, company, status, tags) in enumerate(reversed(rows)):
        contact = ContactFactory(
            workspace=workspace, first_name=first, last_name=last, company=company, status=status, tags=tags
        )
        Contact.objects.filter(pk=contact.pk).update(created_at=now - timedelta(days=age))
        contacts.append(contact)
    return contacts


def test_list_shows_the_workspaces_contacts_with_a_count(
    member_client, workspace, three_contacts, foreign_contact
):
    response = member_client.get(list_url(workspace))

    assert response.status_code == 200
    assert names_in(response) == ["Bruno Adams", "Annabel Leeds", "Chloé Zola"]
    assert "<strong>3</strong> contacts" in response.text
    assert "Fiona" not in response.text


def test_search_finds_word_prefixes_regardless_of_case_and_accents(member_client, workspace, three_contacts):
    response = member_client.get(list_url(workspace), {"search": "ANN lee"})

    assert names_in(response) == ["Annabel Leeds"]
    assert "<strong>1</strong> of 3 matches" in response.text


def test_search_forgives_accents(member_client, workspace, three_contacts):
    response = member_client.get(list_url(workspace), {"search": "chloe"})

    assert names_in(response) == ["Chloé Zola"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "active"}, ["Bruno Adams"]),
        ({"tag": "partner"}, ["Chloé Zola"]),
        ({"company": "initech"}, ["Annabel Leeds"]),
        ({"status": "lead", "tag": "partner"}, []),
    ],
)
def test_filters_narrow_the_list(member_client, workspace, three_contacts, params, expected):
    response = member_client.get(list_url(workspace), params)

    assert names_in(response) == expected
    assert f"<strong>{len(expected)}</strong> of 3 match" in response.text


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Bruno Adams", "Annabel Leeds", "Chloé Zola"]),
        ("-name", ["Chloé Zola", "Annabel Leeds", "Bruno Adams"]),
        ("company", ["Bruno Adams", "Annabel Leeds", "Chloé Zola"]),
        ("-company", ["Chloé Zola", "Annabel Leeds", "Bruno Adams"]),
        ("created", ["Annabel Leeds", "Bruno Adams", "Chloé Zola"]),
        ("-created", ["Chloé Zola", "Bruno Adams", "Annabel Leeds"]),
    ],
)
def test_sort_orders_the_list(member_client, workspace, three_contacts, sort, expected):
    response = member_client.get(list_url(workspace), {"sort": sort})

    assert names_in(response) == expected


def test_sorted_column_header_links_to_the_other_direction(member_client, workspace, three_contacts):
    response = member_client.get(list_url(workspace), {"sort": "company", "status": "lead"})

    assert (
        'aria-sort="ascending"><a href="/w/acme-sales/contacts/?status=lead&amp;sort=-company"'
        in response.text
    )
    assert 'aria-sort="none"><a href="/w/acme-sales/contacts/?status=lead&amp;sort=-created"' in response.text


def test_pages_split_the_list_and_keep_the_query(member_client, workspace, three_contacts, settings):
    settings.CONTACTS_PAGE_SIZE = 2

    first = member_client.get(list_url(workspace), {"sort": "-name"})
    second = member_client.get(list_url(workspace), {"sort": "-name", "page": "2"})

    assert names_in(first) == ["Chloé Zola", "Annabel Leeds"]
    assert 'href="/w/acme-sales/contacts/?sort=-name&amp;page=2"' in first.text
    assert names_in(second) == ["Bruno Adams"]
    assert "Page 2 of 2" in second.text


def test_a_page_past_the_end_shows_the_last_page(member_client, workspace, three_contacts, settings):
    settings.CONTACTS_PAGE_SIZE = 2

    response = member_client.get(list_url(workspace), {"page": "9"})

    assert names_in(response) == ["Chloé Zola"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "bogus"}, "There is no status “bogus”; showing every status."),
        ({"sort": "salary"}, "Contacts cannot be sorted by “salary”; sorted by name instead."),
        ({"tag": "nope"}, "There is no tag “nope” in this workspace; the tag filter was ignored."),
        ({"page": "abc"}, "“abc” is not a page number; showing page 1."),
        ({"page": "-1"}, "“-1” is not a page number; showing page 1."),
        ({"search": "x" * 101}, "The search was longer than 100 characters and was ignored"),
        ({"company": "c" * 121}, "A company name has at most 120 characters"),
    ],
)
def test_a_bad_query_parameter_is_ignored_with_a_clear_message(
    member_client, workspace, three_contacts, params, message
):
    response = member_client.get(list_url(workspace), params)

    assert response.status_code == 200
    assert message in response.text
    assert 'class="alert alert--warning" role="alert"' in response.text
    assert names_in(response) == ["Bruno Adams", "Annabel Leeds", "Chloé Zola"]


def test_a_bad_parameter_does_not_spoil_the_good_ones(member_client, workspace, three_contacts):
    response = member_client.get(list_url(workspace), {"status": "active", "sort": "nonsense"})

    assert names_in(response) == ["Bruno Adams"]
    assert "sorted by name instead" in response.text
    assert "sort=nonsense" not in response.text


def test_a_tag_of_another_workspace_is_unknown_here(
    member_client, workspace, three_contacts, other_workspace
):
    ContactFactory(workspace=other_workspace, tags=["secret"])

    response = member_client.get(list_url(workspace), {"tag": "secret"})

    assert "There is no tag “secret” in this workspace" in response.text


def test_an_empty_workspace_invites_a_member_to_add_the_first_contact(member_client, workspace):
    response = member_client.get(list_url(workspace))

    assert "No contacts yet" in response.text
    assert "Add your first contact" in response.text


def test_an_empty_workspace_tells_a_viewer_who_can_add_contacts(viewer_client, workspace):
    response = viewer_client.get(list_url(workspace))

    assert "No contacts yet" in response.text
    assert "Add your first contact" not in response.text
    assert "New contact" not in response.text


def test_no_matches_offer_to_clear_the_filters(member_client, workspace, three_contacts):
    response = member_client.get(list_url(workspace), {"search": "zzz", "sort": "-created"})

    assert "No contacts match" in response.text
    assert 'href="/w/acme-sales/contacts/?sort=-created">Clear filters</a>' in response.text


def test_htmx_request_gets_only_the_results_fragment_and_a_tidy_address(
    member_client, workspace, three_contacts
):
    response = member_client.get(
        list_url(workspace), {"search": "ann", "status": "", "tag": ""}, headers=HTMX
    )

    assert "<html" not in response.text
    assert names_in(response) == ["Annabel Leeds"]
    assert response["HX-Push-Url"] == "/w/acme-sales/contacts/?search=ann"
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(member_client, workspace, three_contacts):
    response = member_client.get(list_url(workspace), headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert "<html" in response.text


def test_list_queries_do_not_grow_with_the_number_of_contacts(
    member_client, workspace, django_assert_max_num_queries
):
    ContactFactory.create_batch(30, workspace=workspace, tags=["vip", "partner"])

    with django_assert_max_num_queries(12):
        response = member_client.get(list_url(workspace))

    assert len(names_in(response)) == 30


def test_times_are_machine_readable_utc_for_the_browser_to_localise(member_client, workspace, contact):
    response = member_client.get(list_url(workspace))

    stamp = contact.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{stamp}" data-local-time' in response.text


def test_list_of_a_workspace_you_are_not_in_is_not_found(member_client, other_workspace, foreign_contact):
    response = member_client.get(list_url(other_workspace))

    assert response.status_code == 404
    assert "Fiona" not in response.text


def test_list_of_a_workspace_that_does_not_exist_is_not_found(member_client):
    response = member_client.get("/w/no-such-team/contacts/")

    assert response.status_code == 404


def test_anonymous_visitor_of_the_list_is_sent_to_login(client, workspace):
    response = client.get(list_url(workspace))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/w/acme-sales/contacts/")


def test_shortcut_hint_and_new_contact_shortcut_are_offered_to_members(member_client, workspace):
    response = member_client.get(list_url(workspace))

    assert 'data-new-url="/w/acme-sales/contacts/new/"' in response.text
    assert "<kbd>n</kbd> new contact" in response.text
    assert "<kbd>/</kbd> search" in response.text


def test_the_shortcuts_offer_the_selection_keys_only_to_who_can_activate(
    workspace_admin_client, member, workspace
):
    ContactFactory(workspace=workspace, status=ContactStatus.LEAD)
    as_admin = workspace_admin_client.get(list_url(workspace)).text
    workspace_admin_client.force_login(member.user)
    as_member = workspace_admin_client.get(list_url(workspace)).text

    for page in (as_admin, as_member):
        assert "<dt><kbd>e</kbd></dt>" in page
    assert "<dt><kbd>x</kbd></dt>" in as_admin and "data-select-row" in as_admin
    # A member edits but does not activate: no checkboxes, so no keys for them.
    assert "<dt><kbd>x</kbd></dt>" not in as_member and "data-select-row" not in as_member
    assert "<dt><kbd>Esc</kbd></dt>" not in as_member


def test_htmx_request_after_the_session_ended_sends_the_whole_tab_to_login(client, workspace):
    headers = {**HTMX, "HX-Current-URL": "http://testserver/w/acme-sales/contacts/?search=ann"}

    response = client.get(list_url(workspace), {"search": "ann lee"}, headers=headers)

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=/w/acme-sales/contacts/%3Fsearch%3Dann"
