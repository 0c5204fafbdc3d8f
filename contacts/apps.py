from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        # Connects the receivers that count failed sign-ins (see contacts.accounts.throttle).
        from contacts.accounts import receivers  # noqa: F401
        from contacts.live import access

        # Sockets close when their user's membership or account changes (contacts.live.access).
        access.connect()
