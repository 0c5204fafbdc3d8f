"""The list's page numbers (contacts/views/listing.py) and what each row carries for the keyboard
and its actions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from contacts.factories import ContactFactory
from contacts.views.listing import page_numbers


@pytest.mark.parametrize(
    ("current", "last", "expected"),
    [
        (1, 1, [1]),
        (1, 2, [1, 2]),
        (1, 7, [1, 2, 3, None, 7]),
        (4, 7, [1, 2, 3, 4, 5, 6, 7]),  # a gap of one page shows that page
        (6, 12, [1, None, 4, 5, 6, 7, 8, None, 12]),
        (12, 12, [1, None, 10, 11, 12]),
    ],
)
def test_page_numbers_link_the_first_the_last_and_the_neighbours(current, last, expected):
    assert page_numbers(current, last) == expected


def test_the_pages_are_numbered_and_keep_the_query(member_client, workspace, settings):
    settings.CONTACTS_PAGE_SIZE = 2
    ContactFactory.create_batch(13, workspace=workspace, status="lead")
    url = reverse("contact_list", kwargs={"slug": workspace.slug})

    page = member_client.get(url, {"status": "lead", "page": "4"}).text

    assert "Page 4 of 7" in page
    assert 'href="/w/acme-sales/contacts/?status=lead" hx-get' in page  # page 1: no "page=1"
    assert "page=1&" not in page and 'page=1"' not in page
    assert 'aria-label="Page 1 (first)">1</a>' in page
    assert 'aria-label="Page 7 (last)">7</a>' in page
    assert 'href="/w/acme-sales/contacts/?status=lead&amp;page=4" aria-current="page"' in page
    assert 'class="pagination__gap"' not in page  # 1 … 7 with 4 current: every number fits


def test_a_page_past_the_end_shows_the_last_and_says_so(member_client, workspace, settings):
    settings.CONTACTS_PAGE_SIZE = 2
    ContactFactory.create_batch(5, workspace=workspace)
    url = reverse("contact_list", kwargs={"slug": workspace.slug})

    page = member_client.get(url, {"page": "40"}).text
    fragment = member_client.get(url, {"page": "40"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results").text

    assert "Page 3 of 3" in page
    assert "There is no page 40; showing page 3, the last." in page
    assert "There is no page 40; showing page 3, the last." in fragment
    assert "There is no page" not in member_client.get(url, {"page": "3"}).text


def test_the_page_size_can_be_chosen_and_a_bad_one_is_said_and_ignored(member_client, workspace, settings):
    settings.CONTACTS_PAGE_SIZE = 25
    ContactFactory.create_batch(60, workspace=workspace)
    url = reverse("contact_list", kwargs={"slug": workspace.slug})

    fifty = member_client.get(url, {"size": "50", "page": "2"}).text
    bad = member_client.get(url, {"size": "7"}).text

    assert "Page 2 of 2" in fifty and fifty.count("<tr data-contact-id") == 10
    assert 'href="/w/acme-sales/contacts/?size=100" ' in fifty  # the other sizes, from page 1
    assert (
        '<a class="page-size__choice" href="/w/acme-sales/contacts/?size=50" aria-current="true">50</a>'
        in fifty
    )
    assert "Page 1 of 3" in bad and "“7” is not a page size (25, 50 or 100)" in bad


def test_rows_carry_their_edit_address_and_actions_for_members_only(member_client, viewer, workspace):
    viewer_client = Client()
    viewer_client.force_login(viewer.user)
    contact = ContactFactory(workspace=workspace, first_name="Ann", last_name="Lee", email="ann@example.com")
    url = reverse("contact_list", kwargs={"slug": workspace.slug})
    edit = reverse("contact_edit", kwargs={"slug": workspace.slug, "contact_id": contact.id})

    member_page = member_client.get(url).text
    viewer_page = viewer_client.get(url).text

    assert f'data-edit-url="{edit}"' in member_page
    assert 'aria-label="Edit Ann Lee"' in member_page
    assert 'data-copy="ann@example.com"' in member_page and 'data-copy="ann@example.com"' in viewer_page
    assert 'href="mailto:ann@example.com"' in viewer_page
    assert "data-edit-url" not in viewer_page
    assert 'aria-label="Edit Ann Lee"' not in viewer_page


def test_tags_beyond_two_are_counted(member_client, workspace):
    ContactFactory(workspace=workspace, tags=["alpha", "beta", "gamma", "delta"])
    url = reverse("contact_list", kwargs={"slug": workspace.slug})

    page = member_client.get(url).text

    assert '<li class="chip" title="alpha">alpha</li><li class="chip" title="beta">beta</li>' in page
    assert 'title="delta, gamma"><span aria-hidden="true">+2</span>' in page
