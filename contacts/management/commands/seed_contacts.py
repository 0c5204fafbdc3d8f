"""`manage.py seed_contacts [--workspaces N] [--contacts N] [--json]`: idempotent demo data.

The data set and its rules live in contacts/demo.py; this command parses options and prints.
With `--json`, stdout carries the JSON document only (progress and warnings go to stderr), so
scripts can pipe it straight into a parser.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.demo import DEMO_PASSWORD, MIN_WORKSPACES, SeedResult, seed_demo, seed_report

MAX_WORKSPACES = 50
MAX_CONTACTS = 200_000


class Command(BaseCommand):
    help = "Create demo users, workspaces and contacts (only what is missing; safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workspaces",
            type=int,
            default=2,
            help=f"number of workspaces, at least {MIN_WORKSPACES} (default 2)",
        )
        parser.add_argument(
            "--contacts", type=int, default=300, help="demo contacts per workspace (default 300)"
        )
        parser.add_argument(
            "--json", action="store_true", help="print only the logins and workspaces, as JSON"
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help=f"set the demo users' password back to {DEMO_PASSWORD!r} if it was changed",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspaces, contacts = options["workspaces"], options["contacts"]
        if not MIN_WORKSPACES <= workspaces <= MAX_WORKSPACES:
            raise CommandError(
                f"--workspaces must be between {MIN_WORKSPACES} and {MAX_WORKSPACES} (got {workspaces})."
            )
        if not 0 <= contacts <= MAX_CONTACTS:
            raise CommandError(f"--contacts must be between 0 and {MAX_CONTACTS} (got {contacts}).")
        with _progress_to(self, verbose=options["verbosity"] >= 1):
            result = seed_demo(
                workspaces=workspaces, contacts=contacts, reset_passwords=options["reset_passwords"]
            )
        for username in sorted(result.passwords_changed):
            self.stderr.write(
                f"The password of {username!r} is no longer {DEMO_PASSWORD!r}; it was left alone "
                "(use --reset-passwords to set it back).",
                style_func=self.style.WARNING,
            )
        report = seed_report(result)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.stdout.write(_summary(result, report))


class _CommandOutput(logging.Handler):
    """Log records as command output: plain progress, warnings in the warning style."""

    def __init__(self, command: BaseCommand) -> None:
        super().__init__()
        self.command = command

    def emit(self, record: logging.LogRecord) -> None:
        style = self.command.style.WARNING if record.levelno >= logging.WARNING else str
        self.command.stderr.write(record.getMessage(), style_func=style)


@contextlib.contextmanager
def _progress_to(command: BaseCommand, *, verbose: bool) -> Iterator[None]:
    """The seed's messages (logger `contacts.demo`) go to the command's stderr; -v0 keeps warnings only."""
    logger = logging.getLogger("contacts.demo")
    handler = _CommandOutput(command)
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate, logger.level = False, logging.INFO if verbose else logging.WARNING
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = saved


def _summary(result: SeedResult, report: dict[str, Any]) -> str:
    created = ", ".join(f"{count} {what}" for what, count in result.created.items())
    lines = [f"Demo data is ready (created this run: {created}).", "", "Sign in at /accounts/login/ with:"]
    width = max(len(user["username"]) for user in report["users"])
    superusers = {user.username for user in result.users if user.is_superuser}
    for user in report["users"]:
        password = user["password"] or "(changed; see above)"
        places = [
            f"{ws['name']} ({ws['role']}, {ws['contact_count']} contacts, /w/{ws['slug']}/contacts/)"
            for ws in user["workspaces"]
        ]
        if user["username"] in superusers:
            places.append("superuser: Django admin at /admin/")
        lines.append(f"  {user['username']:<{width}}  {password:<14}  {'; '.join(places) or 'no workspace'}")
    return "\n".join(lines)
