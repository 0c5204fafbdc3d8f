"""Compile-check scenarios for contacts.selectors (see scenarios.py)."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from contacts import selectors
from contacts.models import ActivationRun, Contact, normalize_email
from contacts.selectors import CONTACT_ORDERINGS, ContactQuery
from tests.mongodb.scenarios import (
    CONTACT_TAGS,
    CONTACTS,
    MEMBERSHIPS,
    TAGS,
    USERS,
    WORKSPACES,
    World,
    conditions,
    joined,
    mentions,
    one_pipeline,
    scenario,
    sort_keys,
    stage,
)
from tests.mongodb.standin import to_document

# --- workspaces ----------------------------------------------------------------------------------


@scenario(selectors.memberships_of)
def memberships_of_a_user(w: World) -> None:
    w.db.answer(MEMBERSHIPS, [joined(w.member, workspace=w.workspace)])

    found = selectors.memberships_of(w.member.user)

    assert [m.workspace.name for m in found] == ["Acme Sales"]
    pipeline = one_pipeline(w, MEMBERSHIPS)
    assert {"user_id": w.member.user.pk} in conditions(stage(pipeline, "$match"))
    assert stage(pipeline, "$lookup")["from"] == WORKSPACES
    assert sort_keys(pipeline) == [(f"{WORKSPACES}.name", 1)]


@scenario(selectors.memberships_of, selectors.membership_in)
def memberships_of_an_anonymous_visitor(w: World) -> None:
    assert selectors.memberships_of(AnonymousUser()) == []
    assert selectors.membership_in(AnonymousUser(), slug="acme-sales") is None
    assert not w.db.operations


@scenario(selectors.membership_in)
def membership_in_by_slug(w: World) -> None:
    w.db.answer(MEMBERSHIPS, [joined(w.member, workspace=w.workspace)])

    found = selectors.membership_in(w.member.user, slug="acme-sales")

    assert found == w.member and found.workspace.slug == "acme-sales"
    match = conditions(stage(one_pipeline(w, MEMBERSHIPS), "$match"))
    assert {"user_id": w.member.user.pk} in match
    assert {f"{WORKSPACES}.slug": "acme-sales"} in match


@scenario(selectors.membership_in)
def membership_in_by_workspace_id(w: World) -> None:
    w.db.answer(MEMBERSHIPS, [joined(w.member, workspace=w.workspace)])

    found = selectors.membership_in(w.member.user, workspace_id=w.workspace.id)

    assert found == w.member
    pipeline = one_pipeline(w, MEMBERSHIPS)
    assert {"workspace_id": w.workspace.id.hex} in conditions(stage(pipeline, "$match"))
    assert stage(pipeline, "$limit") == 1


@scenario(selectors.live_membership)
def live_membership_of_an_active_member(w: World) -> None:
    w.db.answer(MEMBERSHIPS, [joined(w.member, workspace=w.workspace)])

    found = selectors.live_membership(w.member.user.pk, w.workspace.id)

    assert found == w.member and found.workspace.change_version == w.workspace.change_version
    pipeline = one_pipeline(w, MEMBERSHIPS)
    match = conditions(stage(pipeline, "$match"))
    assert {"user_id": w.member.user.pk} in match
    assert {"workspace_id": w.workspace.id.hex} in match
    assert mentions(pipeline, "is_active", True)
    assert USERS in [step["$lookup"]["from"] for step in pipeline if "$lookup" in step]


# --- contacts ------------------------------------------------------------------------------------


@scenario(selectors.contacts_of)
def contacts_of_a_workspace(w: World) -> None:
    found = list(selectors.contacts_of(w.workspace))

    assert {c.id for c in found} == {w.contact.id, w.other_contact.id}
    pipeline = one_pipeline(w, CONTACTS)
    assert {"workspace_id": w.workspace.id.hex} in conditions(stage(pipeline, "$match"))
    assert sort_keys(pipeline) == [("last_name", 1), ("first_name", 1)]


@scenario(selectors.contact_in)
def contact_in_a_workspace(w: World) -> None:
    assert selectors.contact_in(w.workspace, w.contact.id) == w.contact
    assert selectors.contact_in(w.workspace, w.foreign_contact.id) is None
    for pipeline in w.db.pipelines(CONTACTS):
        assert {"workspace_id": w.workspace.id.hex} in conditions(stage(pipeline, "$match"))


@scenario(selectors.contact_with_email)
def contact_with_email_finds_the_workspaces_contact_by_its_stored_address(w: World) -> None:
    assert selectors.contact_with_email(w.workspace, "  BOB@Example.COM ") == w.other_contact
    assert selectors.contact_with_email(w.workspace, "fiona@example.com") is None  # another workspace's
    assert selectors.contact_with_email(w.workspace, "") is None
    first = w.db.pipelines(CONTACTS)[0]
    assert {"workspace_id": w.workspace.id.hex} in conditions(stage(first, "$match"))
    assert mentions(first, "email", normalize_email("  BOB@Example.COM "))


@scenario(selectors.contact_detail)
def contact_detail_reads_one_contact_of_the_workspace_and_its_tags(w: World) -> None:
    w.db.answer(CONTACT_TAGS, [joined(w.link, tag=w.tag)])

    contact, tags = selectors.contact_detail(w.workspace, w.contact.id)

    assert (contact.id, contact.first_name, tags) == (w.contact.id, "Annabel", ["vip"])
    row_read = w.db.pipelines(CONTACTS)[0]
    assert {"workspace_id": w.workspace.id.hex} in conditions(stage(row_read, "$match"))
    assert selectors.contact_detail(w.workspace, w.foreign_contact.id) is None


@scenario(selectors.contact_count)
def contact_count_of_a_workspace(w: World) -> None:
    w.db.answer(CONTACTS, [{"__count": 2}])

    assert selectors.contact_count(w.workspace) == 2
    assert mentions(one_pipeline(w, CONTACTS), "workspace_id", w.workspace.id.hex)


@scenario(selectors.contacts_matching)
def contacts_matching_search_asks_the_text_index_then_filters_by_its_ids(w: World) -> None:
    w.db.answer(CONTACTS, [{"_id": w.contact.id.hex}])  # what `$text` found, best first

    found = list(selectors.contacts_matching(w.workspace, ContactQuery(search='  ann "LÉE" -x* (')))

    assert found == [w.contact]
    text_search, rows = w.db.pipelines(CONTACTS)
    assert text_search[0] == {
        "$match": {"$text": {"$search": '"ann" "lee" "x"'}, "workspace_id": w.workspace.id.hex}
    }
    assert mentions(rows, "workspace_id", w.workspace.id.hex)
    assert mentions(rows, "_id", {"$in": (w.contact.id.hex,)})
    assert "$switch" in str(rows), "ordered by the position `$text` gave each id"


@scenario(selectors.contacts_matching)
def contacts_matching_a_search_without_words_reads_nothing(w: World) -> None:
    assert list(selectors.contacts_matching(w.workspace, ContactQuery(search="🙂 *"))) == []
    assert not w.db.pipelines(CONTACTS)


@scenario(selectors.contacts_matching)
def contacts_matching_status(w: World) -> None:
    found = list(selectors.contacts_matching(w.workspace, ContactQuery(status="active")))

    assert found == [w.other_contact]
    assert {"status": "active"} in conditions(stage(one_pipeline(w, CONTACTS), "$match"))


@scenario(selectors.contacts_matching)
def contacts_matching_company_ignores_case_and_escapes_regex(w: World) -> None:
    # "a+b (uk)" as an unescaped regular expression would not match "A+B (UK)".
    found = list(selectors.contacts_matching(w.workspace, ContactQuery(company="a+b (uk)")))

    assert found == [w.other_contact]


@scenario(selectors.contacts_matching)
def contacts_matching_tag(w: World) -> None:
    w.db.answer(CONTACT_TAGS, [{"contact_id": w.contact.id.hex}])

    found = list(selectors.contacts_matching(w.workspace, ContactQuery(tag="vip")))

    assert found == [w.contact]
    lookup = stage(one_pipeline(w, CONTACT_TAGS), "$lookup")
    assert lookup["from"] == TAGS
    tag_match = conditions(stage(lookup["pipeline"], "$match"))
    assert {"workspace_id": w.workspace.id.hex} in tag_match and {"name": "vip"} in tag_match
    assert {"_id": {"$in": (w.contact.id.hex,)}} in conditions(stage(one_pipeline(w, CONTACTS), "$match"))


@scenario(selectors.contacts_matching)
def contacts_matching_every_filter_at_once(w: World) -> None:
    w.db.answer(CONTACTS, [{"_id": w.contact.id.hex}])  # the text index's answer to "ann"
    w.db.answer(CONTACT_TAGS, [{"contact_id": w.contact.id.hex}])
    query = ContactQuery(
        search="ann", tag="vip", company="initech", status="lead", ordering="-created", page=3
    )

    assert list(selectors.contacts_matching(w.workspace, query)) == [w.contact]


def _expected_sort(ordering: tuple[str, ...]) -> list[tuple[str, int]]:
    return [
        (Contact._meta.get_field(name.lstrip("-")).column, -1 if name.startswith("-") else 1)
        for name in ordering
    ]


def _ordering_scenario(key: str) -> None:
    def run(w: World) -> None:
        list(selectors.contacts_matching(w.workspace, ContactQuery(ordering=key)))

        pipeline = one_pipeline(w, CONTACTS)
        keys = sort_keys(pipeline)
        if key.endswith("company"):
            # First whether the company is blank (a computed field: blanks last both ways).
            assert keys[0][1] == 1 and "$switch" in str(pipeline), keys
            keys = keys[1:]
        assert keys == _expected_sort(CONTACT_ORDERINGS[key])
        assert keys[-1][0] == "_id", "every ordering ends in the primary key so pages are stable"

    scenario(selectors.contacts_matching, name=f"contacts_matching_ordered_by[{key}]")(run)


for _key in CONTACT_ORDERINGS:
    _ordering_scenario(_key)


@scenario(selectors.contacts_matching)
def contacts_matching_unknown_ordering_falls_back_to_name(w: World) -> None:
    list(selectors.contacts_matching(w.workspace, ContactQuery(ordering="salary")))

    assert sort_keys(one_pipeline(w, CONTACTS)) == _expected_sort(
        CONTACT_ORDERINGS[selectors.DEFAULT_ORDERING]
    )


@scenario(selectors.contact_page, selectors.tag_names_by_contact)
def contact_page_first_page_with_tags(w: World) -> None:
    w.db.answer(CONTACTS, [{"__count": 2}])
    w.db.answer(CONTACT_TAGS, [joined(w.link, tag=w.tag)])

    page = selectors.contact_page(w.workspace, ContactQuery())

    assert page.total == 2
    assert {c.id for c in page.contacts} == {w.contact.id, w.other_contact.id}
    assert page.tags_by_contact == {w.contact.id: ["vip"]}
    count, rows = w.db.pipelines(CONTACTS)
    assert "$facet" in str(count)
    assert stage(rows, "$limit") == 2 and "$skip" not in str(rows), (
        "the first page reads what the count allows"
    )
    tag_match = conditions(stage(one_pipeline(w, CONTACT_TAGS), "$match"))
    assert sorted(tag_match[0]["contact_id"]["$in"]) == sorted([w.contact.id.hex, w.other_contact.id.hex])


@scenario(selectors.contact_page)
def contact_page_later_page(w: World) -> None:
    w.db.answer(CONTACTS, [{"__count": 120}])

    page = selectors.contact_page(w.workspace, ContactQuery(page=2, ordering="-company"))

    assert (page.page.number, page.total) == (2, 120)
    _count, rows = w.db.pipelines(CONTACTS)
    assert stage(rows, "$skip") == settings.CONTACTS_PAGE_SIZE
    assert stage(rows, "$limit") == settings.CONTACTS_PAGE_SIZE


@scenario(selectors.tag_names_by_contact, selectors.contact_tag_names)
def tag_names_of_contacts(w: World) -> None:
    assert selectors.tag_names_by_contact([]) == {}
    assert not w.db.operations, "no ids, no query"
    w.db.answer(CONTACT_TAGS, [joined(w.link, tag=w.tag)])

    assert selectors.contact_tag_names(w.contact) == ["vip"]
    assert sort_keys(one_pipeline(w, CONTACT_TAGS)) == [(f"{TAGS}.name", 1)]


# --- tags and filter choices ----------------------------------------------------------------------


@scenario(selectors.tag_name_taken)
def tag_name_taken_looks_in_one_workspace(w: World) -> None:
    assert selectors.tag_name_taken(w.workspace.id, "vip") is True
    assert selectors.tag_name_taken(w.workspace.id, "vip", exclude_id=w.tag.id) is False
    pipeline = w.db.pipelines(TAGS)[0]
    assert mentions(pipeline, "workspace_id", w.workspace.id.hex)


@scenario(selectors.tags_of, selectors.tag_exists)
def tags_of_a_workspace(w: World) -> None:
    assert list(selectors.tags_of(w.workspace)) == [w.tag]
    assert selectors.tag_exists(w.workspace, "vip") is True
    assert selectors.tag_exists(w.workspace, "nope") is False


@scenario(selectors.tags_with_counts, selectors.tag_contact_counts)
def tags_with_contact_counts(w: World) -> None:
    # The grouping runs on the server; answer it as MongoDB would.
    w.db.answer(CONTACT_TAGS, [{"tag_id": w.tag.id.hex, "n": 3}])

    tags = selectors.tags_with_counts(w.workspace)

    assert [(tag.name, tag.contact_count) for tag in tags] == [("vip", 3)]
    assert "$group" in str(one_pipeline(w, CONTACT_TAGS))


@scenario(selectors.tag_list)
def tag_list_is_plain_data(w: World) -> None:
    w.db.answer(CONTACT_TAGS, [{"tag_id": w.tag.id.hex, "n": 3}])

    assert selectors.tag_list(w.workspace) == [{"id": w.tag.id, "name": "vip", "contact_count": 3}]


@scenario(selectors.list_filter_choices)
def list_filter_choices_read_companies_and_tags(w: World) -> None:
    w.db.answer(CONTACTS, [{"company": "Initech", "contacts": 1}])

    choices = selectors.list_filter_choices(w.workspace, tag_limit=200)

    assert choices == {"companies": ["Initech"], "tags": ["vip"]}
    assert stage(one_pipeline(w, TAGS), "$limit") == 200


@scenario(selectors.tag_suggestions)
def tag_suggestions_by_prefix(w: World) -> None:
    assert selectors.tag_suggestions(w.workspace, " V ") == ["vip"]
    assert selectors.tag_suggestions(w.workspace, "x") == []
    first, _second = w.db.pipelines(TAGS)
    assert stage(first, "$limit") == 10


@scenario(selectors.company_choices)
def company_choices_of_a_workspace(w: World) -> None:
    w.db.answer(CONTACTS, [{"company": "A+B (UK)", "contacts": 1}, {"company": "Initech", "contacts": 1}])

    assert selectors.company_choices(w.workspace) == ["A+B (UK)", "Initech"]
    pipeline = one_pipeline(w, CONTACTS)
    assert stage(pipeline, "$group")["_id"] == {"company": "$company"}
    assert {"$nor": [{"company": ""}]} in conditions(stage(pipeline, "$match"))
    assert stage(pipeline, "$limit") == 500


@scenario(selectors.status_choices)
def status_choices_need_no_database(w: World) -> None:
    assert ("lead", "Lead") in selectors.status_choices()
    assert not w.db.operations


# --- activation runs -------------------------------------------------------------------------------

RUNS = ActivationRun._meta.db_table


@scenario(selectors.activation_run_in, selectors.activation_runs_of)
def activation_run_in_looks_in_one_workspace(w: World) -> None:
    run = ActivationRun(workspace=w.workspace, total=2)
    w.db.store(run)

    assert selectors.activation_run_in(w.workspace, run.id) == run
    match = conditions(stage(one_pipeline(w, RUNS), "$match"))
    assert {"workspace_id": w.workspace.id.hex} in match and {"_id": run.id.hex} in match


@scenario(selectors.activation_runs_to_show, selectors.activation_runs_of)
def activation_runs_to_show_unfinished_and_recent(w: World) -> None:
    w.db.answer(RUNS, [to_document(ActivationRun(workspace=w.workspace, total=1))])

    runs = selectors.activation_runs_to_show(w.workspace)

    assert [run.total for run in runs] == [1]
    pipeline = one_pipeline(w, RUNS)
    match = str(stage(pipeline, "$match"))
    assert "workspace_id" in match and "$or" in match and "finished_at" in match
    assert sort_keys(pipeline) == [("created_at", -1)]


@scenario(selectors.activation_run_ends, selectors.any_run_to_show)
def activation_run_ends_answer_whether_the_list_reads_runs(w: World) -> None:
    long_ago = timezone.now() - timedelta(hours=2)
    w.db.answer(RUNS, [to_document(ActivationRun(workspace=w.workspace, total=1, finished_at=long_ago))])

    ends = selectors.activation_run_ends(w.workspace)

    assert len(ends) == 1 and abs(ends[0] - long_ago) < timedelta(seconds=1)  # (MongoDB keeps ms)
    assert not selectors.any_run_to_show(ends)
    assert selectors.any_run_to_show([None])
    assert "workspace_id" in str(stage(one_pipeline(w, RUNS), "$match"))


# --- reports ---------------------------------------------------------------------------------------


@scenario(selectors.contacts_matching)
def contacts_matching_created_in_a_month(w: World) -> None:
    list(selectors.contacts_matching(w.workspace, ContactQuery(created="2025-03")))

    match = str(stage(one_pipeline(w, CONTACTS), "$match"))
    assert "created_at" in match and "$gte" in match and "$lt" in match, match


@scenario(selectors.workspace_report)
def workspace_report_groups_each_section_and_counts_each_month(w: World) -> None:
    this_month = timezone.now().astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # The groupings run on the server; answer them as MongoDB would, in the order they are asked.
    w.db.answer(CONTACTS, [{"status": "lead", "count": 3}, {"status": "active", "count": 1}])
    w.db.answer(CONTACTS, [{"key": "initech", "name": "Initech", "count": 2}])
    w.db.answer(CONTACT_TAGS, [{TAGS: {"name": "vip"}, "count": 1}])  # the joined tag's name
    for _ in range(23):  # one range count per month, oldest first: all empty but this month
        w.db.answer(CONTACTS, [{"__count": 0}])
    w.db.answer(CONTACTS, [{"__count": 4}])

    report = selectors.workspace_report(w.workspace)

    assert report["total"] == 4
    assert report["by_status"] == [
        {"status": "lead", "count": 3},
        {"status": "active", "count": 1},
        {"status": "archived", "count": 0},
    ]
    assert report["by_company"] == [
        {"company": "Initech", "count": 2},
        {"company": None, "label": "Others", "count": 2},
    ]
    assert report["top_tags"] == [{"tag": "vip", "count": 1}]
    assert len(report["by_month"]) == 24
    assert report["by_month"][-1] == {"month": this_month.strftime("%Y-%m"), "count": 4}
    statuses, companies, *months = w.db.pipelines(CONTACTS)
    for pipeline in (statuses, companies):
        assert "$group" in str(pipeline)
    assert "$toLower" in str(stage(companies, "$group")), "companies are told apart ignoring case"
    assert stage(companies, "$limit") == 20
    assert len(months) == 24
    assert all(mentions(month, "workspace_id", w.workspace.id.hex) for month in months)
    for month in months:
        match = str(stage(month, "$match"))
        assert "'created_at': {'$gte'" in match and "'created_at': {'$lt'" in match, "a range"
    tags = one_pipeline(w, CONTACT_TAGS)
    assert stage(tags, "$lookup")["from"] == TAGS
    assert mentions(tags, "workspace_id", w.workspace.id.hex)
    assert stage(tags, "$limit") == 10
