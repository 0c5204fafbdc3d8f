"""`Server-Timing` tells the truth about each request, and staff see the read cache's shared counters.

The query counts are checked against Django's own `CaptureQueriesContext` around the same request;
the cache outcomes against the real list page and API list (contacts/selectors.py reads through
contacts/cache.py). Shared counters go to the test Redis under keys of each test's own.
"""

from __future__ import annotations

import logging
import re
import uuid

import pytest
import redis
from asgiref.sync import async_to_sync
from django.db import connection, connections
from django.test import AsyncClient, Client, override_settings
from django.test.utils import CaptureQueriesContext

from contacts import cache, read_stats, services
from contacts.factories import ContactFactory, UserFactory

DB = re.compile(r'(?:^|, )db;dur=(?P<ms>\d+\.\d);desc="(?P<count>\d+) queries"(?:,|$)')
CACHE = re.compile(r'(?:^|, )cache;dur=(?P<ms>\d+\.\d);desc="(?P<outcome>hit|miss)"(?:,|$)')
TOTAL = re.compile(r"(?:^|, )total;dur=(?P<ms>\d+\.\d)$")
LOCAL_READS = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "reads": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "timing-reads"},
}


def timing(response) -> dict[str, re.Match | None]:
    header = response["Server-Timing"]
    return {"db": DB.search(header), "cache": CACHE.search(header), "total": TOTAL.search(header)}


def get_counting_queries(client, url: str, **extra):
    """The response and how many queries Django saw it make."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, len(queries.captured_queries)


@pytest.fixture(autouse=True)
def _read_cache_on(settings):
    """The suite runs with the read cache off; these tests are about what it does when on."""
    settings.CONTACTS_CACHE_ENABLED = True


@pytest.fixture
def list_url(workspace):
    return f"/w/{workspace.slug}/contacts/"


@pytest.fixture
def api_list_url(workspace):
    return f"/api/v1/workspaces/{workspace.pk}/contacts/"


@pytest.fixture
def some_contacts(workspace, contact):
    ContactFactory.create_batch(3, workspace=workspace, tags=["lead"])


@pytest.fixture
def shared_counters(monkeypatch):
    """Counters under this test's own Redis keys, flushed after every response, none pending."""
    prefix = f"contacts:test-reads-{uuid.uuid4().hex}"
    monkeypatch.setattr(read_stats, "_key", lambda outcome: f"{prefix}:{outcome}")
    monkeypatch.setattr(read_stats, "FLUSH_SECONDS", 0.0)
    monkeypatch.setattr(read_stats, "_next_flush", 0.0)
    monkeypatch.setattr(read_stats, "_failing", False)
    monkeypatch.setattr(read_stats, "_flushed", read_stats._process_counters()[0])
    monkeypatch.setattr(cache.breaker, "open_until", 0.0)
    client = redis.Redis.from_url(_reads_url())
    yield lambda outcome: int(client.get(f"{prefix}:{outcome}") or 0)
    client.delete(*(f"{prefix}:{outcome}" for outcome in read_stats.OUTCOMES))
    client.close()


def _reads_url() -> str:
    from django.conf import settings

    return settings.CACHES["reads"]["LOCATION"]


@pytest.fixture
def staff_client(db):
    staff = Client()
    staff.force_login(UserFactory(username="stella-staff", is_staff=True))
    return staff


# --- The header: present, well formed, truthful ------------------------------------------------


def test_the_header_names_queries_cache_and_total_in_that_order(member_client, list_url, some_contacts):
    header = member_client.get(list_url)["Server-Timing"]

    assert re.fullmatch(
        r'db;dur=\d+\.\d;desc="\d+ queries", cache;dur=\d+\.\d;desc="(hit|miss)", total;dur=\d+\.\d', header
    ), header


