"""The read cache (contacts/cache.py): hits, never a stale read, one computation per miss, alive without Redis.

Reads run against the real Redis (the test settings' database); a test that needs Redis to fail
points the read cache at a closed port or at a redis-server it starts and stops itself.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import cache, selectors, services
from contacts.factories import ContactFactory, MembershipFactory, UserFactory
from contacts.models import Contact, Role, Workspace
from contacts.selectors import ContactQuery
from contacts.services import ContactData
from tests.servers import Browser, free_port, running, start_redis_server, wait_until_answering


@pytest.fixture(autouse=True)
def _fresh_breaker() -> Iterator[None]:
    cache.breaker.open_until = 0.0
    yield
    cache.breaker.open_until = 0.0


def list_url(workspace: Workspace) -> str:
    return reverse("contact_list", kwargs={"slug": workspace.slug})


def detail_url(contact: Contact) -> str:
    return reverse("contact_detail", kwargs={"slug": contact.workspace.slug, "contact_id": contact.id})


def cache_outcome(response) -> str:
    """The main read's outcome, as the response's Server-Timing header states it."""
    header = response["Server-Timing"]
    for outcome in ("hit", "miss"):
        if f'cache;desc="{outcome}"' in header or f'desc="{outcome}"' in header.split("cache")[-1]:
            return outcome
    return "none"


def results_table(response) -> str:
    """The list's table (the page around it carries a per-request CSRF token)."""
    return response.text[response.text.index("<table") : response.text.index("</table>")]


def fresh(workspace: Workspace) -> Workspace:
    """The workspace as a request would load it (with its current change version)."""
    return Workspace.objects.get(pk=workspace.pk)


@pytest.fixture
def listed(workspace):
    return [
        ContactFactory(workspace=workspace, first_name=name, last_name="Lee", tags=["vip"])
        for name in ("Ann", "Bob", "Cid")
    ]


# --- Hits and misses ------------------------------------------------------------------------------


def test_a_second_read_of_the_list_page_is_a_hit_that_skips_the_contact_queries(
    member_client, workspace, listed
):
    with CaptureQueriesContext(connection) as cold:
        first = member_client.get(list_url(workspace))
    with CaptureQueriesContext(connection) as warm:
        second = member_client.get(list_url(workspace))

    assert (cache_outcome(first), cache_outcome(second)) == ("miss", "hit")
    assert results_table(second) == results_table(first)
    contact_reads = [q["sql"] for q in warm.captured_queries if "contacts_contact" in q["sql"]]
    assert contact_reads == [], "a warm list page reads no contact rows"
    assert len(warm.captured_queries) < len(cold.captured_queries)


def test_the_api_list_shares_the_pages_cached_data(member_client, member_api, workspace, listed):
    member_client.get(list_url(workspace))

    with CaptureQueriesContext(connection) as queries:
        response = member_api.get(f"/api/v1/workspaces/{workspace.id}/contacts/")

    assert not [q for q in queries.captured_queries if "contacts_contact" in q["sql"]], "read from the cache"
    assert cache_outcome(member_api.get(f"/api/v1/workspaces/{workspace.id}/contacts/")) == "hit"
    assert [c["first_name"] for c in response.json()["results"]] == ["Ann", "Bob", "Cid"]
    assert response.json()["results"][0]["tags"] == ["vip"]


def test_the_selector_costs_no_query_when_warm(workspace, listed, django_assert_num_queries):
    selectors.contact_page(fresh(workspace), ContactQuery())

    fresh_workspace = fresh(workspace)

    with django_assert_num_queries(0):
        page = selectors.contact_page(fresh_workspace, ContactQuery())

    assert [c.first_name for c in page.contacts] == ["Ann", "Bob", "Cid"]
    assert page.contacts[0].workspace is fresh_workspace
    assert page.tags_by_contact[listed[0].id] == ["vip"]


def test_cached_values_are_plain_data_not_pages_or_querysets(workspace, listed):
    selectors.contact_page(fresh(workspace), ContactQuery())
    store = caches["reads"]

    [key] = [k for k in store.keys(f"ws:{workspace.pk.hex}:*") if k.endswith(tuple("0123456789abcdef"))]
    value = store.get(key)

    assert set(value) == {"count", "number", "rows", "tags"}
    assert all(isinstance(row, dict) for row in value["rows"])


