"""The workspace report (contacts/selectors/reports.py), its page, and the list's month filter.

The expected figures are counted here from the contacts the test created, not asked of the
database, and every bar's count is checked against the contact list filtered the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.db.models import F

from contacts import selectors, services
from contacts.factories import ContactFactory
from contacts.models import Contact, ContactStatus, Workspace
from contacts.selectors import ContactQuery
from contacts.services import ContactData
from tests.test_views_query_strings import HOSTILE

LONG_COMPANY = (
    "The Extraordinarily Long-Named International Consolidated Holding Company of Greater Metropolis"
)


def fresh(workspace: Workspace) -> Workspace:
    """The workspace as a request loads it, with its current change version."""
    return Workspace.objects.get(pk=workspace.pk)


def month_of(moment: datetime, back: int = 0) -> str:
    """`YYYY-MM` of the month `back` months before `moment`'s (counted here, not by the app)."""
    index = moment.year * 12 + moment.month - 1 - back
    return f"{index // 12:04}-{index % 12 + 1:02}"


def first_instant(month: str) -> datetime:
    year, number = map(int, month.split("-"))
    return datetime(year, number, 1, tzinfo=UTC)


def set_created(contacts: list[Contact], when: datetime) -> None:
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(created_at=when)
    for contact in contacts:
        contact.created_at = when
    # A bulk write that bypasses the services bumps the version itself (as the factories do).
    Workspace.objects.filter(pk=contacts[0].workspace_id).update(change_version=F("change_version") + 1)


@pytest.fixture
def made(workspace, other_workspace):
    """Contacts of 24 companies (one in two spellings), 12 tags, three statuses, four months."""
    now = datetime.now(UTC)
    contacts: list[Contact] = []

    def made_with(tags: list[str], **fields) -> Contact:
        contact = ContactFactory(workspace=workspace, tags=tags, **fields)
        contact.given_tags = tags  # what the expected figures count, without asking the database
        return contact

    statuses = [ContactStatus.LEAD, ContactStatus.ACTIVE, ContactStatus.LEAD, ContactStatus.ACTIVE]
    for index in range(24):
        # Companies 0-3 have four contacts, 4-9 two, the rest one: 16 + 12 + 14 = 42.
        size = 4 if index < 4 else 2 if index < 10 else 1
        for n in range(size):
            name = f"Company {index:02}"
            if index == 0 and n == 1:
                name = name.upper()  # "COMPANY 00": the same company for the list's filter
            tags = [f"tag {t:02}" for t in range(12) if (index + n) % (t + 2) == 0]
            status = statuses[(index + n) % 4]
            contacts.append(made_with(tags, company=name, status=status))
    contacts.append(made_with([], company=LONG_COMPANY, status=ContactStatus.LEAD))
    contacts += [made_with(["tag 00"], company="") for _ in range(3)]
    # Months: the oldest shown month starts exactly at midnight UTC; one contact falls just before
    # it (25 months ago), one on the last second of last month; two months back stays empty.
    set_created(contacts[0:2], first_instant(month_of(now, 23)))
    set_created(contacts[2:3], first_instant(month_of(now, 23)) - timedelta(seconds=1))
    set_created(contacts[3:4], first_instant(month_of(now, 24)) - timedelta(days=3))
    set_created(contacts[4:7], first_instant(month_of(now, 0)) - timedelta(seconds=1))
    set_created(contacts[7:9], first_instant(month_of(now, 3)) + timedelta(days=10))
    # Another workspace with the same companies and tags must never be counted.
    for _ in range(6):
        ContactFactory(workspace=other_workspace, company="Company 00", tags=["tag 00", "foreign"])
    return contacts


def expected_report(contacts: list[Contact]) -> dict:
    """The report of `contacts`, counted in Python; company names in lower case (see `ignoring_case`)."""
    now = datetime.now(UTC)
    companies = Counter(c.company.lower() for c in contacts if c.company)
    top = sorted(companies.items(), key=lambda item: (-item[1], item[0]))[:20]
    by_company = [{"company": key, "count": count} for key, count in top]
    rest = len(contacts) - sum(count for _key, count in top)
    if rest:
        by_company.append({"company": None, "label": "Others", "count": rest})
    tags = Counter(name for c in contacts for name in c.given_tags)
    months = Counter(month_of(c.created_at) for c in contacts)
    statuses = Counter(c.status for c in contacts)
    return {
        "total": len(contacts),
        "by_status": [{"status": s, "count": statuses[s]} for s in ("lead", "active", "archived")],
        "by_company": by_company,
        "top_tags": [
            {"tag": name, "count": count}
            for name, count in sorted(tags.items(), key=lambda item: (-item[1], item[0]))[:10]
        ],
        "by_month": [
            {"month": month_of(now, back), "count": months[month_of(now, back)]} for back in range(23, -1, -1)
        ],
    }


def ignoring_case(report: dict) -> dict:
    """The report with company names in lower case: which spelling of a company names its bar
    ("Company 00" or "COMPANY 00") depends on the database's collation."""
    companies = [{**e, "company": e["company"] and e["company"].lower()} for e in report["by_company"]]
    return {**report, "by_company": companies}


