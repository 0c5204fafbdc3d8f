"""Run a command of this project in a fresh process with its own DATABASE_URL.

Settings read the environment once, at import, and the engine decides the installed apps and
migration modules, so checking another engine means another process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MONGODB_CHECK_URL = "mongodb://localhost:27017/contacts_compile_check"


def run_with_database(
    database_url: str,
    *args: str,
    offline: bool = False,
    extra_env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python *args` from the repository root with `DATABASE_URL` (and `DATABASE_OFFLINE`) set."""
    env = dict(os.environ, DATABASE_URL=database_url, **(extra_env or {}))
    # The outer run's options (-k, -x, …) must not filter the inner run.
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("DATABASE_OFFLINE", None)
    if offline:
        env["DATABASE_OFFLINE"] = "1"
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_pytest_with_database(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest with only pytest-django loaded: other plugins (hypothesis, …) cost seconds at start."""
    return run_with_database(
        database_url,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytest_django.plugin", *args),
        extra_env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
