"""`/healthz`: real database and Redis when they are up, unused ports when they are not; what each caller sees."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import override_settings

from contacts import health
from contacts.factories import UserFactory

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
DEAD_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": DEAD_REDIS,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
    }
}
DEAD_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": DEAD_REDIS}]},
    }
}
NO_REDIS = {
    "REDIS_AVAILABLE": False,
    "CELERY_TASK_ALWAYS_EAGER": True,
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    "CHANNEL_LAYERS": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
}
PARTS = ["database", "cache", "channel_layer", "broker"]
TOKEN = "health-token-for-tests-0123456789"


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(username="stella-staff", is_staff=True))
    return client


# --- What every caller sees: parts and states ---------------------------------------------------


def test_everything_up_answers_200_naming_each_part_ok(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {name: {"ok": True} for name in PARTS}}


def test_health_needs_no_sign_in_and_is_never_cached(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


@override_settings(CELERY_BROKER_URL=DEAD_REDIS)
def test_a_dead_broker_answers_503_naming_the_broker(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["failing"] == ["broker"]
    assert body["checks"]["broker"] == {"ok": False}
    assert all(body["checks"][name]["ok"] for name in ("database", "cache", "channel_layer"))


@override_settings(CACHES=DEAD_CACHE)
def test_a_dead_cache_answers_503_naming_the_cache_although_the_cache_hides_errors(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]


@override_settings(CHANNEL_LAYERS=DEAD_LAYER)
def test_a_dead_channel_layer_answers_503_naming_the_channel_layer(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["channel_layer"]


@override_settings(CACHES=DEAD_CACHE, CHANNEL_LAYERS=DEAD_LAYER, CELERY_BROKER_URL=DEAD_REDIS)
def test_every_broken_part_is_named(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache", "channel_layer", "broker"]


@override_settings(
    CELERY_BROKER_URL="redis://:s3cret-pass@127.0.0.1:1/0",
    CACHES=DEAD_CACHE,
    CHANNEL_LAYERS=DEAD_LAYER,
)
def test_anonymous_callers_see_no_hosts_ports_errors_or_engines(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    for check in response.json()["checks"].values():
        assert set(check) == {"ok"}
    for revealing in ("s3cret-pass", "127.0.0.1", ":1", "Error", "redis", connection.vendor):
        assert revealing not in response.text.replace('"ok"', ""), revealing


@override_settings(**NO_REDIS)
def test_running_without_redis_is_ok_but_degraded(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {"ok": True, "degraded": True}
    assert body["checks"]["channel_layer"] == {"ok": True, "degraded": True}
    assert body["checks"]["broker"] == {"ok": True, "degraded": True}


def test_a_failing_database_answers_503_naming_the_database(client, db, monkeypatch):
    def database_down() -> dict:
        raise ConnectionRefusedError("connection to server at 10.0.0.5 refused")

    monkeypatch.setitem(health.PROBES, "database", database_down)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert "10.0.0.5" not in response.text


def test_a_hung_part_answers_503_after_the_timeout_instead_of_hanging(client, db, monkeypatch):
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    monkeypatch.setitem(health.PROBES, "database", lambda: time.sleep(2) or {})
    started = time.monotonic()

    response = client.get("/healthz")

    assert time.monotonic() - started < 1.0
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


# --- Details: staff users and HEALTH_TOKEN -------------------------------------------------------


def test_staff_see_backends_targets_and_timings(staff_client):
    response = staff_client.get("/healthz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    for name, check in checks.items():
        assert check["ok"] is True, name
        assert check["ms"] >= 0
    assert checks["database"]["engine"] == connection.vendor
    assert (
        checks["cache"]["backend"]
        == checks["channel_layer"]["backend"]
        == checks["broker"]["backend"]
        == "redis"
    )
    # The test settings keep each part in its own Redis database (13, 14, 15).
    assert checks["cache"]["target"].endswith("/13")
    assert checks["channel_layer"]["target"].endswith("/14")
    assert checks["broker"]["target"].endswith("/15")


def test_signed_in_users_who_are_not_staff_see_only_states(client, member):
    client.force_login(member.user)

    response = client.get("/healthz")

    assert all(set(check) == {"ok"} for check in response.json()["checks"].values())


@override_settings(CELERY_BROKER_URL="redis://:s3cret-pass@127.0.0.1:1/0")
def test_details_name_hosts_and_errors_but_never_passwords(staff_client):
    response = staff_client.get("/healthz")

    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["target"] == "redis://:***@127.0.0.1:1/0"
    assert broker["error"].startswith("ConnectionError")
    assert "s3cret-pass" not in response.text


@override_settings(**NO_REDIS)
def test_details_say_why_a_part_is_degraded(staff_client):
    checks = staff_client.get("/healthz").json()["checks"]

    assert checks["cache"]["detail"] == "local-memory (Redis unreachable at start, DEBUG=1)"
    assert checks["broker"]["backend"] == "eager"
    assert checks["channel_layer"]["backend"] == "in-process"


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}, {"HTTP_X_HEALTH_TOKEN": TOKEN}],
    ids=["authorization-bearer", "x-health-token"],
)
@override_settings(HEALTH_TOKEN=TOKEN, CACHES=DEAD_CACHE)
def test_the_health_token_shows_details(client, db, headers):
    response = client.get("/healthz", **headers)

    assert response.status_code == 503
    cache = response.json()["checks"]["cache"]
    assert cache["target"] == DEAD_REDIS
    assert "ConnectionError" in cache["error"]


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_X_HEALTH_TOKEN": TOKEN[:-1]},
        {"HTTP_AUTHORIZATION": f"Token {TOKEN}"},
        {"HTTP_AUTHORIZATION": "Bearer "},
    ],
    ids=["wrong", "prefix", "other-scheme", "empty"],
)
@override_settings(HEALTH_TOKEN=TOKEN)
def test_a_wrong_health_token_sees_only_states(client, db, headers):
    response = client.get("/healthz", **headers)

    assert response.status_code == 200
    assert all(set(check) == {"ok"} for check in response.json()["checks"].values())


@override_settings(HEALTH_TOKEN="")
def test_without_a_configured_token_no_header_shows_details(client, db):
    response = client.get("/healthz", HTTP_AUTHORIZATION="Bearer ", HTTP_X_HEALTH_TOKEN="")

    assert all(set(check) == {"ok"} for check in response.json()["checks"].values())


# --- The probes themselves --------------------------------------------------------------------------


def test_the_database_probe_reads_through_its_own_connection(db):
    # Run where the view runs it: a pool thread (closing its connection never touches the test's).
    report = health._POOL.submit(health.probe_database).result(timeout=5)

    assert report["engine"] == connection.vendor


def test_the_cache_probe_goes_through_the_apps_cache(db):
    from django_redis import get_redis_connection

    health.probe_cache()

    assert get_redis_connection("default").exists(f"contacts:1:{health.CACHE_PROBE_KEY}")
