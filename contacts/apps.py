from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        # Connects the receivers that count failed sign-ins (see contacts.accounts.throttle).
        from contacts.accounts import receivers  # noqa: F401
        from contacts.live import access

        # Sockets close when their user's membership or account changes (contacts.live.access).
        access.connect()
        # A migration that rebuilds the contacts table on SQLite drops the search index's triggers.
        post_migrate.connect(_search_index_in_step, sender=self)


def _search_index_in_step(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    from django.db import connections

    from contacts import search

    search.keep_in_step(connections[using])