# --- The figures ---------------------------------------------------------------------------------


def test_the_report_counts_what_the_test_created(workspace, made):
    report = selectors.workspace_report(fresh(workspace))

    assert ignoring_case(report) == expected_report(made)
    assert report["total"] == 46
    assert len(report["by_company"]) == 21 and report["by_company"][-1]["label"] == "Others"
    assert report["by_company"][0]["count"] == 4, "one company whatever the case"
    assert report["by_company"][0]["company"] in {"Company 00", "COMPANY 00"}
    assert len(report["top_tags"]) == 10 and "foreign" not in {t["tag"] for t in report["top_tags"]}


def test_the_months_are_the_last_24_with_zeros_and_nothing_older(workspace, made):
    now = datetime.now(UTC)
    months = selectors.workspace_report(fresh(workspace))["by_month"]

    assert [m["month"] for m in months] == [month_of(now, back) for back in range(23, -1, -1)]
    counts = {m["month"]: m["count"] for m in months}
    assert counts[month_of(now, 23)] == 2, "the first instant of the oldest month counts"
    assert month_of(now, 24) not in counts and month_of(now, 25) not in counts
    assert counts[month_of(now, 2)] == 0, "an empty month is listed with zero"
    assert counts[month_of(now, 1)] == 3, "the last second of a month belongs to it"
    assert counts[month_of(now, 0)] == 46 - 2 - 1 - 1 - 3 - 2


def test_every_bar_counts_what_the_list_filtered_the_same_way_shows(workspace, made):
    ws = fresh(workspace)
    report = selectors.workspace_report(ws)

    def listed(**filters: str) -> int:
        return selectors.contact_page(ws, ContactQuery(**filters)).total

    for entry in report["by_company"]:
        if entry["company"] is not None:
            assert listed(company=entry["company"]) == entry["count"], entry
    assert report["by_company"][-1]["count"] == report["total"] - sum(
        e["count"] for e in report["by_company"][:-1]
    )
    for entry in report["top_tags"]:
        assert listed(tag=entry["tag"]) == entry["count"], entry
    for entry in report["by_status"]:
        assert listed(status=entry["status"]) == entry["count"], entry
    for entry in report["by_month"]:
        assert listed(created=entry["month"]) == entry["count"], entry
    assert listed() == report["total"]


def test_another_workspaces_contacts_are_never_counted(workspace, other_workspace, made):
    report = selectors.workspace_report(fresh(other_workspace))

    assert report["total"] == 6
    assert report["by_company"] == [{"company": "Company 00", "count": 6}]
    assert report["top_tags"] == [{"tag": "foreign", "count": 6}, {"tag": "tag 00", "count": 6}]


def test_an_empty_workspace_has_zeros_not_gaps(workspace):
    report = selectors.workspace_report(fresh(workspace))

    assert report["total"] == 0
    assert [s["count"] for s in report["by_status"]] == [0, 0, 0]
    assert report["by_company"] == [] and report["top_tags"] == []
    assert len(report["by_month"]) == 24 and not any(m["count"] for m in report["by_month"])


def test_others_is_left_out_when_every_contact_is_in_a_top_company(workspace):
    ContactFactory.create_batch(3, workspace=workspace, company="Initech")

    assert selectors.workspace_report(fresh(workspace))["by_company"] == [{"company": "Initech", "count": 3}]


def test_the_report_takes_one_query_per_section_and_one_small_count_per_month(
    workspace, made, django_assert_num_queries, settings
):
    settings.CONTACTS_CACHE_ENABLED = False
    ws = fresh(workspace)

    # statuses (and the total), companies, tags; then an index range count per month, which
    # is cheaper than grouping every row by its month (bench/bench_search.py).
    with django_assert_num_queries(3 + 24):
        selectors.workspace_report(ws)


# --- Cached ----------------------------------------------------------------------------------------


def test_a_second_report_of_the_same_version_runs_no_query(workspace, made, django_assert_num_queries):
    first = selectors.workspace_report(fresh(workspace))
    warm = fresh(workspace)

    with django_assert_num_queries(0):
        again = selectors.workspace_report(warm)

    assert again == first


def test_a_write_shows_in_the_next_report(workspace, member, made):
    before = selectors.workspace_report(fresh(workspace))

    services.contact_create(
        workspace=workspace,
        by=member,
        data=ContactData(first_name="Nia", company="Company 23", status="archived"),
    )
    after = selectors.workspace_report(fresh(workspace))

    assert after["total"] == before["total"] + 1
    assert after["by_status"][2]["count"] == before["by_status"][2]["count"] + 1
    assert after["by_month"][-1]["count"] == before["by_month"][-1]["count"] + 1
    assert {"company": "Company 23", "count": 2} in after["by_company"]


# --- The page --------------------------------------------------------------------------------------


def reports_path(workspace: Workspace) -> str:
    return f"/w/{workspace.slug}/reports/"


def hrefs(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a [^>]*href="([^"]+)"', html)]


