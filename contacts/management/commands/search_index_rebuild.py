"""`manage.py search_index_rebuild`: rebuild the full-text index from the contacts.

Database triggers keep the index in step with every write, so this is for repairs: after
restoring a backup taken without it, after loading data with triggers disabled, or after
changing how the index is built.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from contacts import search
from contacts.dbengine import atomic


class Command(BaseCommand):
    help = "Rebuild the contacts' full-text search index (searches keep working meanwhile)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        with atomic():  # searches see the old index until the new one is complete
            indexed = search.rebuild()
        self.stdout.write(
            f"Search index rebuilt: {indexed:,} contacts in {time.perf_counter() - started:.1f} s."
        )
