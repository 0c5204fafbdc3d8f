"""Infrastructure contracts: local use runs without Redis while production never falls back,
docker-compose.yml is valid and wired as the README says, and the README's RUN command brings a fresh
copy of the project up."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from contacts.dbengine.config import engine_settings
from contactsite.envparse import redis_reachable
from tests.servers import free_port, running, wait_until_answering

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKER_COMPOSE = shutil.which("docker-compose")
DEAD_REDIS = "redis://127.0.0.1:1/0"  # port 1: nothing listens there
LIVE_REDIS = "redis://127.0.0.1:6379/0"

needs_redis = pytest.mark.skipif(not redis_reachable(LIVE_REDIS), reason="no Redis on 127.0.0.1:6379")
needs_docker_compose = pytest.mark.skipif(
    DOCKER_COMPOSE is None, reason="docker-compose is not installed (apt-get install docker-compose)"
)

# Loads the real settings in a fresh interpreter and reports what they chose, and every warning logged.
_SETTINGS_PROBE = """
import json, logging

records = []
class Collect(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger().addHandler(Collect(level=logging.WARNING))

from django.conf import settings
from contactsite.celery import app

layer = settings.CHANNEL_LAYERS["default"]
print(json.dumps({
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "layer": layer["BACKEND"],
    "layer_hosts": [host["address"] for host in layer.get("CONFIG", {}).get("hosts", [])],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "celery_app_eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "warnings": records,
}))
"""

_APP_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "CONTACTS_TESTING",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "CACHE_REDIS_URL",
    "CHANNELS_REDIS_URL",
    "CELERY_BROKER_URL",
)


def _app_env(**overrides: str) -> dict[str, str]:
    """This process's environment without the app's variables (pytest sets some), plus `overrides`."""
    env = {key: value for key, value in os.environ.items() if key not in _APP_VARIABLES}
    return {**env, **overrides}


def _load_settings(**overrides: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _SETTINGS_PROBE],
        cwd=REPO,
        env=_app_env(DJANGO_SETTINGS_MODULE="contactsite.settings", **overrides),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- Redis fallback (local use only) -------------------------------------------------------------

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "production-settings-probe-key-0123456789",
    "ALLOWED_HOSTS": "app.example",
}


def test_without_redis_the_app_uses_local_memory_an_in_process_layer_and_inline_jobs():
    chosen = _load_settings(DEBUG="1", REDIS_URL=DEAD_REDIS)

    assert chosen["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert chosen["layer"] == "channels.layers.InMemoryChannelLayer"
    assert chosen["eager"] is True
    assert chosen["celery_app_eager"] is True


def test_without_redis_exactly_one_warning_names_the_unreachable_server():
    chosen = _load_settings(DEBUG="1", REDIS_URL=DEAD_REDIS)

    assert len(chosen["warnings"]) == 1, chosen["warnings"]
    assert "redis://127.0.0.1:1/0 is not reachable (DEBUG=1, local use)" in chosen["warnings"][0]


@needs_redis
def test_local_use_falls_back_when_any_of_its_redis_servers_is_unreachable():
    chosen = _load_settings(DEBUG="1", REDIS_URL=LIVE_REDIS, CELERY_BROKER_URL="redis://:pw@127.0.0.1:1/2")

    assert chosen["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert len(chosen["warnings"]) == 1
    assert "redis://:***@127.0.0.1:1/2 is not reachable" in chosen["warnings"][0]


def test_production_never_falls_back_and_never_probes_at_start():
    chosen = _load_settings(**PRODUCTION, REDIS_URL=DEAD_REDIS)

    assert chosen["cache"] == "django_redis.cache.RedisCache"
    assert chosen["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert chosen["eager"] is False and chosen["celery_app_eager"] is False
    assert chosen["broker"] == DEAD_REDIS
    assert chosen["warnings"] == []


@needs_redis
def test_with_redis_the_app_uses_django_redis_channels_redis_and_a_celery_broker_silently():
    chosen = _load_settings(DEBUG="1", REDIS_URL=LIVE_REDIS)

    assert chosen["cache"] == "django_redis.cache.RedisCache"
    assert chosen["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert chosen["eager"] is False
    assert chosen["celery_app_eager"] is False
    assert chosen["broker"] == LIVE_REDIS
    assert chosen["warnings"] == []


@needs_redis
def test_cache_channel_layer_and_broker_each_follow_their_own_redis_url():
    chosen = _load_settings(
        DEBUG="1",
        REDIS_URL=LIVE_REDIS,
        CACHE_REDIS_URL="redis://127.0.0.1:6379/3",
        CHANNELS_REDIS_URL="redis://127.0.0.1:6379/4",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/5",
    )

    assert chosen["cache_location"] == "redis://127.0.0.1:6379/3"
    assert chosen["layer_hosts"] == ["redis://127.0.0.1:6379/4"]
    assert chosen["broker"] == "redis://127.0.0.1:6379/5"


# --- docker-compose.yml ------------------------------------------------------------------------


def _docker_compose_config(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    # An empty env file: a developer's own .env must not decide the outcome.
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [DOCKER_COMPOSE, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO,
        env=_app_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_docker_compose
def test_docker_compose_file_is_valid(tmp_path):
    result = _docker_compose_config(tmp_path, SECRET_KEY="validation-only")

    assert result.returncode == 0, result.stderr


@needs_docker_compose
def test_docker_compose_refuses_to_run_without_a_secret_key(tmp_path):
    result = _docker_compose_config(tmp_path)

    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def _conditions(service: dict) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def test_compose_starts_each_service_only_once_what_it_needs_is_ready(services):
    needs_data = {"mongodb-init": "service_completed_successfully", "redis": "service_healthy"}

    assert _conditions(services["mongodb-init"]) == {"mongodb": "service_healthy"}
    assert _conditions(services["web"]) == needs_data
    assert _conditions(services["worker"]) == {**needs_data, "web": "service_healthy"}
    assert _conditions(services["beat"]) == {**needs_data, "web": "service_healthy"}
    for name in ("mongodb", "redis", "web"):
        assert services[name]["healthcheck"]["test"], f"{name} has no healthcheck"


def test_compose_makes_mongodb_a_replica_set_so_transactions_work(services):
    init_script = services["mongodb-init"]["command"][-1]

    assert services["mongodb"]["command"][:3] == ["mongod", "--replSet", "rs0"]
    assert "ping" in " ".join(services["mongodb"]["healthcheck"]["test"])
    assert 'rs.initiate({_id: "rs0"' in init_script
    assert "isWritablePrimary" in init_script


def test_compose_app_services_share_one_production_configuration(services):
    web, worker, beat = (services[name] for name in ("web", "worker", "beat"))

    assert web["environment"] == worker["environment"] == beat["environment"]
    assert web["environment"]["DEBUG"] == "0"
    assert web["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "/healthz" in " ".join(web["healthcheck"]["test"])


def test_compose_keeps_cache_channel_layer_and_broker_in_separate_redis_databases(services):
    env = services["web"]["environment"]

    urls = [env["CACHE_REDIS_URL"], env["CHANNELS_REDIS_URL"], env["CELERY_BROKER_URL"]]

    assert len({url.rsplit("/", 1)[1] for url in urls}) == 3, urls


def test_compose_database_url_selects_the_mongodb_engine_on_the_replica_set(services):
    engine = engine_settings(services["web"]["environment"]["DATABASE_URL"])

    assert engine.vendor == "mongodb"
    assert engine.database["NAME"] == "contacts"
    assert "replicaSet=rs0" in engine.database["HOST"]


def test_compose_commands_migrate_then_serve_and_run_the_worker_and_beat(services):
    web_command = " ".join(services["web"]["command"])

    assert web_command.index("manage.py migrate") < web_command.index(
        "daphne -b 0.0.0.0 -p 8000 contactsite.asgi:application"
    )
    assert services["worker"]["command"][:4] == ["celery", "-A", "contactsite", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "contactsite", "beat"]


# --- The README's commands -----------------------------------------------------------------------


@pytest.mark.parametrize("script", ["scripts/dev.sh", "scripts/test.sh", "scripts/lib/setup.sh", ".ci/run"])
def test_shell_script_parses(script):
    result = subprocess.run(["bash", "-n", REPO / script], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_run_command_serves_the_login_page_on_a_fresh_copy_without_redis(tmp_path):
    """scripts/dev.sh in a copy of the project: new database, no Redis; the venv is this one."""
    copy = tmp_path / "contacts"
    ignored = shutil.ignore_patterns(
        ".git",
        ".venv",
        "*.sqlite3",
        "staticfiles",
        "__pycache__",
        ".*_cache",
        ".hypothesis",
        "test-artifacts",
    )
    shutil.copytree(REPO, copy, ignore=ignored, symlinks=True)
    port = free_port()
    log = tmp_path / "dev.log"
    env = _app_env(REDIS_URL=DEAD_REDIS, PORT=str(port), VENV=str(Path(sys.prefix)))
    with running(["bash", "scripts/dev.sh"], log=log, cwd=copy, env=env) as server:
        deadline = time.monotonic() + 240
        wait_until_answering(
            lambda: _get(f"http://127.0.0.1:{port}/accounts/login/") == 200,
            process=server,
            log=log,
            within=240,
            interval=0.5,
        )

        banner = f"Contacts is running at http://127.0.0.1:{port}/"
        while banner not in log.read_text() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # the script prints it just after it sees the port open

        output = log.read_text()
        assert banner in output
        assert "is not reachable" in output
        assert "alice" in output.split(banner)[1], "the demo logins follow the banner"
        assert "contacts-demo" in output.split(banner)[1]

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        assert not _port_open(port), "the server outlived the RUN command"
