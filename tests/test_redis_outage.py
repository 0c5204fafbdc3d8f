"""Production started while Redis is down: it still uses Redis, reports the outage, and recovers without a restart.

A real production process (DEBUG=0, collected static files, Daphne), its cache, channel layer and
broker pointed at a port where this test later starts a Redis server of its own.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.servers import Browser, free_port, running, start_redis_server, wait_until_answering

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HEALTH_TOKEN = secrets.token_urlsafe(24)
USERNAME, PASSWORD = "olga-ops", "a-long-password-for-olga"
# What the app reads; the test run sets some of them for itself (DEBUG=1, CONTACTS_TESTING=1).
_APP_PREFIXES = ("DJANGO_", "CONTACTS_", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_", "REDIS_URL")
_APP_VARIABLES = {"CACHE_REDIS_URL", "CHANNELS_REDIS_URL", "CELERY_BROKER_URL", "STATIC_ROOT", "HEALTH_TOKEN"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (Path("/usr/bin/redis-server").exists()), reason="redis-server is not installed"),
]


def _production_env(tmp_path: Path, redis_port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_APP_PREFIXES) and key not in _APP_VARIABLES
    }
    redis_url = f"redis://127.0.0.1:{redis_port}"
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "contactsite.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        # Databases 10-12: never the test run's 13-15 or a developer's 0-2.
        "CACHE_REDIS_URL": f"{redis_url}/10",
        "CHANNELS_REDIS_URL": f"{redis_url}/11",
        "CELERY_BROKER_URL": f"{redis_url}/12",
        "HEALTH_TOKEN": HEALTH_TOKEN,
    }


@pytest.fixture
def redis_port() -> int:
    return free_port()


@pytest.fixture
def production_server(tmp_path: Path, redis_port: int) -> Iterator[Browser]:
    env = _production_env(tmp_path, redis_port)
    for command in (
        ["manage.py", "migrate", "--noinput"],
        ["manage.py", "collectstatic", "--noinput"],
        ["manage.py", "createsuperuser", "--noinput", "--username", USERNAME, "--email", "olga@example.com"],
    ):
        result = subprocess.run(
            [sys.executable, *command],
            cwd=REPO,
            env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    port = free_port()
    log = tmp_path / "daphne.log"
    with running(
        [
            BIN / "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "contactsite.asgi:application",
            "--no-server-name",
        ],
        log=log,
        cwd=REPO,
        env=env,
        stop_timeout=15,
    ) as server:
        browser = Browser(f"http://127.0.0.1:{port}")
        # Any answer will do: /healthz answers 503 while Redis is down.
        wait_until_answering(lambda: browser.request("/healthz"), process=server, log=log, within=60)
        yield browser


@pytest.fixture
def start_redis(redis_port: int) -> Iterator:
    started: list[subprocess.Popen] = []

    def start() -> redis.Redis:
        started.append(start_redis_server(redis_port))
        return redis.Redis(port=redis_port, db=10)

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_production_reports_redis_down_keeps_serving_and_recovers_without_restart(
    production_server: Browser, start_redis, redis_port: int
):
    # Redis is down: /healthz names each part on it, and says nothing about where it is.
    health = production_server.request("/healthz")
    assert health.status == 503
    body = health.json()
    assert body["failing"] == ["cache", "channel_layer", "broker"]
    assert body["checks"]["database"] == {"ok": True}
    assert str(redis_port) not in health.body.decode()
    assert "Server" not in health.headers, "Daphne runs with --no-server-name"

    # The token shows where: each part against its own URL.
    details = production_server.request(
        "/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}
    ).json()
    assert details["checks"]["cache"]["target"] == f"redis://127.0.0.1:{redis_port}/10"
    assert details["checks"]["channel_layer"]["target"] == f"redis://127.0.0.1:{redis_port}/11"
    assert details["checks"]["broker"]["target"] == f"redis://127.0.0.1:{redis_port}/12"
    assert "ConnectionError" in details["checks"]["cache"]["error"]

    # Pages and writes keep working meanwhile, quickly: the cache gives up in under a second.
    started = time.monotonic()
    login = production_server.request("/accounts/login/")
    assert login.status == 200
    assert "Content-Security-Policy" in login.headers
    signed_in = production_server.request(
        "/accounts/login/",
        data={
            "username": USERNAME,
            "password": PASSWORD,
            "csrfmiddlewaretoken": production_server.cookie("csrftoken"),
        },
    )
    assert signed_in.status == 302, signed_in.body.decode()[:2000]
    assert production_server.cookie("sessionid")
    assert time.monotonic() - started < 5

    # Redis comes up: the same process finds it, with no restart.
    cache_db = start_redis()
    deadline = time.monotonic() + 30
    while (health := production_server.request("/healthz")).status != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert health.status == 200, health.body.decode()
    checks = health.json()["checks"]
    assert health.json()["status"] == "ok"
    # Signed in as a superuser now: the session alone shows the details.
    assert all(checks[name]["backend"] == "redis" for name in ("cache", "channel_layer", "broker"))

    # And the app's cache really is that Redis: the probe's write through Django's cache is there.
    assert b"contacts:1:healthz:probe" in cache_db.keys("contacts:*")
    assert redis.Redis(port=redis_port, db=13).dbsize() == 0, "nothing in the test run's databases"