def test_the_detail_page_and_the_filter_choices_are_cached_too(member_client, workspace, listed):
    member_client.get(detail_url(listed[0]))

    with CaptureQueriesContext(connection) as warm:
        response = member_client.get(detail_url(listed[0]))

    assert cache_outcome(response) == "hit"
    assert not [q for q in warm.captured_queries if "contacts_contact" in q["sql"]]
    assert "Ann Lee" in response.text


# --- Never stale ---------------------------------------------------------------------------------


def test_a_write_is_seen_by_another_users_very_next_read(client, member, workspace, listed):
    colleague = MembershipFactory(workspace=workspace, role=Role.VIEWER, user=UserFactory())
    client.force_login(colleague.user)
    client.get(list_url(workspace))

    services.contact_update(contact=listed[0], by=member, data=ContactData(company="Globex Renamed"))
    response = client.get(list_url(workspace))

    assert cache_outcome(response) == "miss"
    assert "Globex Renamed" in response.text


def test_a_delete_is_seen_at_once_on_the_detail_page(member_client, member, workspace, listed):
    member_client.get(detail_url(listed[1]))

    services.contact_delete(contact=listed[1], by=member)

    assert member_client.get(detail_url(listed[1])).status_code == 404


def test_a_rolled_back_write_invalidates_nothing(member, workspace, listed, monkeypatch):
    selectors.contact_page(fresh(workspace), ContactQuery())
    before = fresh(workspace).change_version

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.contacts, "_contact_tags_change", fail)
    with pytest.raises(RuntimeError):
        services.contact_update(contact=listed[0], by=member, data=ContactData(company="X", tags=["new"]))

    assert fresh(workspace).change_version == before
    cache.start_report()
    page = selectors.contact_page(fresh(workspace), ContactQuery())
    assert cache._report.get().main == "hit"
    assert page.contacts[0].company == listed[0].company


def test_an_admin_tag_rename_moves_the_cache_on(admin_client, workspace, listed):
    selectors.contact_page(fresh(workspace), ContactQuery())
    tag = listed[0].tags.get()

    admin_client.post(reverse("admin:contacts_tag_change", args=[tag.pk]), {"name": "key account"})

    page = selectors.contact_page(fresh(workspace), ContactQuery())
    assert page.tags_by_contact[listed[0].id] == ["key account"]


