"""Turn `DATABASE_URL` into Django settings for SQLite, PostgreSQL or MongoDB.

Pure functions of their arguments (no environment reads) so settings for every engine can be
tested without that engine being reachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

SQL_DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# django-mongodb-backend with the project's fixes (see contacts/dbengine/mongodb/base.py).
MONGO_ENGINE = "contacts.dbengine.mongodb"
MONGO_DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"

# Contrib apps whose models need an ObjectId primary key on MongoDB: they are installed through
# app configs that set `default_auto_field`, and migrated from migrations generated for that engine.
MONGO_CONTRIB_APPS = {
    "django.contrib.admin": "contacts.dbengine.apps.MongoAdminConfig",
    "django.contrib.auth": "contacts.dbengine.apps.MongoAuthConfig",
    "django.contrib.contenttypes": "contacts.dbengine.apps.MongoContentTypesConfig",
}
MONGO_MIGRATION_MODULES = {
    "admin": "mongo_migrations.admin",
    "auth": "mongo_migrations.auth",
    "contenttypes": "mongo_migrations.contenttypes",
}


@dataclass(frozen=True)
class EngineSettings:
    """Everything in settings.py that depends on the database engine."""

    vendor: str
    database: dict
    default_auto_field: str
    migration_modules: dict = field(default_factory=dict)
    app_replacements: dict = field(default_factory=dict)

    def installed_apps(self, apps: list[str]) -> list[str]:
        return [self.app_replacements.get(app, app) for app in apps]


def engine_settings(
    url: str,
    *,
    offline: bool = False,
    conn_max_age: int = 0,
    connect_timeout: int = 5,
    statement_timeout_ms: int = 30_000,
    pool_size: int = 0,
) -> EngineSettings:
    """Settings for the engine named by `url`.

    `offline` keeps MongoDB's app configs and migration modules but swaps in Django's dummy
    engine, so `makemigrations` can run for MongoDB on a machine without a server.

    `connect_timeout` (seconds) bounds the wait for the server (PostgreSQL, MongoDB) or for
    SQLite's write lock; `statement_timeout_ms` bounds one statement (PostgreSQL) or one socket
    read (MongoDB); 0 means no limit. Options given in the URL's query string win over both.

    `pool_size` (PostgreSQL only) keeps up to that many connections open in a pool the process's
    threads share (Django's `OPTIONS["pool"]`, psycopg_pool). Under an ASGI server each request's
    synchronous code runs in a thread of its own, so a connection kept per thread
    (`conn_max_age`) is never used twice: without a pool every request opens a connection, and
    the server forks a backend for it. Not for processes that fork after connecting (Celery's
    prefork workers): a pool must not be shared across a fork.
    """
    scheme = urlsplit(url).scheme.lower()
    if pool_size < 0:
        raise ImproperlyConfigured(f"DATABASE_POOL_SIZE must be 0 (no pool) or more, not {pool_size}.")
    if pool_size and scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            "DATABASE_POOL_SIZE is for PostgreSQL only: SQLite opens its file in each thread, and "
            "MongoDB's engine shares one client (with its own pool) per process. Unset it."
        )
    if pool_size and conn_max_age:
        raise ImproperlyConfigured(
            "Set DATABASE_POOL_SIZE or CONN_MAX_AGE, not both: pooled connections stay open in the "
            "pool (set CONN_MAX_AGE=0)."
        )
    if scheme in {"mongodb", "mongodb+srv"}:
        return _mongodb_settings(
            url, offline=offline, connect_timeout=connect_timeout, statement_timeout_ms=statement_timeout_ms
        )
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {scheme!r} is not supported: use sqlite://, postgres:// or mongodb://"
        )
    database = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=conn_max_age > 0)
    options = database.setdefault("OPTIONS", {})
    if scheme == "sqlite":
        # A writer waits up to `timeout` for the lock instead of failing with "database is
        # locked"; IMMEDIATE takes the lock at BEGIN, so a transaction that reads and then writes
        # cannot deadlock against another one (SQLite would fail it without waiting).
        options.setdefault("timeout", connect_timeout)
        options.setdefault("transaction_mode", "IMMEDIATE")
        # Write-ahead log: readers and the writer no longer block each other, and a commit costs
        # one sync of the log (about a quarter of the rollback journal's syncs here). Durability
        # stays `synchronous=FULL`; only the activation record relaxes it for its own commits
        # (activation_record.py). Needs a local file system (not NFS); back up with `.backup`,
        # not by copying the file alone. A no-op for an in-memory database.
        options.setdefault("init_command", "PRAGMA journal_mode=WAL")
        return EngineSettings(vendor="sqlite", database=database, default_auto_field=SQL_DEFAULT_AUTO_FIELD)
    if connect_timeout:
        options.setdefault("connect_timeout", connect_timeout)
    if statement_timeout_ms:
        # libpq's `options` passes server settings for the session; keep any the URL already gave.
        server_options = options.get("options", "")
        if "statement_timeout" not in server_options:
            options["options"] = f"{server_options} -c statement_timeout={statement_timeout_ms}".strip()
    if pool_size:
        # A request waits at most `connect_timeout` for a free connection, then fails (503 at
        # /healthz, an error page elsewhere) instead of queueing for ever.
        options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": connect_timeout or 30}
        # Each connection is checked as it leaves the pool (one round trip): after a database
        # restart or failover a dead one is replaced instead of failing a request.
        database["CONN_HEALTH_CHECKS"] = True
    return EngineSettings(vendor="postgresql", database=database, default_auto_field=SQL_DEFAULT_AUTO_FIELD)


def _mongodb_settings(
    url: str, *, offline: bool, connect_timeout: int, statement_timeout_ms: int
) -> EngineSettings:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise ImproperlyConfigured(
            "A mongodb:// DATABASE_URL must name the database: mongodb://host:27017/contacts"
        )
    # MongoClient keyword arguments override the connection string's options: set only those the
    # URL does not (option names are case-insensitive there).
    in_url = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
    timeouts = {
        # Server selection covers "no server" and "no primary" (a replica set electing).
        "serverSelectionTimeoutMS": connect_timeout * 1000,
        "connectTimeoutMS": connect_timeout * 1000,
        "socketTimeoutMS": statement_timeout_ms,
    }
    options = {key: value for key, value in timeouts.items() if value and key.lower() not in in_url}
    database = {
        "ENGINE": "django.db.backends.dummy" if offline else MONGO_ENGINE,
        # The backend takes the whole connection string as HOST (replica set, credentials, options).
        "HOST": url,
        "NAME": name,
        "OPTIONS": options,
    }
    return EngineSettings(
        vendor="mongodb",
        database=database,
        default_auto_field=MONGO_DEFAULT_AUTO_FIELD,
        migration_modules=dict(MONGO_MIGRATION_MODULES),
        app_replacements=dict(MONGO_CONTRIB_APPS),
    )
