"""Settings for Contacts. The only module that reads the environment (see README "Configuration")."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from contacts.dbengine.config import engine_settings
from contactsite.envparse import email_settings, env_bool, env_list, redis_db_url, redis_reachable

BASE_DIR = Path(__file__).resolve().parent.parent
env = os.environ
logger = logging.getLogger("contactsite")

DEBUG = env_bool(env.get("DEBUG"), default=True)
TESTING = env_bool(env.get("CONTACTS_TESTING"), default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env.get("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list(env.get("ALLOWED_HOSTS"), default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list(env.get("CSRF_TRUSTED_ORIGINS"), default=[])

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
ENGINE = engine_settings(
    DATABASE_URL,
    offline=env_bool(env.get("DATABASE_OFFLINE"), default=False),
    conn_max_age=int(env.get("CONN_MAX_AGE", "0")),
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
    "django.middleware.security.SecurityMiddleware",
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
STATIC_ROOT = BASE_DIR / "staticfiles"
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

REDIS_AVAILABLE = redis_reachable(CACHE_REDIS_URL)
if not REDIS_AVAILABLE:
    logger.warning(
        "Redis at %s is not reachable: using a local-memory cache, an in-process channel layer and "
        "running jobs inline. Live updates reach only this process; job progress falls back to polling.",
        CACHE_REDIS_URL,
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
                # Sub-second timeouts: a slow Redis must not make pages slow; reads fall through.
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # socket_timeout None: redis-py's 5 s default equals the layer's blocking read and
                # kills idle consumers (channels_redis #422).
                "hosts": [{"address": CHANNELS_REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
                "capacity": 1000,
                "expiry": 60,
                "prefix": "contacts",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": 300}}
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
# No Redis: jobs run inline in the web process instead of waiting for a broker that is not there.
CELERY_TASK_ALWAYS_EAGER = not REDIS_AVAILABLE

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

# --- Security (switched on by settings, never forced on plain-HTTP local use) --------------
SECURE_SSL_REDIRECT = env_bool(env.get("SECURE_SSL_REDIRECT"), default=False)
SESSION_COOKIE_SECURE = env_bool(env.get("SESSION_COOKIE_SECURE"), default=SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env_bool(env.get("CSRF_COOKIE_SECURE"), default=SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = int(env.get("SECURE_HSTS_SECONDS", "0"))
if env_bool(env.get("BEHIND_TLS_PROXY"), default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Product settings ----------------------------------------------------------------------
CONTACTS_PAGE_SIZE = 50

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
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
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
