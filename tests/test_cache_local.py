"""Copies of cached values kept in the process (contacts.cache.LocalCopies): the list page's
warm read asks Redis nothing, yet a write is seen on the very next read, and memory stays bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from contacts import cache, services
from contacts.factories import ContactFactory
from contacts.services import ContactData


@pytest.fixture(autouse=True)
def _fresh_copies() -> Iterator[None]:
    cache.local_copies.clear()
    yield
    cache.local_copies.clear()


@pytest.fixture
def redis_reads(monkeypatch) -> list[str]:
    """Every key the read cache asks Redis for, in order."""
    asked: list[str] = []
    store = cache._store()
    get, get_many = store.get, store.get_many
    monkeypatch.setattr(store, "get", lambda key, *a, **k: asked.append(key) or get(key, *a, **k))
    monkeypatch.setattr(
        store, "get_many", lambda keys, *a, **k: asked.extend(keys) or get_many(keys, *a, **k)
    )
    return asked


@pytest.fixture
def listed(workspace):
    return [ContactFactory(workspace=workspace, first_name=name, last_name="Lee") for name in ("Ann", "Bob")]


def list_url(workspace) -> str:
    return reverse("contact_list", kwargs={"slug": workspace.slug})


def test_a_warm_list_page_asks_redis_nothing_and_is_the_same_page(
    member_client, workspace, listed, redis_reads
):
    first = member_client.get(list_url(workspace))
    asked_first = len(redis_reads)
    second = member_client.get(list_url(workspace))
    swap = member_client.get(list_url(workspace), headers={"HX-Request": "true", "HX-Target": "results"})
    swap_again = member_client.get(
        list_url(workspace), headers={"HX-Request": "true", "HX-Target": "results"}
    )

    assert asked_first > 0
    assert len(redis_reads) == asked_first  # the fragment was read (and kept) with the first page
    assert 'desc="hit"' in second["Server-Timing"] and 'desc="hit"' in swap_again["Server-Timing"]
    table = slice(first.text.index("<table"), first.text.index("</table>"))
    assert first.text[table] == second.text[table] and "Ann Lee" in second.text[table]
    assert swap.text == swap_again.text
    assert cache.stats()["local"] >= 4


def test_a_write_is_seen_on_the_very_next_read_though_the_old_page_is_kept_here(
    member_client, member, workspace, listed
):
    member_client.get(list_url(workspace))
    member_client.get(list_url(workspace))

    services.contact_update(contact=listed[0], by=member, data=ContactData(company="Globex Renamed"))
    page = member_client.get(list_url(workspace))

    assert "Globex Renamed" in page.text and 'desc="miss"' in page["Server-Timing"]


def test_with_the_cache_off_no_copy_is_served(member_client, workspace, listed, settings):
    member_client.get(list_url(workspace))  # kept here
    settings.CONTACTS_CACHE_ENABLED = False
    served_locally = cache.stats()["local"]

    page = member_client.get(list_url(workspace))

    assert 'desc="hit"' not in page["Server-Timing"] and cache.stats()["local"] == served_locally
    assert "Ann Lee" in page.text


# --- LocalCopies on its own -----------------------------------------------------------------------


def test_copies_stay_within_the_budget_least_recently_used_out_first(settings):
    settings.CONTACTS_CACHE_LOCAL_BYTES = 4000
    copies = cache.LocalCopies()
    for name in "abcd":
        copies.put(name, "x" * 800)  # about 850 bytes each
    copies.get("a")  # used: "b" is now the least recently used
    copies.put("e", "x" * 800)

    assert copies.size <= 4000
    assert copies.get("b") is None
    assert [copies.get(name) is not None for name in "acde"] == [True] * 4


def test_a_value_too_big_for_a_quarter_of_the_budget_is_not_kept(settings):
    settings.CONTACTS_CACHE_LOCAL_BYTES = 4000
    copies = cache.LocalCopies()

    copies.put("big", b"x" * 1200)

    assert copies.get("big") is None and copies.size == 0


def test_a_budget_of_zero_keeps_nothing(settings):
    settings.CONTACTS_CACHE_LOCAL_BYTES = 0
    copies = cache.LocalCopies()

    copies.put("key", "value")

    assert copies.get("key") is None


def test_a_copy_expires_with_the_ttl(settings, monkeypatch):
    settings.CONTACTS_CACHE_TTL = 300
    copies = cache.LocalCopies()
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    copies.put("key", {"html": [b"<p>", "csrf_token", b"</p>"]})

    now[0] += 299
    assert copies.get("key") == {"html": [b"<p>", "csrf_token", b"</p>"]}
    now[0] += 2
    assert copies.get("key") is None and copies.size == 0
