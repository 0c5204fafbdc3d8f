"""Settings for the test suite: the normal settings in testing mode (own Redis databases, fast hashing).

pytest.ini names this module; processes the tests start (server, worker) inherit the variable.
"""

import os

os.environ.setdefault("CONTACTS_TESTING", "1")
# Settings default to production (DEBUG off); the suite runs as local use, with the dev key and hosts.
os.environ.setdefault("DEBUG", "1")

from contactsite.settings import *  # noqa: F403

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A test database in a file, not in memory: SQLite's shared in-memory database locks whole
    # tables across connections and fails at once ("database table is locked"), where a file
    # database lets concurrent writers wait their turn, as they do in production. One file per
    # test process, so parallel runs in one checkout do not share it.
    DATABASES["default"]["TEST"] = {"NAME": f"/tmp/contacts-test-{os.getpid()}.sqlite3"}  # noqa: F405