def test_entries_expire_after_the_ttl(workspace, listed, settings):
    settings.CONTACTS_CACHE_TTL = 1
    outcomes = []
    for pause in (0, 0, 1.2):
        time.sleep(pause)
        report = cache.start_report()
        selectors.contact_page(fresh(workspace), ContactQuery())
        outcomes.append(report.main)

    assert outcomes == ["miss", "hit", "miss"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_another_process_never_serves_its_cached_page_after_a_write_here(tmp_path, settings):
    """A server in another process caches the API list; a write here; its next answer is fresh."""

    member = MembershipFactory(role=Role.MEMBER)
    workspace = member.workspace
    contact = ContactFactory(workspace=workspace, company="Initech")
    token = services.api_token_get_or_create(user=member.user).key
    port = free_port()
    database = connection.settings_dict
    url = (
        f"sqlite:///{database['NAME']}"
        if connection.vendor == "sqlite"
        else f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactsite.test_settings",
        "DATABASE_URL": url,
        "DEBUG": "1",
    }
    log = tmp_path / "server.log"
    command = [".venv/bin/python", "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    api = f"/api/v1/workspaces/{workspace.id}/contacts/"
    headers = {"Authorization": f"Token {token}"}
    with running(command, log=log, cwd=settings.BASE_DIR, env=env) as server:
        browser = Browser(f"http://127.0.0.1:{port}")
        wait_until_answering(lambda: browser.request("/healthz"), process=server, log=log)
        browser.request(api, headers=headers)
        warm = browser.request(api, headers=headers)
        assert 'desc="hit"' in warm.headers["Server-Timing"], warm.headers

        services.contact_update(contact=contact, by=member, data=ContactData(company="Globex"))
        after = browser.request(api, headers=headers)

    assert after.json()["results"][0]["company"] == "Globex"


# --- One computation per miss --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_cold_reads_compute_once(monkeypatch):
    member = MembershipFactory(role=Role.MEMBER)
    workspace = member.workspace
    ContactFactory.create_batch(3, workspace=workspace)
    computations = []
    original = selectors._contact_page_data

    def slow_compute(*args, **kwargs):
        computations.append(1)
        time.sleep(0.2)  # long enough for every reader to arrive while it runs
        return original(*args, **kwargs)

    monkeypatch.setattr(selectors, "_contact_page_data", slow_compute)
    barrier = threading.Barrier(20)
    totals = []

    def read() -> None:
        try:
            barrier.wait()
            totals.append(selectors.contact_page(fresh(workspace), ContactQuery()).total)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert totals == [3] * 20
    assert len(computations) == 1


# --- Alive without Redis --------------------------------------------------------------------------


def point_reads_at(settings, port: int) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "reads": {**settings.CACHES["reads"], "LOCATION": f"redis://127.0.0.1:{port}/0"},
    }


def test_with_redis_refusing_pages_render_writes_persist_and_one_warning_is_logged(
    member_client, member, workspace, listed, settings, caplog
):
    point_reads_at(settings, free_port())
    caplog.set_level(logging.WARNING, logger="contacts.cache")

    started = time.monotonic()
    pages = [member_client.get(list_url(workspace)) for _ in range(3)]
    member_client.post(
        reverse("contact_tags", kwargs={"slug": workspace.slug, "contact_id": listed[0].id}),
        {"add": "offline"},
    )
    after = member_client.get(detail_url(listed[0]))

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "offline" in after.text
    assert time.monotonic() - started < 3
    warnings = [r for r in caplog.records if r.name == "contacts.cache"]
    assert len(warnings) == 1 and "Reads go to the database" in warnings[0].getMessage()


@pytest.fixture
def own_redis() -> Iterator[tuple[int, callable, callable]]:
    """A redis-server of the test's own, which the test may stop and start again."""
    port = free_port()
    processes: list[subprocess.Popen] = []

    def start() -> None:
        processes.append(start_redis_server(port))

    def stop() -> None:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        processes.clear()

    try:
        yield port, start, stop
    finally:
        stop()


def test_redis_gone_mid_run_then_back_is_used_again_without_a_restart(
    member_client, member, workspace, listed, settings, own_redis
):
    port, start, stop = own_redis
    start()
    point_reads_at(settings, port)
    settings.CONTACTS_CACHE_RETRY_AFTER = 1
    outcomes = [cache_outcome(member_client.get(list_url(workspace))) for _ in range(2)]

    stop()
    down = member_client.get(list_url(workspace))
    services.contact_update(contact=listed[2], by=member, data=ContactData(company="Written While Down"))
    while_down = member_client.get(list_url(workspace))
    start()
    time.sleep(1.1)  # the breaker's retry interval
    back = [cache_outcome(member_client.get(list_url(workspace))) for _ in range(2)]

    assert outcomes == ["miss", "hit"]
    assert (down.status_code, while_down.status_code) == (200, 200)
    assert "Written While Down" in while_down.text
    assert Contact.objects.get(pk=listed[2].pk).company == "Written While Down"
    assert back == ["miss", "hit"]


# --- Isolation ------------------------------------------------------------------------------------


def test_another_workspaces_member_is_never_served_this_workspaces_cache(
    client, member_client, workspace, listed, outsider, other_workspace
):
    member_client.get(list_url(workspace))
    client.force_login(outsider.user)

    theirs = client.get(list_url(other_workspace))
    ours = client.get(list_url(workspace))
    api = client.get(f"/api/v1/workspaces/{workspace.id}/contacts/")

    assert "Ann Lee" not in theirs.text
    assert (ours.status_code, api.status_code) == (404, 404)


def test_a_viewer_served_from_the_cache_never_sees_a_members_controls(member, viewer, workspace, listed):
    member_client, viewer_client = Client(), Client()
    member_client.force_login(member.user)
    viewer_client.force_login(viewer.user)

    as_member = member_client.get(list_url(workspace))
    as_viewer = viewer_client.get(list_url(workspace))

    assert (
        results_table(as_viewer).count('class="person"')
        == results_table(as_member).count('class="person"')
        == 3
    )
    assert "New contact" in as_member.text
    assert "New contact" not in as_viewer.text
