"""The database timeouts from the settings reach the server: a runaway statement fails instead of hanging.

PostgreSQL only (run with DATABASE_URL=postgres://…); tests/test_settings_engines.py checks the options
every engine is given.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections

from contacts.dbengine.config import engine_settings

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="statement_timeout is a PostgreSQL setting",
)


def test_the_sessions_carry_the_configured_statement_timeout(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        shown = cursor.fetchone()[0]

    assert shown == "30s"


def test_a_statement_over_the_timeout_fails_with_operational_error(db):
    # The settings' own path from DATABASE_URL to OPTIONS, with a timeout a test can wait for.
    options = engine_settings(settings.DATABASE_URL, statement_timeout_ms=200).database["OPTIONS"]
    default = connections["default"]
    probe = type(default)({**default.settings_dict, "OPTIONS": options}, alias="timeout-probe")
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="statement timeout"), probe.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
    finally:
        probe.close()

    assert time.monotonic() - started < 3


def test_a_statement_under_the_timeout_succeeds(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.05), 1")

        assert cursor.fetchone()[1] == 1
