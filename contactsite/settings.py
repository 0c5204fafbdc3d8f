"""Settings for Contacts. The only module that reads the environment (see README "Configuration")."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from contacts.dbengine.config import engine_settings
from contactsite.envparse import (
    email_settings,
    env_bool,
    env_int,
    env_list,
    production_allowed_hosts,
    production_secret_key,
    redacted_url,
    redis_db_url,
    redis_reachable,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = os.environ
logger = logging.getLogger("contactsite")

# Off unless asked for: a deployment that forgets DEBUG gets production behaviour and the checks
# below, never debug pages. scripts/dev.sh, scripts/test.sh and the test settings set DEBUG=1.
DEBUG = env_bool(env.get("DEBUG"), default=False)
TESTING = env_bool(env.get("CONTACTS_TESTING"), default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
if DEBUG:
    SECRET_KEY = env.get("SECRET_KEY") or _DEV_SECRET_KEY
    ALLOWED_HOSTS = env_list(
        env.get("ALLOWED_HOSTS"), default=["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
else:
    # Refused at start, with what to set, rather than served with a guessable key or any Host.
    SECRET_KEY = production_secret_key(env.get("SECRET_KEY"), dev_key=_DEV_SECRET_KEY)
    ALLOWED_HOSTS = production_allowed_hosts(env.get("ALLOWED_HOSTS"))
CSRF_TRUSTED_ORIGINS = env_list(env.get("CSRF_TRUSTED_ORIGINS"), default=[])

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
ENGINE = engine_settings(
    DATABASE_URL,
    offline=env_bool(env.get("DATABASE_OFFLINE"), default=False),
    conn_max_age=env_int("CONN_MAX_AGE", env.get("CONN_MAX_AGE"), default=0),
    # PostgreSQL under Daphne: connections shared by the request threads (docs: README, "Configuration").
    pool_size=env_int("DATABASE_POOL_SIZE", env.get("DATABASE_POOL_SIZE"), default=0),
    # A dead server or a runaway query fails the request instead of holding a worker for minutes.
    connect_timeout=env_int("DATABASE_CONNECT_TIMEOUT", env.get("DATABASE_CONNECT_TIMEOUT"), default=5),
    statement_timeout_ms=env_int(
        "DATABASE_STATEMENT_TIMEOUT_MS", env.get("DATABASE_STATEMENT_TIMEOUT_MS"), default=30_000
    ),
)
DATABASES = {"default": ENGINE.database}
DEFAULT_AUTO_FIELD = ENGINE.default_auto_field
MIGRATION_MODULES = ENGINE.migration_modules

INSTALLED_APPS = ENGINE.installed_apps(
    [
        "daphne",
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "whitenoise.runserver_nostatic",
        "django.contrib.staticfiles",
        "channels",
        "rest_framework",
        "drf_spectacular",
        "drf_spectacular_sidecar",
        "contacts",
    ]
)

MIDDLEWARE = [
    # First, so its `Server-Timing` covers every response (HTTPS redirects included) and counts the
    # queries of every middleware below it.
    "contacts.server_timing.ServerTimingMiddleware",
    # Holds the live events of the request's writes until its response has been sent.
    "contacts.middleware.AnnounceAfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files and every early response carry the same headers.
    "contacts.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "contactsite.urls"
WSGI_APPLICATION = "contactsite.wsgi.application"
ASGI_APPLICATION = "contactsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "contacts.context_processors.workspaces",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Stored times are UTC on every engine (MongoDB's date truncation only works in UTC); pages show
# the viewer's local time (see templates/contacts/_time.html).
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (served by the app itself through WhiteNoise; no CDN) ----------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Vendored front-end packages come from npm (`npm ci` installs them; node_modules is not committed).
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist")]
# Development and tests serve files straight from the source folders; production serves the
# compressed, hashed copies `collectstatic` writes to STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Redis: cache, channel layer, Celery broker (separate databases in production) ----------
REDIS_URL = env.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
CACHE_REDIS_URL = env.get("CACHE_REDIS_URL") or REDIS_URL
CHANNELS_REDIS_URL = env.get("CHANNELS_REDIS_URL") or REDIS_URL
CELERY_BROKER_URL = env.get("CELERY_BROKER_URL") or REDIS_URL
if TESTING:
    # Tests keep to their own Redis databases so a run never touches dev data.
    CACHE_REDIS_URL = redis_db_url(CACHE_REDIS_URL, 13)
    CHANNELS_REDIS_URL = redis_db_url(CHANNELS_REDIS_URL, 14)
    CELERY_BROKER_URL = redis_db_url(CELERY_BROKER_URL, 15)

# Production (DEBUG=0) always uses the Redis it was given: nothing is probed at start, so a
# process started while Redis is down still uses Redis once it is back. Meanwhile the cache
# ignores (and logs) Redis errors so pages and writes keep working, and /healthz answers 503
# naming the part. Only local use (DEBUG=1) falls back to in-process stand-ins, with one warning.
_unreachable = []
if DEBUG:
    _servers = {}  # one probe per server: the three URLs usually differ only in the database number
    for _url in (CACHE_REDIS_URL, CHANNELS_REDIS_URL, CELERY_BROKER_URL):
        _servers.setdefault(redis_db_url(_url, 0), _url)
    _unreachable = [url for url in _servers.values() if not redis_reachable(url)]
REDIS_AVAILABLE = not _unreachable
if _unreachable:
    logger.warning(
        "Redis at %s is not reachable (DEBUG=1, local use): using a local-memory cache, an in-process "
        "channel layer and running jobs inline. Live updates reach only this process; job progress "
        "falls back to polling. With DEBUG=0 the app never falls back: it uses Redis and /healthz "
        "reports it while it is down.",
        ", ".join(redacted_url(url) for url in _unreachable),
    )

if REDIS_AVAILABLE:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "TIMEOUT": 300,
            "KEY_PREFIX": "contacts",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Sub-second timeouts: a slow or dead Redis must not make pages slow; reads miss
                # and writes are skipped (logged, see DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS).
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": True,
            },
        },
        # The read layer's cache-aside (contacts/cache.py): the same Redis, but errors are raised
        # so the read layer can stop asking a dead Redis for a while instead of waiting each time.
        "reads": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": "contacts",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": False,
            },
        },
    }
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: a group message is published once and each server process hands it to its
            # own sockets, so fan-out costs one Redis message per process, not one per socket, and
            # no per-channel capacity or group expiry can drop it. A process that is disconnected
            # from Redis misses messages: the workspace version in every event makes clients
            # resynchronise. (docs/decisions.md, "Live updates")
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # socket_timeout None: redis-py's 5 s default would end the idle subscription
                # (channels_redis #422). Connecting still gives up quickly.
                "hosts": [
                    {
                        "address": CHANNELS_REDIS_URL,
                        "socket_timeout": None,
                        "socket_connect_timeout": 1,
                    }
                ],
                # Pub/sub channels are not per Redis database: tests keep to a prefix of their own.
                "prefix": "contacts-test" if TESTING else "contacts",
            },
        }
    }
else:
    _local_cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": 300}
    CACHES = {"default": _local_cache, "reads": {**_local_cache, "LOCATION": "reads"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# --- Celery ------------------------------------------------------------------------------------
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# No Redis in local use: jobs run inline in the web process instead of waiting for a broker that is
# not there. Never in production: there a down broker is reported by /healthz, not hidden.
CELERY_TASK_ALWAYS_EAGER = not REDIS_AVAILABLE
# Periodic jobs (run by `celery beat`, or a worker started with -B): resume activation runs whose
# worker died, and delete finished runs after a day.
CELERY_BEAT_SCHEDULE = {
    "activation-resume-stale": {"task": "contacts.tasks.activation_resume_stale", "schedule": 15.0},
    "activation-delete-finished": {"task": "contacts.tasks.activation_delete_finished", "schedule": 3600.0},
    "jobs-dispatch-pending": {"task": "contacts.tasks.jobs_dispatch_pending", "schedule": 30.0},
}
# An activation run whose heartbeat is older than this (seconds) lost its worker and is resumed.
CONTACTS_ACTIVATION_STALE_AFTER = env_int(
    "CONTACTS_ACTIVATION_STALE_AFTER", env.get("CONTACTS_ACTIVATION_STALE_AFTER"), default=30
)

# --- E-mail ------------------------------------------------------------------------------------
_email = email_settings(env.get("EMAIL_URL") or "console://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.get("DEFAULT_FROM_EMAIL") or "Contacts <contacts@localhost>"
# The site's address as people reach it (e.g. https://contacts.example.com), for links in e-mails;
# empty: links are paths only.
CONTACTS_BASE_URL = (env.get("CONTACTS_BASE_URL") or "").rstrip("/")
# The right-hand side of the Message-IDs the app gives its e-mails.
CONTACTS_MAIL_DOMAIN = env.get("CONTACTS_MAIL_DOMAIN") or DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >")

# --- Security (switched on by settings, never forced on plain-HTTP local use) --------------
# BEHIND_TLS_PROXY=1: the proxy in front terminates HTTPS and sets X-Forwarded-Proto, so the app
# redirects plain HTTP and marks its cookies Secure; each can still be set on its own.
BEHIND_TLS_PROXY = env_bool(env.get("BEHIND_TLS_PROXY"), default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool(env.get("SECURE_SSL_REDIRECT"), default=BEHIND_TLS_PROXY)
# Load balancers and container health checks probe over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
_https = SECURE_SSL_REDIRECT or BEHIND_TLS_PROXY
SESSION_COOKIE_SECURE = env_bool(env.get("SESSION_COOKIE_SECURE"), default=_https)
CSRF_COOKIE_SECURE = env_bool(env.get("CSRF_COOKIE_SECURE"), default=_https)
# HSTS is a promise browsers remember for SECURE_HSTS_SECONDS: only the deployment can make it.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", env.get("SECURE_HSTS_SECONDS"), default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(env.get("SECURE_HSTS_INCLUDE_SUBDOMAINS"), default=False)
SECURE_HSTS_PRELOAD = env_bool(env.get("SECURE_HSTS_PRELOAD"), default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (contacts/middleware.py): no inline or eval'd script anywhere. The app's
# pages and Django's admin need nothing but their own origin; a path that needs more gets it by
# prefix (first match wins), and still no inline script or 'unsafe-eval'.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
CONTENT_SECURITY_POLICY_PATHS = {
    # Swagger UI's stylesheet draws its icons with data: images.
    "/api/docs/": {**CONTENT_SECURITY_POLICY, "img-src": ["'self'", "data:"]},
}
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

# /healthz shows hosts and error messages only to staff users and to callers presenting this token
# (`Authorization: Bearer …` or `X-Health-Token: …`); empty means staff only.
HEALTH_TOKEN = env.get("HEALTH_TOKEN") or ""

# --- Product settings ----------------------------------------------------------------------
CONTACTS_PAGE_SIZE = 50

# The read layer's cache (contacts/cache.py): lists, filter choices, contacts and tag counts,
# keyed by workspace and its change version.
CONTACTS_CACHE_ENABLED = env_bool(env.get("CONTACTS_CACHE_ENABLED"), default=True)
CONTACTS_CACHE_ALIAS = "reads"
CONTACTS_CACHE_TTL = env_int("CONTACTS_CACHE_TTL", env.get("CONTACTS_CACHE_TTL"), default=300)
# Values the list page reads are also kept in each process's memory, up to this many bytes (they
# never change under their key; see contacts/cache.py). 0: read Redis every time.
CONTACTS_CACHE_LOCAL_BYTES = env_int(
    "CONTACTS_CACHE_LOCAL_BYTES", env.get("CONTACTS_CACHE_LOCAL_BYTES"), default=32 * 1024 * 1024
)
# Part of every cached read's key, so a deploy never serves HTML rendered by the previous one (its
# layout, its static file names). Empty: a digest of the templates and the static files' manifest.
CONTACTS_RELEASE = env.get("CONTACTS_RELEASE", "")
# A reader that finds another computing the same value waits this long for it (seconds); the lock
# itself expires after LOCK_TIMEOUT in case its holder died.
CONTACTS_CACHE_LOCK_WAIT = 1.0
CONTACTS_CACHE_LOCK_TIMEOUT = 10
# After a Redis error, reads skip the cache for this many seconds (one warning each time).
CONTACTS_CACHE_RETRY_AFTER = 5

# Live updates (contacts/live/): a page reports who is looking at what every HEARTBEAT seconds;
# an entry not refreshed for PRESENCE_TTL seconds (a crashed tab or server) is dropped.
CONTACTS_PRESENCE_HEARTBEAT = 5
CONTACTS_PRESENCE_TTL = env_int("CONTACTS_PRESENCE_TTL", env.get("CONTACTS_PRESENCE_TTL"), default=15)

# Sign-in and password reset throttling (contacts/accounts/throttle.py). Each window opens with the
# first counted event; counts live in the cache, so every process shares them.
SIGNIN_FAILURES_PER_USERNAME = 10
SIGNIN_FAILURES_PER_ADDRESS = 50
SIGNIN_FAILURE_WINDOW = 15 * 60
PASSWORD_RESETS_PER_ADDRESS = 5
PASSWORD_RESETS_PER_EMAIL = 5
PASSWORD_RESET_WINDOW = 60 * 60
# Proxies (addresses or networks) whose X-Forwarded-For is believed when counting per client
# address. Empty: REMOTE_ADDR is the client, and X-Forwarded-For is ignored.
TRUSTED_PROXIES = env_list(env.get("TRUSTED_PROXIES"), default=[])

# --- REST API (see contacts/api/) ------------------------------------------------------------
API_THROTTLE_RATE = env.get("API_THROTTLE_RATE") or ("100000/min" if TESTING else "600/min")
API_ANON_THROTTLE_RATE = env.get("API_ANON_THROTTLE_RATE") or ("100000/min" if TESTING else "60/min")
REST_FRAMEWORK = {
    # Token first: a request without credentials then gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "contacts.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "contacts.api.throttling.UserThrottle",
        "contacts.api.throttling.AnonThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser plus the body size limit and a 400 for deeply nested JSON.
    "DEFAULT_PARSER_CLASSES": ["contacts.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "contacts.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contacts API",
    "DESCRIPTION": "Workspaces, contacts and tags. Authenticate with `Authorization: Token <key>` "
    "(`manage.py api_token USERNAME`) or a signed-in session with its CSRF token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ContactStatusEnum": "contacts.models.ContactStatus"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "contacts.api.schema.add_error_responses",
        "contacts.api.schema.add_contact_links",
        "contacts.api.schema.add_contact_etags",
    ],
}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
    # Django's own `django` logger has a console handler; stop it printing every line twice.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}
