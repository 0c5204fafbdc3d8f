"""DATABASE_URL → settings for each engine, the environment parsers, and settings loaded for MongoDB."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from contacts.dbengine.config import (
    MONGO_CONTRIB_APPS,
    MONGO_DEFAULT_AUTO_FIELD,
    MONGO_ENGINE,
    MONGO_MIGRATION_MODULES,
    SQL_DEFAULT_AUTO_FIELD,
    engine_settings,
)
from contactsite.envparse import email_settings, env_bool, env_list, redis_db_url, redis_reachable
from tests.mongodb.subprocess_run import output_of, run_with_database

APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "contacts",
]

MONGO_TIMEOUTS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000, "socketTimeoutMS": 30000}

# --- engine_settings -----------------------------------------------------------------------------


def test_sqlite_url_gives_djangos_defaults():
    settings = engine_settings("sqlite:////srv/contacts/db.sqlite3")

    assert settings.vendor == "sqlite"
    assert settings.database["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.database["NAME"] == "/srv/contacts/db.sqlite3"
    # Concurrent writers wait for the lock (up to the timeout) instead of failing "database is locked".
    assert settings.database["OPTIONS"] == {
        "timeout": 5,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL",  # readers and the writer do not block each other
    }
    assert settings.default_auto_field == SQL_DEFAULT_AUTO_FIELD
    assert settings.migration_modules == {} and settings.installed_apps(APPS) == APPS


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_postgres_url_names_server_database_and_credentials(scheme):
    settings = engine_settings(f"{scheme}://app:s%40cret@db.example:5433/contacts", conn_max_age=60)

    assert settings.vendor == "postgresql"
    database = settings.database
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.example", 5433, "contacts")
    assert (database["USER"], database["PASSWORD"]) == ("app", "s@cret")
    assert database["CONN_MAX_AGE"] == 60 and database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"] == {"connect_timeout": 5, "options": "-c statement_timeout=30000"}
    assert settings.default_auto_field == SQL_DEFAULT_AUTO_FIELD
    assert settings.migration_modules == {} and settings.installed_apps(APPS) == APPS


@pytest.mark.parametrize(
    "url",
    [
        "mongodb://localhost:27017/contacts",
        "mongodb://app:secret@h1:27017,h2:27017/contacts?replicaSet=rs0&authSource=admin",
        "mongodb+srv://app:secret@cluster0.example.net/contacts?retryWrites=true",
    ],
)
def test_mongodb_url_keeps_the_whole_uri_as_host(url):
    settings = engine_settings(url)

    assert settings.vendor == "mongodb"
    assert settings.database == {
        "ENGINE": MONGO_ENGINE,
        "HOST": url,
        "NAME": "contacts",
        "OPTIONS": MONGO_TIMEOUTS,
    }
    assert settings.default_auto_field == MONGO_DEFAULT_AUTO_FIELD


def test_timeouts_are_configurable_per_engine():
    kwargs = {"connect_timeout": 2, "statement_timeout_ms": 1500}

    assert engine_settings("sqlite:///x.sqlite3", **kwargs).database["OPTIONS"]["timeout"] == 2
    assert engine_settings("postgres://db/contacts", **kwargs).database["OPTIONS"] == {
        "connect_timeout": 2,
        "options": "-c statement_timeout=1500",
    }
    assert engine_settings("mongodb://db/contacts", **kwargs).database["OPTIONS"] == {
        "serverSelectionTimeoutMS": 2000,
        "connectTimeoutMS": 2000,
        "socketTimeoutMS": 1500,
    }


def test_a_zero_timeout_means_no_limit():
    kwargs = {"connect_timeout": 0, "statement_timeout_ms": 0}

    assert engine_settings("postgres://db/contacts", **kwargs).database["OPTIONS"] == {}
    assert engine_settings("mongodb://db/contacts", **kwargs).database["OPTIONS"] == {}


def test_timeouts_in_the_url_win():
    postgres = engine_settings(
        "postgres://db/contacts?connect_timeout=9&options=-c%20statement_timeout%3D100",
        statement_timeout_ms=5,
    )
    mongodb = engine_settings("mongodb://db/contacts?sockettimeoutms=100")

    assert postgres.database["OPTIONS"] == {"connect_timeout": 9, "options": "-c statement_timeout=100"}
    assert "socketTimeoutMS" not in mongodb.database["OPTIONS"]
    assert mongodb.database["OPTIONS"]["connectTimeoutMS"] == 5000


def test_postgres_keeps_other_server_options_from_the_url():
    settings = engine_settings("postgres://db/contacts?options=-c%20search_path%3Dapp")

    assert settings.database["OPTIONS"]["options"] == "-c search_path=app -c statement_timeout=30000"


def test_a_postgresql_pool_is_sized_and_bounded_by_the_connect_timeout():
    pooled = engine_settings("postgres://db/contacts", pool_size=8, connect_timeout=4)

    assert pooled.database["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 8, "timeout": 4}
    assert pooled.database["CONN_HEALTH_CHECKS"]  # the pool checks each connection it hands out
    assert pooled.database["CONN_MAX_AGE"] == 0
    assert "pool" not in engine_settings("postgres://db/contacts").database["OPTIONS"]


@pytest.mark.parametrize(
    ("url", "kwargs", "says"),
    [
        ("sqlite:///x.sqlite3", {"pool_size": 4}, "for PostgreSQL only"),
        ("mongodb://db/contacts", {"pool_size": 4}, "for PostgreSQL only"),
        ("postgres://db/contacts", {"pool_size": 4, "conn_max_age": 60}, "not both"),
        ("postgres://db/contacts", {"pool_size": -1}, "0 (no pool) or more"),
    ],
)
def test_a_pool_that_cannot_work_is_refused_saying_why(url, kwargs, says):
    with pytest.raises(ImproperlyConfigured, match=re.escape(says)):
        engine_settings(url, **kwargs)


def test_mongodb_replaces_contrib_apps_in_place_and_uses_mongo_migrations():
    settings = engine_settings("mongodb://localhost:27017/contacts")

    assert settings.installed_apps(APPS) == [
        "contacts.dbengine.apps.MongoAdminConfig",
        "contacts.dbengine.apps.MongoAuthConfig",
        "contacts.dbengine.apps.MongoContentTypesConfig",
        "django.contrib.sessions",
        "contacts",
    ]
    assert settings.app_replacements == MONGO_CONTRIB_APPS
    assert settings.migration_modules == {
        "admin": "mongo_migrations.admin",
        "auth": "mongo_migrations.auth",
        "contenttypes": "mongo_migrations.contenttypes",
    }


def test_mongodb_offline_swaps_in_the_dummy_engine_and_keeps_the_rest():
    settings = engine_settings("mongodb://localhost:27017/contacts", offline=True)

    assert settings.database["ENGINE"] == "django.db.backends.dummy"
    assert settings.migration_modules == MONGO_MIGRATION_MODULES
    assert settings.default_auto_field == MONGO_DEFAULT_AUTO_FIELD


def test_offline_means_nothing_to_sql_engines():
    assert (
        engine_settings("sqlite://:memory:", offline=True).database["ENGINE"] == "django.db.backends.sqlite3"
    )


@pytest.mark.parametrize("url", ["mysql://db/contacts", "redis://localhost:6379/0", "contacts.sqlite3"])
def test_an_unknown_scheme_is_refused_with_the_choices(url):
    with pytest.raises(
        ImproperlyConfigured, match=r"not supported: use sqlite://, postgres:// or mongodb://"
    ):
        engine_settings(url)


@pytest.mark.parametrize(
    "url", ["mongodb://localhost:27017", "mongodb://localhost:27017/", "mongodb://h/?replicaSet=rs0"]
)
def test_a_mongodb_url_without_a_database_name_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match=r"must name the database: mongodb://host:27017/contacts"):
        engine_settings(url)


# --- envparse -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("1", True), (" TRUE ", True), ("yes", True), ("on", True)])
def test_env_bool_true_spellings(value, expected):
    assert env_bool(value, default=False) is expected


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_env_bool_false_spellings(value):
    assert env_bool(value, default=True) is False


def test_env_bool_unset_gives_the_default():
    assert env_bool(None, default=True) is True
    assert env_bool(None, default=False) is False


def test_env_bool_refuses_anything_else():
    with pytest.raises(ImproperlyConfigured, match=r"Expected a boolean .* got 'maybe'"):
        env_bool("maybe", default=False)


def test_env_list_splits_and_trims():
    assert env_list(" a.example , b.example,,", default=["x"]) == ["a.example", "b.example"]
    assert env_list(None, default=["x"]) == ["x"]
    assert env_list("  ", default=["x"]) == ["x"]


def test_email_smtp_with_tls_and_encoded_credentials():
    assert email_settings("smtp+tls://mailer%40example.com:p%2Fss@smtp.example.com") == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer@example.com",
        "EMAIL_HOST_PASSWORD": "p/ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }


@pytest.mark.parametrize(
    ("url", "port", "tls", "ssl"),
    [
        ("smtp://mail.local", 25, False, False),
        ("smtp://mail.local:2525", 2525, False, False),
        ("smtp+ssl://mail.local", 465, False, True),
    ],
)
def test_email_smtp_ports_and_security(url, port, tls, ssl):
    settings = email_settings(url)

    assert (settings["EMAIL_PORT"], settings["EMAIL_USE_TLS"], settings["EMAIL_USE_SSL"]) == (port, tls, ssl)


@pytest.mark.parametrize(("url", "backend"), [("console://", "console"), ("locmem://", "locmem")])
def test_email_console_and_locmem(url, backend):
    assert email_settings(url) == {"EMAIL_BACKEND": f"django.core.mail.backends.{backend}.EmailBackend"}


def test_email_unknown_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL scheme 'sendmail'"):
        email_settings("sendmail://localhost")


def test_redis_db_url_changes_only_the_database_number():
    assert redis_db_url("redis://:pw@cache.example:6380/0?ssl_cert_reqs=none", 13) == (
        "redis://:pw@cache.example:6380/13?ssl_cert_reqs=none"
    )
    assert redis_db_url("redis://localhost", 14) == "redis://localhost/14"


def test_redis_reachable_answers_false_for_a_closed_port():
    assert redis_reachable("redis://127.0.0.1:1/0", timeout=0.2) is False


# --- settings loaded under the MongoDB engine -----------------------------------------------------

_REPORT = """
import json, django
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models.fields import AutoFieldMixin
django.setup()
print(json.dumps({
    "installed_apps": settings.INSTALLED_APPS,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": settings.DATABASES["default"]["NAME"],
    "migration_modules": settings.MIGRATION_MODULES,
    "default_auto_field": settings.DEFAULT_AUTO_FIELD,
    "vendor": connection.vendor,
    "iexact_value": connection.ops.prep_for_iexact_query("A+B (UK)"),
    "auto_keys": sorted(
        f"{m._meta.label}: {type(m._meta.pk).__module__}.{type(m._meta.pk).__name__}"
        for m in apps.get_models() if isinstance(m._meta.pk, AutoFieldMixin)
    ),
}))
"""


@pytest.fixture(scope="module")
def mongodb_settings():
    result = run_with_database(
        "mongodb://localhost:27017/x",
        "-c",
        _REPORT,
        extra_env={"DJANGO_SETTINGS_MODULE": "contactsite.settings"},
    )
    assert result.returncode == 0, output_of(result)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_settings_load_for_mongodb_with_its_app_configs(mongodb_settings):
    apps = mongodb_settings["installed_apps"]

    assert set(MONGO_CONTRIB_APPS.values()) <= set(apps)
    assert not set(MONGO_CONTRIB_APPS) & set(apps), "the plain contrib configs are replaced, not added"
    assert (mongodb_settings["engine"], mongodb_settings["name"], mongodb_settings["vendor"]) == (
        MONGO_ENGINE,
        "x",
        "mongodb",
    )
    assert mongodb_settings["migration_modules"] == MONGO_MIGRATION_MODULES
    assert mongodb_settings["default_auto_field"] == MONGO_DEFAULT_AUTO_FIELD


def test_every_auto_primary_key_is_an_object_id_on_mongodb(mongodb_settings):
    # An installed app whose models get an integer key needs a Mongo app config and migrations.
    wrong = [key for key in mongodb_settings["auto_keys"] if not key.endswith(".ObjectIdAutoField")]

    assert mongodb_settings["auto_keys"] and not wrong, f"integer primary keys on MongoDB: {wrong}"


def test_iexact_is_escaped_for_mongodbs_regular_expressions(mongodb_settings):
    assert re.fullmatch(mongodb_settings["iexact_value"], "A+B (UK)")
