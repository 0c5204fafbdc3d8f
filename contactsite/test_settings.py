"""Settings for the test suite: the normal settings in testing mode (own Redis databases, fast hashing).

pytest.ini names this module; processes the tests start (server, worker) inherit the variable.
"""

import os

os.environ.setdefault("CONTACTS_TESTING", "1")

from contactsite.settings import *  # noqa: F403
