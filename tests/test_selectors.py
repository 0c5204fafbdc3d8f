"""contacts/selectors.py: list queries (search, filters, order, pages), memberships, tags, choices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from contacts import selectors, services
from contacts.factories import ContactFactory, MembershipFactory, TagFactory, UserFactory, WorkspaceFactory
from contacts.models import Contact, ContactStatus, Role
from contacts.selectors import ContactQuery
from contacts.services import ContactData


def matching(workspace, **query) -> list[str]:
    return [c.full_name for c in selectors.contacts_matching(workspace, ContactQuery(**query))]


def person(workspace, first: str, last: str = "", **fields) -> Contact:
    """A contact with only the given searchable fields, so a search can match nothing else."""
    defaults = {"email": None, "phone": "", "company": "", "job_title": "", "notes": ""}
    return ContactFactory(workspace=workspace, first_name=first, last_name=last, **{**defaults, **fields})


# --- Ordering ----------------------------------------------------------------------------------


@pytest.fixture
def ordered_people(workspace):
    """Four contacts added oldest first in the order Cy, Ann, Dee, Bob."""
    now = timezone.now()
    rows = [("Cy", "Adams", "Zeta"), ("Ann", "Baker", "Zeta"), ("Dee", "Cole", ""), ("Bob", "Baker", "Alpha")]
    for age, (first, last, company) in enumerate(reversed(rows)):
        contact = person(workspace, first, last, company=company)
        Contact.objects.filter(pk=contact.pk).update(created_at=now - timedelta(days=age))


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Cy Adams", "Ann Baker", "Bob Baker", "Dee Cole"]),
        ("-name", ["Dee Cole", "Bob Baker", "Ann Baker", "Cy Adams"]),
        # Without a company: last, whichever way the column is sorted.
        ("company", ["Bob Baker", "Cy Adams", "Ann Baker", "Dee Cole"]),
        ("-company", ["Cy Adams", "Ann Baker", "Bob Baker", "Dee Cole"]),
        ("created", ["Cy Adams", "Ann Baker", "Dee Cole", "Bob Baker"]),
        ("-created", ["Bob Baker", "Dee Cole", "Ann Baker", "Cy Adams"]),
        ("no-such-key", ["Cy Adams", "Ann Baker", "Bob Baker", "Dee Cole"]),
    ],
)
def test_each_ordering_key_gives_its_documented_order(workspace, ordered_people, ordering, expected):
    names = matching(workspace, ordering=ordering)

    assert names == expected


@pytest.mark.parametrize("ordering", ["name", "-name"])
def test_contacts_without_a_last_name_come_last_by_name_either_way(workspace, ordered_people, ordering):
    person(workspace, "Cher")
    via_bulk = Contact(workspace=workspace, first_name="Adele")
    via_bulk.refresh_derived_fields()
    Contact.objects.bulk_create([via_bulk])

    names = matching(workspace, ordering=ordering)

    assert sorted(names[-2:]) == ["Adele", "Cher"] and len(names) == 6


def test_a_contact_losing_or_gaining_its_last_name_moves_accordingly(workspace, member):
    kept = person(workspace, "Zoe", "Adams")
    moving = person(workspace, "Cher")
    assert matching(workspace, ordering="name") == ["Zoe Adams", "Cher"]

    services.contact_update(contact=moving, by=member, data=ContactData(last_name="Aaron"))
    assert matching(workspace, ordering="name") == ["Cher Aaron", "Zoe Adams"]

    services.contact_update(
        contact=Contact.objects.get(pk=kept.pk), by=member, data=ContactData(last_name="")
    )
    assert matching(workspace, ordering="name") == ["Cher Aaron", "Zoe"]


@pytest.mark.parametrize(
    ("ordering", "ascending_ids"),
    [
        ("name", True),
        ("-name", False),
        ("company", True),
        ("-company", True),
        ("created", True),
        ("-created", False),
    ],
)
def test_ties_are_broken_by_id(workspace, ordering, ascending_ids):
    twins = [person(workspace, "Sam", "Smith", company="Acme") for _ in range(6)]
    Contact.objects.filter(workspace=workspace).update(created_at=timezone.now())

    ids = [c.id for c in selectors.contacts_matching(workspace, ContactQuery(ordering=ordering))]

    assert ids == sorted((c.id for c in twins), reverse=not ascending_ids)


# --- Search ------------------------------------------------------------------------------------


def test_search_matches_word_prefixes_in_any_order(workspace):
    person(workspace, "Annabel", "Leeds")
    person(workspace, "Leo", "Annan")

    names = matching(workspace, search="lee ann")

    assert names == ["Annabel Leeds"]


def test_search_requires_every_word_to_match(workspace):
    person(workspace, "Annabel", "Leeds")
    person(workspace, "Annabel", "Smith")

    names = matching(workspace, search="annabel smi")

    assert names == ["Annabel Smith"]


def test_search_does_not_match_inside_a_word(workspace):
    person(workspace, "Annabel", "Leeds")

    names = matching(workspace, search="nna")

    assert names == []


def test_search_ignores_accents_and_case_in_the_contact(workspace):
    person(workspace, "Zoë", "ÅBERG")

    names = matching(workspace, search="zoe aberg")

    assert names == ["Zoë ÅBERG"]


def test_search_ignores_accents_and_case_in_the_query(workspace):
    person(workspace, "Zoe", "Aberg")

    names = matching(workspace, search="ZOË Åb")

    assert names == ["Zoe Aberg"]


@pytest.mark.parametrize(
    "search",
    ["annabel.leeds@example.com", "example.com", "ini", "chief oper", "7946", "+44 20"],
    ids=["email", "email-domain", "company", "job-title", "phone-word", "phone-prefix"],
)
def test_search_matches_words_of_email_company_job_title_and_phone(workspace, search):
    person(
        workspace,
        "Ann",
        email="annabel.leeds@example.com",
        company="Initech",
        job_title="Chief Operating Officer",
        phone="+44 20 7946 0958",
    )
    person(workspace, "Decoy", email="decoy@other.org", company="Acme", job_title="Clerk", phone="555 1234")

    names = matching(workspace, search=search)

    assert names == ["Ann"]


def test_search_looks_in_notes(workspace):
    person(workspace, "Ann", notes="Prefers phone calls")
    person(workspace, "Bob", notes="Call before noon")

    names = matching(workspace, search="prefer")

    assert names == ["Ann"]


# --- Filters -----------------------------------------------------------------------------------


def test_status_filter_keeps_only_that_status(workspace):
    person(workspace, "Lea", status=ContactStatus.LEAD)
    person(workspace, "Art", status=ContactStatus.ARCHIVED)

    names = matching(workspace, status=ContactStatus.ARCHIVED)

    assert names == ["Art"]


def test_company_filter_is_exact_but_ignores_case(workspace):
    person(workspace, "Ann", company="Initech")
    person(workspace, "Ivy", company="Initech Labs")

    names = matching(workspace, company="INITECH")

    assert names == ["Ann"]


@pytest.mark.parametrize(
    ("company", "lookalike"),
    [("A+B (UK)", "AAB UK"), ("A.B", "AxB"), ("100% A_B", "100% AxB")],
    ids=["regex-groups", "regex-dot", "sql-wildcards"],
)
def test_company_filter_treats_special_characters_literally(workspace, company, lookalike):
    person(workspace, "Ann", company=company)
    person(workspace, "Lou", company=lookalike)

    names = matching(workspace, company=company.lower())

    assert names == ["Ann"]


def test_tag_filter_keeps_only_contacts_with_that_tag(workspace):
    person(workspace, "Vic", tags=["vip", "partner"])
    person(workspace, "Pat", tags=["partner"])
    person(workspace, "Una")

    names = matching(workspace, tag="vip")

    assert names == ["Vic"]


def test_filters_combine_with_search(workspace):
    person(workspace, "Ann", "Archer", company="Initech", status=ContactStatus.LEAD, tags=["vip"])
    person(workspace, "Ann", "Active", company="Initech", status=ContactStatus.ACTIVE, tags=["vip"])
    person(workspace, "Ann", "Other", company="Acme", status=ContactStatus.LEAD, tags=["vip"])

    names = matching(workspace, search="ann", status=ContactStatus.LEAD, company="initech", tag="vip")

    assert names == ["Ann Archer"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"search": "fiona"},
        {"status": "lead"},
        {"company": "globex"},
        {"tag": "vip"},
        {"ordering": "-created"},
    ],
    ids=["none", "search", "status", "company", "tag", "ordering"],
)
def test_another_workspaces_contacts_never_match(workspace, other_workspace, query):
    same = {"company": "Globex", "status": ContactStatus.LEAD, "tags": ["vip"]}
    person(workspace, "Fiona", "Home", **same)
    person(other_workspace, "Fiona", "Away", **same)

    names = matching(workspace, **query)

    assert names == ["Fiona Home"]


def test_contact_in_does_not_find_another_workspaces_contact(workspace, foreign_contact):
    found = selectors.contact_in(workspace, foreign_contact.id)

    assert found is None


# --- Pages -------------------------------------------------------------------------------------


@pytest.fixture
def five_people(workspace):
    return [person(workspace, "Pat", last) for last in ["Ames", "Bell", "Cole", "Dunn", "Eads"]]


def test_contact_page_holds_one_page_of_the_ordered_list(workspace, five_people):
    page = selectors.contact_page(workspace, ContactQuery(page=2), per_page=2)

    assert [c.last_name for c in page.contacts] == ["Cole", "Dunn"]
    assert (page.total, page.page.number, page.page.paginator.num_pages) == (5, 2, 3)


def test_contact_page_size_defaults_to_the_setting(workspace, five_people, settings):
    settings.CONTACTS_PAGE_SIZE = 3

    page = selectors.contact_page(workspace, ContactQuery())

    assert [c.last_name for c in page.contacts] == ["Ames", "Bell", "Cole"]


@pytest.mark.parametrize("number", [4, 99])
def test_a_page_past_the_end_gives_the_last_page(workspace, five_people, number):
    page = selectors.contact_page(workspace, ContactQuery(page=number), per_page=2)

    assert page.page.number == 3
    assert [c.last_name for c in page.contacts] == ["Eads"]


def test_contact_page_of_no_matches_is_an_empty_first_page(workspace, five_people):
    page = selectors.contact_page(workspace, ContactQuery(search="nobody"), per_page=2)

    assert (page.page.number, page.contacts, page.total) == (1, [], 0)


def test_contact_page_lists_each_contacts_tag_names_in_order(workspace):
    tagged = person(workspace, "Ann", "Ames", tags=["vip", "partner", "event 2026"])
    untagged = person(workspace, "Bob", "Bell")

    page = selectors.contact_page(workspace, ContactQuery())

    assert page.tags_by_contact[tagged.id] == ["event 2026", "partner", "vip"]
    assert untagged.id not in page.tags_by_contact


def test_contact_page_costs_three_queries_however_many_tagged_contacts(
    workspace, five_people, django_assert_num_queries
):
    tagged = [person(workspace, "Tia", str(n), tags=["vip", "partner"]) for n in range(5)]

    with django_assert_num_queries(3):  # count, the page, the page's tag links
        page = selectors.contact_page(workspace, ContactQuery(), per_page=20)

    assert len(page.tags_by_contact) == len(tagged)


def test_tag_names_of_many_contacts_take_one_query(workspace, django_assert_num_queries):
    contacts = [person(workspace, "Tia", str(n), tags=["vip"]) for n in range(5)]

    with django_assert_num_queries(1):
        names = selectors.tag_names_by_contact(c.id for c in contacts)

    assert names == {c.id: ["vip"] for c in contacts}


# --- Memberships -------------------------------------------------------------------------------


def test_memberships_of_lists_the_users_workspaces_by_name(workspace, other_workspace):
    user = UserFactory(username="multi")
    MembershipFactory(user=user, workspace=other_workspace, role=Role.VIEWER)  # "Globex Buying"
    MembershipFactory(user=user, workspace=workspace)  # "Acme Sales"
    MembershipFactory(workspace=WorkspaceFactory(name="Zenith"))  # someone else's

    memberships = selectors.memberships_of(user)

    assert [m.workspace.name for m in memberships] == ["Acme Sales", "Globex Buying"]


def test_memberships_of_an_anonymous_user_is_empty(workspace, member):
    memberships = selectors.memberships_of(AnonymousUser())

    assert memberships == []


@pytest.mark.parametrize("by", ["slug", "workspace_id"])
def test_membership_in_finds_the_users_membership_by_slug_or_id(workspace, member, outsider, by):
    key = {"slug": workspace.slug} if by == "slug" else {"workspace_id": workspace.id}

    found = selectors.membership_in(member.user, **key)

    assert found == member


@pytest.mark.parametrize("by", ["slug", "workspace_id"])
def test_membership_in_a_workspace_the_user_is_not_in_is_none(workspace, member, outsider, by):
    key = {"slug": workspace.slug} if by == "slug" else {"workspace_id": workspace.id}

    found = selectors.membership_in(outsider.user, **key)

    assert found is None


def test_membership_in_for_an_anonymous_user_is_none(workspace, member):
    found = selectors.membership_in(AnonymousUser(), slug=workspace.slug)

    assert found is None


# --- Tags and filter choices -------------------------------------------------------------------


def test_tag_suggestions_start_with_the_normalised_prefix(workspace, other_workspace):
    for name in ["event 2026", "event 2025", "eventual", "prevent"]:
        TagFactory(workspace=workspace, name=name)
    TagFactory(workspace=other_workspace, name="event 2024")

    names = selectors.tag_suggestions(workspace, "  EVENT   20")

    assert names == ["event 2025", "event 2026"]


def test_tag_suggestions_are_capped_at_the_limit_in_name_order(workspace):
    for name in ["delta", "alpha", "charlie", "bravo"]:
        TagFactory(workspace=workspace, name=name)

    names = selectors.tag_suggestions(workspace, "", limit=3)

    assert names == ["alpha", "bravo", "charlie"]


def test_company_choices_are_distinct_sorted_and_leave_out_blanks(workspace, other_workspace):
    for company in ["Umbrella", "Acme", "", "Initech", "Acme", ""]:
        person(workspace, "Pat", company=company)
    person(other_workspace, "Pat", company="Globex")

    companies = selectors.company_choices(workspace)

    assert companies == ["Acme", "Initech", "Umbrella"]


def test_tags_with_counts_counts_each_tags_contacts_including_none(workspace, other_workspace):
    person(workspace, "Ann", tags=["vip", "partner"])
    person(workspace, "Bob", tags=["vip"])
    TagFactory(workspace=workspace, name="unused")
    person(other_workspace, "Fay", tags=["vip"])

    tags = selectors.tags_with_counts(workspace)

    assert [(t.name, t.contact_count) for t in tags] == [("partner", 1), ("unused", 0), ("vip", 2)]


def test_tag_contact_counts_leaves_out_tags_without_contacts(workspace):
    person(workspace, "Ann", tags=["vip", "partner"])
    person(workspace, "Bob", tags=["vip"])
    unused = TagFactory(workspace=workspace, name="unused")
    tags = {t.name: t.id for t in selectors.tags_of(workspace)}

    counts = selectors.tag_contact_counts(tags.values())

    assert counts == {tags["vip"]: 2, tags["partner"]: 1}
    assert unused.id not in counts