@pytest.mark.parametrize("page", ["list", "detail"])
def test_a_page_reports_the_queries_django_saw(member_client, list_url, contact, some_contacts, page):
    url = list_url if page == "list" else f"{list_url}{contact.pk}/"

    response, count = get_counting_queries(member_client, url)

    assert response.status_code == 200
    metrics = timing(response)
    assert metrics["db"] and int(metrics["db"]["count"]) == count > 0
    assert float(metrics["total"]["ms"]) >= float(metrics["db"]["ms"])


def test_under_the_asgi_handler_the_view_s_queries_are_counted(member, list_url, some_contacts):
    # Django's ASGI handler runs this sync middleware and the sync view in one thread: the wrappers
    # installed on that thread's connection see the view's queries.
    asgi_client = AsyncClient()
    asgi_client.force_login(member.user)

    with CaptureQueriesContext(connection) as queries:
        response = async_to_sync(asgi_client.get)(list_url)

    assert response.status_code == 200
    assert int(timing(response)["db"]["count"]) == len(queries.captured_queries) > 0


def test_the_api_list_reports_the_queries_django_saw(member_api, api_list_url, some_contacts):
    response, count = get_counting_queries(member_api, api_list_url)

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert int(timing(response)["db"]["count"]) == count > 0


def test_a_404_carries_the_header_with_its_queries(member_client):
    response, count = get_counting_queries(member_client, "/w/no-such-workspace/contacts/")

    assert response.status_code == 404
    assert int(timing(response)["db"]["count"]) == count > 0
    assert timing(response)["total"]


def test_an_unknown_url_answered_404_to_anyone_carries_the_header(client, db):
    response, count = get_counting_queries(client, "/no/such/page/")

    assert response.status_code == 404
    assert int(timing(response)["db"]["count"]) == count


def test_the_sign_in_redirect_carries_the_header(client, list_url):
    response, count = get_counting_queries(client, list_url)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert int(timing(response)["db"]["count"]) == count
    assert timing(response)["cache"] is None