def test_the_page_draws_linked_charts_with_a_text_alternative(member_client, workspace, made):
    response = member_client.get(reports_path(workspace))

    assert response.status_code == 200
    html = response.text
    svgs = re.findall(r"<svg class=\"chart.*?</svg>", html, re.S)  # the charts, not the icons
    assert len(svgs) == 5  # companies, tags, status, months as columns and (narrow screens) as rows
    for svg in svgs:
        assert 'role="group"' in svg and "<title id=" in svg and "<desc id=" in svg
        assert 'style="' not in svg, "the CSP allows no inline style"
    links = hrefs("".join(svgs))
    list_path = f"/w/{workspace.slug}/contacts/"
    assert {f"{list_path}?company=COMPANY+00", f"{list_path}?company=Company+00"} & set(links)
    assert f"{list_path}?tag=tag+00" in links
    assert {f"{list_path}?status={s}" for s in ("lead", "active", "archived")} <= set(links)
    month = month_of(datetime.now(UTC), 2)
    assert links.count(f"{list_path}?created={month}") == 2, "the empty month is a link too (both drawings)"
    assert html.count("Show as table") == 4
    assert '<th scope="row">Others</th>' in html, "Others is in the table, unlinked"
    others = re.search(r'<g class="chart__row chart__row--others".*?</g>', html, re.S).group(0)
    assert "<a " not in others and ">Others<" in others


def test_a_long_company_name_is_cut_with_the_full_name_in_its_title(member_client, workspace, made):
    ContactFactory.create_batch(4, workspace=workspace, company=LONG_COMPANY)

    html = member_client.get(reports_path(workspace)).text

    assert f"<title>{LONG_COMPANY}: 5 contacts</title>" in html
    shown = re.search(r'<text class="chart__label" x="0" y="14">(The Extra[^<]*)</text>', html).group(1)
    assert shown.endswith("…") and len(shown) <= 40


def test_a_viewer_sees_the_page_and_an_outsider_gets_404(viewer_client, client, outsider, workspace, made):
    assert viewer_client.get(reports_path(workspace)).status_code == 200

    client.force_login(outsider.user)
    assert client.get(reports_path(workspace)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, workspace):
    response = client.get(reports_path(workspace))

    assert response.status_code == 302 and "login" in response["Location"]


def test_an_empty_workspace_says_what_to_do(member_client, viewer, client, workspace):
    html = member_client.get(reports_path(workspace)).text

    assert "Nothing to report yet" in html and '<svg class="chart' not in html
    assert f'href="/w/{workspace.slug}/contacts/new/"' in html

    client.force_login(viewer.user)
    html = client.get(reports_path(workspace)).text
    assert "ask a member of the workspace to add some" in html and "/contacts/new/" not in html


def test_the_list_page_links_to_the_reports(member_client, workspace):
    html = member_client.get(f"/w/{workspace.slug}/contacts/").text

    assert f'href="{reports_path(workspace)}"' in html


# --- The list's month filter ----------------------------------------------------------------------


def names_in(html: str) -> set[str]:
    return {unescape(name) for name in re.findall(r'<span class="person__name">([^<]+)</span>', html)}


def test_the_month_filter_shows_the_contacts_added_in_it(workspace_admin_client, workspace, made):
    month = month_of(datetime.now(UTC), 1)

    response = workspace_admin_client.get(f"/w/{workspace.slug}/contacts/?created={month}")

    assert names_in(response.text) == {c.full_name for c in made[4:7]}
    assert "<strong>3</strong> of 46 match" in response.text
    assert f'<option value="{month}" selected>{month}</option>' in response.text, "shown in the filter bar"
    assert f'name="created" value="{month}" form="activate-form"' in response.text, "activation keeps it"
    clear = re.search(r'href="([^"]*)" data-clear-filters', response.text).group(1)
    assert "created" not in clear


def test_the_month_filter_is_kept_by_sorting_and_paging_links(member_client, workspace, made, settings):
    settings.CONTACTS_PAGE_SIZE = 1
    month = month_of(datetime.now(UTC), 1)

    html = member_client.get(f"/w/{workspace.slug}/contacts/?created={month}").text

    assert f"created={month}&amp;page=2" in html
    assert f"created={month}&amp;sort=-created" in html


@pytest.mark.parametrize("value", ["2025-13", "2025-3", "25-03", "2025-03-01", "0999-01", "march"])
def test_a_bad_month_is_ignored_with_a_message(member_client, workspace, made, value):
    response = member_client.get(f"/w/{workspace.slug}/contacts/", {"created": value})

    assert response.status_code == 200
    assert "is not a month (YYYY-MM, e.g. 2025-03); showing every month." in unescape(response.text)
    assert "<strong>46</strong> contacts" in response.text


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_no_value_of_the_month_filter_is_a_server_error(member_client, workspace, made, value):
    assert member_client.get(f"/w/{workspace.slug}/contacts/?created={value}").status_code == 200


def test_the_last_month_a_date_can_hold_is_a_valid_filter(workspace):
    found = selectors.contacts_matching(workspace, ContactQuery(created="9999-12"))

    assert list(found) == []
