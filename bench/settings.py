"""Settings for the benchmarks: the app's own settings, with the URLconf that adds the floor view.

Everything else comes from the environment exactly as in production (bench/bench_cache.py sets
DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, the Redis and database URLs). Select it with
`DJANGO_SETTINGS_MODULE=bench.settings`.
"""

from contactsite.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
