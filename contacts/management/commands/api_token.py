"""`manage.py api_token USERNAME`: print the user's API token, creating it on first use."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts import services


class Command(BaseCommand):
    help = "Print USERNAME's API token (for `Authorization: Token <key>`), creating it if needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"No user is called {username!r}. Create it first (e.g. manage.py createsuperuser)."
            )
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; an API token would not let them in.")
        self.stdout.write(services.api_token_get_or_create(user=user).key)
