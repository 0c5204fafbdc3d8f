"""contacts/search: the full-text index on this engine (SQLite FTS5 or PostgreSQL tsvector),
through the list's read (`contacts_matching`), the page and the API."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection

from contacts import search, selectors, services
from contacts.factories import ContactFactory
from contacts.models import Contact, Workspace
from contacts.search import highlight, snippet
from contacts.selectors import ContactQuery
from contacts.services import ContactData

pytestmark = pytest.mark.django_db


def person(workspace, first: str, last: str = "", **fields) -> Contact:
    """A contact with only the given searchable fields, so a search can match nothing else."""
    defaults = {"email": None, "phone": "", "company": "", "job_title": "", "notes": ""}
    return ContactFactory(workspace=workspace, first_name=first, last_name=last, **{**defaults, **fields})


def found(workspace, search_text: str, **query) -> list[str]:
    query = ContactQuery(search=search_text, **query)
    return [c.full_name for c in selectors.contacts_matching(workspace, query)]


def index_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM contacts_search")
        return cursor.fetchone()[0]


# --- What matches ----------------------------------------------------------------------------


def test_every_word_must_start_a_word_of_the_contact(workspace):
    person(workspace, "Annabel", "Leeds")
    person(workspace, "Annabel", "Smith")
    person(workspace, "Leo", "Annan")

    assert found(workspace, "ann lee") == ["Annabel Leeds"]
    assert found(workspace, "lee ann") == ["Annabel Leeds"]
    assert found(workspace, "nnab") == []  # inside a word is not a match
    assert sorted(found(workspace, "a")) == ["Annabel Leeds", "Annabel Smith", "Leo Annan"]


@pytest.mark.parametrize(
    ("field", "value", "typed"),
    [
        ("email", "zoe.ob@northwind.example", "northw"),
        ("email", "zoe.ob@northwind.example", "zoe ob"),
        ("company", "Müller & Söhne GmbH", "sohne"),
        ("job_title", "Head of R&D", "head r"),
        ("phone", "+44 20 7946 0018", "7946"),
        ("notes", "Met at the Lisbon fair; prefers calls after 4pm.", "lisb fair"),
    ],
)
def test_each_searched_field_matches_by_word_prefix(workspace, field, value, typed):
    person(workspace, "Ann", **{field: value})
    person(workspace, "Bob")

    assert found(workspace, typed) == ["Ann"]


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Zoë Åberg", "zoe aberg"),
        ("Zoe Aberg", "ZOË ÅB"),
        ("François Ñúñez", "francois nun"),
        ("ANNA Lee", "anna LEE"),
    ],
)
def test_case_and_accents_are_forgiven_both_ways(workspace, stored, typed):
    first, last = stored.split()
    person(workspace, first, last)

    assert found(workspace, typed) == [stored]


def test_a_workspace_never_finds_another_workspaces_contacts(workspace, other_workspace):
    person(workspace, "Annabel", "Leeds")
    person(other_workspace, "Annabel", "Leeds-Other")

    assert found(workspace, "annabel") == ["Annabel Leeds"]
    assert found(other_workspace, "annabel") == ["Annabel Leeds-Other"]


def test_search_combines_with_the_filters(workspace):
    person(workspace, "Ann", "Active", status="active")
    person(workspace, "Ann", "Lead", status="lead")

    assert found(workspace, "ann", status="active") == ["Ann Active"]


# --- Order -----------------------------------------------------------------------------------


def test_without_a_chosen_order_name_matches_come_before_company_before_details_before_notes(workspace):
    person(workspace, "Zed", "Notes", notes="Spoke with the harbor master on Tuesday")
    person(workspace, "Zed", "Mail", email="contact@harborview.example")
    person(workspace, "Zed", "Company", company="Harbor Logistics")
    person(workspace, "Harbor", "Name")

    assert found(workspace, "harbor") == ["Harbor Name", "Zed Company", "Zed Mail", "Zed Notes"]
    assert ContactQuery(search="harbor").sorted_by == "relevance"


def test_a_chosen_order_wins_over_relevance(workspace):
    person(workspace, "Zed", "Company", company="Harbor Logistics")
    person(workspace, "Harbor", "Name")

    # "name" sorts by last name: Company before Name.
    assert found(workspace, "harbor", ordering="name") == ["Zed Company", "Harbor Name"]
    assert found(workspace, "harbor", ordering="-name") == ["Harbor Name", "Zed Company"]


def test_equally_good_matches_come_newest_first(workspace):
    for last in ("Young", "Adams", "Miller"):
        person(workspace, "Kim", last)

    assert found(workspace, "kim") == ["Kim Miller", "Kim Adams", "Kim Young"]
    page = selectors.contact_page(workspace, ContactQuery(search="kim"))
    assert [c.full_name for c in page.contacts] == ["Kim Miller", "Kim Adams", "Kim Young"]


def test_a_plain_search_reads_the_index_alone_and_agrees_with_the_general_path(workspace, other_workspace):
    """The list's common case (a search alone, best first) is counted and ordered by the index
    without joining the contacts; it must give exactly what the general path gives."""
    for n in range(7):
        person(workspace, "Kim", f"Smith{n % 3}", company="Kimberly Clark" if n % 2 else "")
    person(workspace, "Zed", "Kimball", notes="kim called")
    person(other_workspace, "Kim", "Elsewhere")
    query = ContactQuery(search="kim")

    general = [c.full_name for c in selectors.contacts_matching(workspace, query)]
    pages = [
        selectors.contact_page(workspace, ContactQuery(search="kim", page=n), per_page=3) for n in (1, 2, 3)
    ]

    assert [c.full_name for page in pages for c in page.contacts] == general
    assert {page.total for page in pages} == {8}
    assert "Kim Elsewhere" not in general
    past_the_end = selectors.contact_page(workspace, ContactQuery(search="kim", page=99), per_page=3)
    assert past_the_end.page.number == 3 and len(past_the_end.contacts) == 2


def test_a_broad_search_shows_its_best_matches_name_matches_first(
    workspace, member_client, member_api, monkeypatch
):
    """More matches than BROAD_SEARCH_SHOWN: the page ranks a bounded set of candidates, says how
    many matched in all and asks for another word; the API still pages through every match."""
    monkeypatch.setattr(selectors, "BROAD_SEARCH_SHOWN", 3)
    for n in range(4):
        person(workspace, "Zed", f"Other{n}", notes=f"Met Rowan at fair {n}")
    person(workspace, "Rowan", "Atkinson")
    person(workspace, "Rowena", "Bell")

    page = selectors.contact_page(workspace, ContactQuery(search="row"))

    assert (page.found, page.total) == (6, 3)
    # Ranked among the candidates: any name match shown comes before the notes matches.
    tiers = ["Zed" not in c.full_name for c in page.contacts]
    assert tiers == sorted(tiers, reverse=True)
    html = member_client.get(f"/w/{workspace.slug}/contacts/", {"search": "row"}).content.decode()
    count = re.sub(r"\s+", " ", re.search(r"data-count>(.*?)</p>", html, re.S).group(1))
    assert "<strong>6</strong> of 6 match<" in count and "showing 3 of them, best first" in count, count
    api = member_api.get(f"/api/v1/workspaces/{workspace.id}/contacts/", {"search": "row"}).json()
    assert api["count"] == 6 and len(api["results"]) == 6
    assert {c["full_name"] for c in api["results"][:2]} == {"Rowan Atkinson", "Rowena Bell"}


# --- Any input is safe -----------------------------------------------------------------------

HOSTILE = [
    '"',
    "'",
    "*",
    "-",
    "- ann",
    "ann -lee",
    "OR",
    "ann OR lee",
    "NEAR",
    "NEAR(ann lee)",
    "(",
    ")",
    "((ann",
    "ann AND",
    "AND",
    "NOT ann",
    "ann:*",
    "ann & !lee | x <-> y",
    "{first_name}:ann",
    "first_name:ann",
    "^ann",
    "ann*",
    '"ann" "',
    "\\",
    "%",
    "_",
    "%_%",
    "$where",
    '{"$gt": ""}',
    "1=1; DROP TABLE contacts_contact; --",
    "ann\x00lee",
    "\u200b",
    "🙂",
    "ann 🙂 lee",
    "\u202eann",
    "ä" * 500,
    "ann " * 300,
    " ".join(f"w{n}" for n in range(50)),
    "",
    "   ",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_any_input_gives_results_or_an_empty_list_never_an_error(workspace, text):
    person(workspace, "Annabel", "Leeds", notes="NEAR the OR gate (AND not) * - ^")

    names = found(workspace, text)

    assert names in ([], ["Annabel Leeds"])
    assert selectors.contact_page(workspace, ContactQuery(search=text)).total == len(names)


@pytest.mark.parametrize("text", ["🙂", "*", "-", "((", '"'])
def test_a_search_without_a_letter_or_digit_matches_nothing(workspace, text):
    person(workspace, "Annabel", "Leeds")

    assert found(workspace, text) == []


@pytest.mark.parametrize("text", ["NEAR(ann", "ann OR", "'ann':*", "ann -", "🙂"])
def test_hostile_searches_answer_the_page_and_the_api(workspace, member_client, member_api, text):
    person(workspace, "Annabel", "Leeds")

    page = member_client.get(f"/w/{workspace.slug}/contacts/", {"search": text})
    api = member_api.get(f"/api/v1/workspaces/{workspace.id}/contacts/", {"search": text})

    assert page.status_code == 200
    assert api.status_code == 200 and api.json()["count"] in (0, 1)


# --- The index follows every write -----------------------------------------------------------


def test_the_index_follows_create_edit_and_delete_through_the_services(workspace, member):
    contact = services.contact_create(
        workspace=workspace, by=member, data=ContactData(first_name="Quentin", last_name="Blake")
    )
    assert found(workspace, "quent") == ["Quentin Blake"]

    services.contact_update(
        contact=contact, by=member, data=ContactData(first_name="Roald", last_name="Blake", notes="Matilda")
    )
    assert found(workspace, "quent") == []
    assert found(workspace, "roald matil") == ["Roald Blake"]

    services.contact_delete(contact=Contact.objects.get(pk=contact.pk), by=member)
    assert found(workspace, "roald") == []
    assert index_rows() == 0


def test_the_index_follows_bulk_inserts_queryset_updates_and_cascading_deletes(workspace):
    people = [Contact(workspace=workspace, first_name=f"Bulk{n}", last_name="Person") for n in range(3)]
    for contact in people:
        contact.refresh_derived_fields()
    Contact.objects.bulk_create(people)
    assert sorted(found(workspace, "bulk")) == ["Bulk0 Person", "Bulk1 Person", "Bulk2 Person"]

    Contact.objects.filter(workspace=workspace).update(company="Initech")
    assert len(found(workspace, "initech")) == 3

    Workspace.objects.filter(pk=workspace.pk).delete()
    assert index_rows() == 0


def test_the_rebuild_command_restores_a_lost_index(workspace):
    person(workspace, "Annabel", "Leeds")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM contacts_search")
    assert found(workspace, "annabel") == []

    output = io.StringIO()
    call_command("search_index_rebuild", stdout=output)

    assert found(workspace, "annabel") == ["Annabel Leeds"]
    assert "1 contacts" in output.getvalue() and index_rows() == 1
    assert search.rebuild() == 1  # and again: idempotent


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite drops triggers when it rebuilds a table")
def test_after_migrations_dropped_the_sqlite_triggers_they_are_restored_and_the_index_refilled(workspace):
    person(workspace, "Annabel", "Leeds")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER contacts_search_insert")  # what rebuilding contacts_contact does
    person(workspace, "Bruno", "Adams")  # written while the trigger was missing
    assert found(workspace, "bruno") == []

    call_command("migrate", verbosity=0)  # post_migrate checks the triggers

    assert found(workspace, "bruno") == ["Bruno Adams"]
    person(workspace, "Chloe", "Zola")
    assert found(workspace, "chloe") == ["Chloe Zola"]
    assert search.keep_in_step() is False  # nothing left to repair


# --- Marking what matched --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms", "marked"),
    [
        ("Annabel Leeds", ["ann", "lee"], "<mark>Ann</mark>abel <mark>Lee</mark>ds"),
        ("Zoë Åberg", ["zoe", "ab"], "<mark>Zoë</mark> <mark>Åb</mark>erg"),
        ("Leo Annan", ["ann"], "Leo <mark>Ann</mark>an"),
        ("Anna Ann", ["an", "ann"], "<mark>Ann</mark>a <mark>Ann</mark>"),
        ("<b>Ann</b>", ["ann"], "&lt;b&gt;<mark>Ann</mark>&lt;/b&gt;"),
        ("Nobody", ["ann"], "Nobody"),
        ("Ann", [], "Ann"),
    ],
)
def test_highlight_marks_the_matched_start_of_each_word_and_escapes_the_rest(text, terms, marked):
    assert highlight(text, terms) == marked


def test_a_notes_snippet_shows_the_words_around_the_match():
    notes = (
        "First met at a trade fair in Porto in 2019. "
        + "Filler words here. " * 10
        + "Wants the Lisbon catalogue."
    )

    shown = snippet(notes, ["lisb"])

    assert "<mark>Lisb</mark>on catalogue." in shown and shown.startswith("…")
    assert "Porto" not in shown
    assert snippet(notes, ["zzz"]) == ""


def test_the_list_page_marks_matches_and_shows_why_a_notes_match_was_found(workspace, member_client):
    person(workspace, "Annabel", "Leeds", company="Annex Ltd")
    person(workspace, "Zed", "Quiet", notes="Call Annabel's assistant first")

    html = member_client.get(f"/w/{workspace.slug}/contacts/", {"search": "annab"}).content.decode()

    assert "<mark>Annab</mark>el Leeds" in html
    assert "Call <mark>Annab</mark>el" in html


def test_the_api_ranks_by_relevance_unless_asked_for_an_order(workspace, member_api):
    person(workspace, "Zed", "Company", company="Harbor Logistics")
    person(workspace, "Harbor", "Name")
    url = f"/api/v1/workspaces/{workspace.id}/contacts/"

    ranked = member_api.get(url, {"search": "harb"}).json()["results"]
    by_name = member_api.get(url, {"search": "harb", "ordering": "name"}).json()["results"]
    relevance = member_api.get(url, {"search": "harb", "ordering": "relevance"}).json()["results"]

    assert [c["full_name"] for c in ranked] == ["Harbor Name", "Zed Company"]
    assert [c["full_name"] for c in by_name] == ["Zed Company", "Harbor Name"]
    assert relevance == ranked