def test_a_server_error_carries_the_header(member_client, list_url, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the list broke")

    monkeypatch.setattr("contacts.selectors.contact_page", broken)
    member_client.raise_request_exception = False

    response, count = get_counting_queries(member_client, list_url)

    assert response.status_code == 500
    assert int(timing(response)["db"]["count"]) == count


def test_the_health_check_carries_the_header(client, db):
    response = client.get("/healthz")

    assert timing(response)["db"] and timing(response)["total"]


def test_the_query_wrappers_are_removed_after_the_request(member_client, list_url):
    member_client.get(list_url)

    assert all(not alias.execute_wrappers for alias in connections.all())


def test_a_view_s_own_server_timing_is_kept(rf, db):
    from django.http import HttpResponse

    from contacts.server_timing import ServerTimingMiddleware

    def view(request):
        response = HttpResponse("ok")
        response["Server-Timing"] = 'render;dur=1.0;desc="own"'
        return response

    header = ServerTimingMiddleware(view)(rf.get("/"))["Server-Timing"]

    assert header.startswith('render;dur=1.0;desc="own", db;dur=0.0;desc="0 queries", total;dur=')


# --- The cache's outcome ----------------------------------------------------------------------------


def test_the_list_page_reports_a_miss_then_a_hit(member_client, list_url, some_contacts):
    first, first_count = get_counting_queries(member_client, list_url)
    second, second_count = get_counting_queries(member_client, list_url)

    assert timing(first)["cache"]["outcome"] == "miss"
    assert timing(second)["cache"]["outcome"] == "hit"
    assert int(timing(first)["db"]["count"]) == first_count
    assert int(timing(second)["db"]["count"]) == second_count < first_count


def test_the_api_list_reports_a_miss_then_a_hit(member_api, api_list_url, some_contacts):
    first = member_api.get(api_list_url)
    second = member_api.get(api_list_url)

    assert timing(first)["cache"]["outcome"] == "miss"
    assert timing(second)["cache"]["outcome"] == "hit"


def test_a_write_makes_the_next_read_a_miss_again(member_client, member, list_url, contact):
    member_client.get(list_url)
    services.contact_delete(contact=contact, by=member)

    assert timing(member_client.get(list_url))["cache"]["outcome"] == "miss"


def test_with_the_cache_switched_off_there_is_no_cache_metric(member_client, list_url, settings):
    settings.CONTACTS_CACHE_ENABLED = False

    response = member_client.get(list_url)

    assert timing(response)["cache"] is None and timing(response)["db"]


# --- Shared counters --------------------------------------------------------------------------------


def test_staff_see_the_shared_counters_rise(
    member_client, list_url, some_contacts, staff_client, shared_counters
):
    before = staff_client.get("/healthz").json()["checks"]["cache"]["reads"]

    for _ in range(3):
        member_client.get(list_url)
    after = staff_client.get("/healthz").json()["checks"]["cache"]["reads"]

    assert after["scope"] == "all processes"
    # The first request misses its reads, the next two hit them.
    assert after["miss"] > before["miss"] and after["hit"] >= before["hit"] + 2
    assert 0 < after["hit_ratio"] < 1 and after["bypassed_until_retry"] is False
    # Flushed after each response: Redis has them, not only this process.
    assert shared_counters("hit") == after["hit"] and shared_counters("miss") == after["miss"]


def test_anonymous_and_non_staff_callers_never_see_the_counters(client, member, list_url, shared_counters):
    client.force_login(member.user)
    client.get(list_url)

    for caller in (client, Client()):
        response = caller.get("/healthz")
        assert response.json()["checks"]["cache"] == {"ok": True}
        assert "reads" not in response.text and "hit_ratio" not in response.text


def test_counts_wait_in_the_process_until_a_flush_is_due(monkeypatch, shared_counters):
    monkeypatch.setattr(read_stats, "FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(read_stats, "_next_flush", float("inf"))
    hits = cache.STATS["hit"]
    monkeypatch.setitem(cache.STATS, "hit", hits + read_stats.FLUSH_EVERY - 1)

    read_stats.maybe_flush()
    assert shared_counters("hit") == 0
    assert read_stats.report()["hit"] == read_stats.FLUSH_EVERY - 1  # the report adds what is pending

    monkeypatch.setitem(cache.STATS, "hit", hits + read_stats.FLUSH_EVERY)
    read_stats.maybe_flush()
    assert shared_counters("hit") == read_stats.FLUSH_EVERY


def test_a_failing_flush_keeps_the_counts_logs_once_and_never_fails_the_response(
    member_client, list_url, monkeypatch, shared_counters, caplog
):
    class DeadRedis:
        def pipeline(self):
            raise redis.exceptions.ConnectionError("refused")

        def mget(self, keys):
            raise redis.exceptions.ConnectionError("refused")

    working = read_stats._redis
    monkeypatch.setattr(read_stats, "_redis", DeadRedis)
    caplog.set_level(logging.WARNING, logger="contacts.read_stats")

    for _ in range(3):
        assert member_client.get(list_url).status_code == 200

    assert len([r for r in caplog.records if r.name == "contacts.read_stats"]) == 1
    assert shared_counters("miss") == 0
    assert read_stats.report()["scope"] == "this process"

    monkeypatch.setattr(read_stats, "_redis", working)
    member_client.get(list_url)
    assert shared_counters("miss") >= 1 and shared_counters("hit") >= 3


@override_settings(CACHES=LOCAL_READS)
def test_without_redis_staff_see_this_process_s_counters(member_client, list_url, staff_client):
    member_client.get(list_url)
    member_client.get(list_url)

    reads = staff_client.get("/healthz").json()["checks"]["cache"]["reads"]

    process = cache.stats()
    assert reads["scope"] == "this process" and reads["hit"] >= 1
    assert reads["hit"] == process["hit"] and reads["miss"] == process["miss"]
