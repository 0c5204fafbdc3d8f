"""The list page's cached shell (contacts/views/shell.py): one round trip to Redis and no query
beyond the session, the user and the memberships when warm, yet every person sees their own name,
workspaces, CSRF token, messages and activation runs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import cache, services
from contacts.factories import ContactFactory, MembershipFactory, UserFactory, WorkspaceFactory
from contacts.jobs.models import ActivationRun, RunStatus
from contacts.models import ContactStatus, Role, Workspace
from contacts.views import shell

TOKEN_IN_FORM = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def list_url(workspace: Workspace) -> str:
    return reverse("contact_list", kwargs={"slug": workspace.slug})


def signed_in(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


@pytest.fixture
def leads(workspace):
    return [ContactFactory(workspace=workspace, status=ContactStatus.LEAD) for _ in range(3)]


def warm_read(client: Client, workspace: Workspace):
    """The list page read twice: the second read is the warm one measured."""
    client.get(list_url(workspace))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(list_url(workspace))
    return response, queries.captured_queries


def test_a_warm_list_page_reads_only_the_session_the_user_and_the_memberships(
    member_client, workspace, leads
):
    response, queries = warm_read(member_client, workspace)

    assert response.status_code == 200
    tables = [re.search(r'FROM "?(\w+)"?', query["sql"]).group(1) for query in queries]
    assert tables == ["django_session", "auth_user", "contacts_membership"], tables
    assert "cache;dur=" in response["Server-Timing"] and 'desc="hit"' in response["Server-Timing"]


def test_each_person_gets_their_own_name_workspaces_and_a_token_that_works(workspace, leads):
    ann = MembershipFactory(workspace=workspace, role=Role.ADMIN, user=UserFactory(first_name="Ann")).user
    bob = MembershipFactory(workspace=workspace, role=Role.ADMIN, user=UserFactory(first_name="Bob")).user
    MembershipFactory(user=bob, workspace=WorkspaceFactory(name="Bob's other team"), role=Role.VIEWER)
    ann_client = signed_in(ann, enforce_csrf_checks=True)
    bob_client = signed_in(bob, enforce_csrf_checks=True)

    ann_page, _ = warm_read(ann_client, workspace)
    bob_page, _ = warm_read(bob_client, workspace)  # same role: the same cached content

    assert ann.get_full_name() in ann_page.text and bob.get_full_name() not in ann_page.text
    assert bob.get_full_name() in bob_page.text and "Bob&#x27;s other team" in bob_page.text
    assert "Bob&#x27;s other team" not in ann_page.text
    for page in (ann_page.text, bob_page.text):
        assert shell.csrf_mark() not in page and "contacts-slot:" not in page
    # The tokens in the page are this request's: a form posted with one passes the CSRF check.
    [token, *_] = TOKEN_IN_FORM.findall(ann_page.text)
    assert f'"X-CSRFToken": "{token}"' not in bob_page.text
    started = ann_client.post(
        reverse("activation_start", kwargs={"slug": workspace.slug}),
        {"contact_ids": [str(leads[0].id)], "csrfmiddlewaretoken": token},
    )
    assert started.status_code == 302, started.content[:300]


def test_a_renamed_person_and_a_new_membership_show_on_the_next_read(member, member_client, workspace):
    warm_read(member_client, workspace)
    user = get_user_model().objects.get(pk=member.user.pk)
    user.first_name, user.last_name = "Renamed", "Person"
    user.save()
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="Second team"), role=Role.MEMBER)

    page = member_client.get(list_url(workspace)).text

    assert "Renamed Person" in page and "Second team" in page


def test_messages_show_once_on_a_warm_shell(member_client, workspace, leads):
    warm_read(member_client, workspace)
    doomed = leads[0]

    member_client.post(reverse("contact_delete", kwargs={"slug": workspace.slug, "contact_id": doomed.id}))
    after_redirect = member_client.get(list_url(workspace)).text
    again = member_client.get(list_url(workspace)).text

    assert f"Deleted {doomed.full_name}." in after_redirect
    assert f"Deleted {doomed.full_name}." not in again


def test_a_started_run_shows_on_the_next_warm_read(
    workspace_admin, workspace_admin_client, workspace, leads, not_dispatched
):
    before, _ = warm_read(workspace_admin_client, workspace)
    assert "data-activation-run=" not in before.text.split("<template")[0]

    run = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[lead.id for lead in leads]
    )
    page = workspace_admin_client.get(list_url(workspace)).text

    assert f'data-activation-run="{run.id}"' in page


def test_runs_long_finished_are_neither_shown_nor_read(
    workspace_admin, workspace_admin_client, workspace, leads, not_dispatched
):
    run = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[lead.id for lead in leads]
    )
    workspace_admin_client.get(list_url(workspace))
    long_ago = timezone.now() - timedelta(hours=1)
    ActivationRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED, finished_at=long_ago)
    services.workspace_bump_version(workspace=workspace)  # (what the run's last progress write does)

    response, queries = warm_read(workspace_admin_client, workspace)

    assert f'data-activation-run="{run.id}"' not in response.text
    assert not [q for q in queries if "activationrun" in q["sql"].lower()]


def test_a_run_that_just_finished_is_still_shown_from_a_warm_cache(
    workspace_admin, workspace_admin_client, workspace, leads, not_dispatched
):
    run = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[lead.id for lead in leads]
    )
    workspace_admin_client.get(list_url(workspace))  # cached while the run was unfinished
    ActivationRun.objects.filter(pk=run.pk).update(status=RunStatus.CANCELLED, finished_at=timezone.now())

    page = workspace_admin_client.get(list_url(workspace)).text

    assert f'data-activation-run="{run.id}"' in page and 'data-activation-status="cancelled"' in page


@pytest.fixture
def fresh_release():
    cache.release.cache_clear()
    yield
    cache.release.cache_clear()


def test_a_deploy_with_other_templates_reads_other_keys(settings, tmp_path, workspace, fresh_release):
    settings.CONTACTS_RELEASE = ""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    (tmp_path / "page.html").write_text("<p>first</p>")
    before = cache.workspace_key(workspace, "list-html")
    (tmp_path / "page.html").write_text("<p>second</p>")
    cache.release.cache_clear()  # a new process of the new deploy

    assert cache.workspace_key(workspace, "list-html") != before


def test_a_named_release_is_used_as_it_is(settings, workspace, fresh_release):
    settings.CONTACTS_RELEASE = "2026-12-01.1"

    assert f":2026-12-01.1.{cache.VALUE_FORMAT}:list-html:" in cache.workspace_key(workspace, "list-html")


def test_code_that_stores_another_shape_of_value_reads_other_keys(
    settings, monkeypatch, workspace, fresh_release
):
    settings.CONTACTS_RELEASE = "2026-12-01.1"
    before = cache.workspace_key(workspace, "list-html")
    monkeypatch.setattr(cache, "VALUE_FORMAT", cache.VALUE_FORMAT + 1)

    assert cache.workspace_key(workspace, "list-html") != before


def test_cut_and_fill_put_each_part_and_this_requests_token_in_place(rf):
    mark = shell.csrf_mark()
    cut = shell.cut(f"<a>{mark}</a>{shell.slot('one')}<b>{shell.slot('two')}</b>{mark}", ["one", "two"])
    part = shell.cut(f"<i>{mark}</i>")
    request = rf.get("/")

    page = shell.fill(request, cut, one=part, two="<em>é</em>").decode()

    assert page.startswith("<a>") and mark not in page and "contacts-slot" not in page
    assert page.count("<i>") == 1 and "<em>é</em>" in page and page.index("<i>") < page.index("<b>")
    # The request's token (one, masked once) where each mark was; get_token set the CSRF cookie.
    tokens = {"".join(found) for found in re.findall(r"<a>(\w+)</a>|<i>(\w+)</i>|</b>(\w+)$", page)}
    assert len(tokens) == 1 and len(tokens.pop()) == 64 and "CSRF_COOKIE" in request.META, page
