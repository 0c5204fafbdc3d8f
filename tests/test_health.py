"""`/healthz`: real database and Redis when they are up, unused ports when they are not."""

from __future__ import annotations

import time

from django.db import connection
from django.test import override_settings

from contacts import health

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
DEAD_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": DEAD_REDIS,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
    }
}
NO_REDIS = {
    "REDIS_AVAILABLE": False,
    "CELERY_TASK_ALWAYS_EAGER": True,
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
}


def test_everything_up_answers_200_with_each_part_ok(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    for name, check in body["checks"].items():
        assert check["ok"] is True, name
        assert check["ms"] >= 0
    assert body["checks"]["cache"]["backend"] == "redis"
    assert body["checks"]["broker"]["backend"] == "redis"


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
    assert body["checks"]["broker"]["ok"] is False
    assert "ConnectionError" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]


@override_settings(CACHES=DEAD_CACHE)
def test_a_dead_cache_answers_503_naming_the_cache_although_the_cache_hides_errors(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]


@override_settings(CACHES=DEAD_CACHE, CELERY_BROKER_URL=DEAD_REDIS)
def test_every_broken_part_is_named(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache", "broker"]


@override_settings(CELERY_BROKER_URL="redis://:s3cret-pass@127.0.0.1:1/0")
def test_health_output_shows_no_credentials(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert "s3cret-pass" not in response.text
    assert "127.0.0.1:1" not in response.text.replace("127.0.0.1:1.", ""), (
        "no URLs, only the driver's message"
    )


@override_settings(**NO_REDIS)
def test_running_without_redis_is_ok_but_degraded(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["detail"] == "local-memory (Redis unreachable at start)"
    assert body["checks"]["cache"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["broker"]["backend"] == "eager"


def test_the_database_probe_reads_through_its_own_connection(db):
    # Run where the view runs it: a pool thread (closing its connection never touches the test's).
    report = health._POOL.submit(health.probe_database).result(timeout=5)

    assert report == {"engine": connection.vendor}


def test_a_failing_database_answers_503_naming_the_database(client, db, monkeypatch):
    def database_down() -> dict:
        raise ConnectionRefusedError("connection to server at 10.0.0.5 refused")

    monkeypatch.setitem(health.PROBES, "database", database_down)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["error"].startswith("ConnectionRefusedError: connection to server")


def test_a_hung_part_answers_503_after_the_timeout_instead_of_hanging(client, db, monkeypatch):
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    monkeypatch.setitem(health.PROBES, "database", lambda: time.sleep(2) or {})
    started = time.monotonic()

    response = client.get("/healthz")

    assert time.monotonic() - started < 1.0
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["error"] == "no answer within 0.2 s"
