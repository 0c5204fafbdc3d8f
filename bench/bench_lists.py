"""How much the contact list costs above the bare database query behind it.

Run: `.venv/bin/python bench/bench_lists.py [--contacts 20000] [--rounds 40]` (DATABASE_URL picks the engine;
default: a fresh SQLite file in a temporary folder). Prints a Markdown table; paste it into bench/README.md.

Every figure is a ratio to the floor measured in the same process, on the same data, in the same run,
so machines and engines can be compared by shape rather than by absolute milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _setup_django(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactsite.settings")
    os.environ.setdefault("CONTACTS_TESTING", "1")  # own Redis databases, fast password hashing
    os.environ.setdefault("DEBUG", "1")  # local use: the settings default to production
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed(count: int):
    from contacts import services
    from contacts.factories import ContactFactory, MembershipFactory, UserFactory, WorkspaceFactory
    from contacts.models import Contact, ContactTag, Role, Tag

    membership = MembershipFactory(
        workspace=WorkspaceFactory(slug="bench", name="Bench"),
        user=UserFactory(username="bench"),
        role=Role.OWNER,
    )
    workspace = membership.workspace
    contacts = ContactFactory.build_batch(count, workspace=workspace)
    # bulk_create skips save(), so fill the derived fields it would have set.
    for contact in contacts:
        contact.refresh_derived_fields()
    Contact.objects.bulk_create(contacts, batch_size=1000)
    tags = [Tag.objects.create(workspace=workspace, name=name) for name in ("vip", "partner", "newsletter")]
    ContactTag.objects.bulk_create(
        [ContactTag(contact=contact, tag=tags[i % 3]) for i, contact in enumerate(contacts)], batch_size=1000
    )
    # A live database has statistics (autovacuum, or SQLite's own); a freshly bulk-loaded one
    # has none and the planner would ignore the indexes.
    from django.db import connection

    if connection.vendor in {"postgresql", "sqlite"}:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return membership, services.api_token_get_or_create(user=membership.user).key


def _median_ms(action: Callable[[], object], rounds: int) -> float:
    warm_up = action()  # also loads templates and query plans
    status = getattr(warm_up, "status_code", 200)
    if status != 200:
        raise SystemExit(f"benchmark case answered {status}, not 200: fix it before timing it")
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    _setup_django(args.database_url)

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from rest_framework.test import APIClient

    from contacts import selectors
    from contacts.models import Contact

    membership, token = _seed(args.contacts)
    workspace = membership.workspace
    page_client = Client()
    page_client.force_login(membership.user)
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    query = selectors.ContactQuery()

    def floor() -> None:
        list(Contact.objects.filter(workspace=workspace).order_by("last_name", "first_name", "id")[:50])

    cases: list[tuple[str, Callable[[], object]]] = [
        ("floor: one ORM query for the first 50 rows", floor),
        ("selector: contact_page (count + rows + tags)", lambda: selectors.contact_page(workspace, query)),
        (
            "selector: search 'ann lee'",
            lambda: selectors.contact_page(workspace, selectors.ContactQuery(search="ann lee")),
        ),
        (
            "API: GET contacts/ (first page)",
            lambda: api_client.get(f"/api/v1/workspaces/{workspace.id}/contacts/"),
        ),
        (
            "API: GET contacts/?search=ann",
            lambda: api_client.get(f"/api/v1/workspaces/{workspace.id}/contacts/?search=ann"),
        ),
        ("page: GET /w/<slug>/contacts/", lambda: page_client.get(f"/w/{workspace.slug}/contacts/")),
    ]
    results = [(name, _median_ms(action, args.rounds)) for name, action in cases]
    baseline = results[0][1]
    print(
        f"{args.contacts} contacts, {args.rounds} rounds, engine {connection.vendor}, "
        f"cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}\n"
    )
    print("| case | median ms | × floor |")
    print("|---|---:|---:|")
    for name, ms in results:
        print(f"| {name} | {ms:.2f} | {ms / baseline:.1f} |")


if __name__ == "__main__":
    main()
