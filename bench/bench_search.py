"""Full-text search and reports at scale, against the plain scan they replace.

Run: `.venv/bin/python bench/bench_search.py [--contacts 100000]` (DATABASE_URL picks the engine;
default: a fresh SQLite file in a temporary folder; a PostgreSQL database is dropped and created
afresh). Prints Markdown tables; paste them into bench/README.md.

Search: a fixed set of 200 queries made from the data with a seeded generator (one to three words,
word prefixes of 2 to 6 letters, accented spellings, e-mail / company / phone / notes words, some
that match nothing), each timed as the list's uncached read (count + first page + its tags), once
through the index and once as the plain `icontains` scan over the same fields in the same run,
which is the baseline. Reports: the report read uncached (computed) and cached (Redis).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ACCENTED = str.maketrans({"e": "é", "a": "à", "o": "ö", "u": "ü", "i": "ï", "c": "ç", "n": "ñ"})
SCANNED_FIELDS = ("first_name", "last_name", "email", "company", "phone", "job_title", "notes")


def _setup_django(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactsite.settings")
    os.environ.setdefault("CONTACTS_TESTING", "1")  # own Redis databases
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    if os.environ["DATABASE_URL"].startswith("postgres"):
        _recreate_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _recreate_postgres_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def _seed(count: int):
    import factory.random
    from django.db import connection

    from contacts.factories import ContactFactory, WorkspaceFactory
    from contacts.models import Contact, ContactTag, Tag

    factory.random.reseed_random(20261130)
    workspace = WorkspaceFactory(slug="bench", name="Bench")
    started = time.perf_counter()
    contacts = ContactFactory.build_batch(count, workspace=workspace)
    for contact in contacts:
        contact.refresh_derived_fields()  # bulk_create skips save()
    Contact.objects.bulk_create(contacts, batch_size=2000)
    tags = [Tag.objects.create(workspace=workspace, name=f"tag-{n}") for n in range(30)]
    ContactTag.objects.bulk_create(
        [ContactTag(contact=c, tag=tags[(i * 7) % 30]) for i, c in enumerate(contacts) if i % 3],
        batch_size=2000,
    )
    # A live database has statistics and a visibility map (autovacuum); a fresh bulk load has neither.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"seeded {count:,} contacts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return workspace, contacts


def _queries(contacts: list, how_many: int = 200) -> list[str]:
    """One to three words, mostly prefixes, drawn from the data with a fixed seed."""
    rng = random.Random(42)

    def prefix(word: str) -> str:
        word = "".join(ch for ch in word if ch.isalnum())
        return word[: rng.randint(2, 6)] if len(word) > 2 else word

    def words_of(text: str) -> list[str]:
        return [w for w in text.replace("@", " ").replace(".", " ").split() if len(w) > 2]

    makers: list[Callable[[object], str]] = [
        lambda c: prefix(c.first_name),
        lambda c: c.last_name,
        lambda c: f"{prefix(c.first_name)} {prefix(c.last_name)}",
        lambda c: prefix(rng.choice(words_of(c.company) or [c.last_name])),
        lambda c: prefix(rng.choice(words_of(c.notes) or [c.first_name])),
        lambda c: (
            " ".join(prefix(w) for w in rng.sample(words_of(c.notes), 2))
            if len(words_of(c.notes)) > 1
            else c.first_name
        ),
        lambda c: (
            f"{prefix(c.first_name)} {prefix(rng.choice(words_of(c.company) or ['x']))} {prefix(c.last_name)}"
        ),
        lambda c: prefix(c.first_name).translate(ACCENTED),
        lambda c: c.phone.split()[-1],
        lambda c: prefix(c.email.split("@")[0].split(".")[0]),
    ]
    queries = []
    for n in range(how_many):
        if n % 20 == 19:
            queries.append(rng.choice(["qxzvw", "zzyzx kobra", "nothingmatches", "xq"]))
        else:
            queries.append(rng.choice(makers)(rng.choice(contacts)))
    return queries


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    _setup_django(args.database_url)

    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Q

    from contacts import selectors
    from contacts.selectors import ContactQuery, _contact_page_data, tag_names_by_contact

    workspace, contacts = _seed(args.contacts)
    queries = _queries(contacts, args.queries)

    def indexed(text: str) -> int:
        data = _contact_page_data(workspace, ContactQuery(search=text), 25)
        return data.get("found", data["count"])  # every match, also when a broad search shows the best

    def scan(text: str) -> int:
        """What search was before an index: every word `icontains` some field, by name."""
        matching = selectors.contacts_of(workspace)
        for word in text.split():
            any_field = Q()
            for name in SCANNED_FIELDS:
                any_field |= Q(**{f"{name}__icontains": word})
            matching = matching.filter(any_field)
        matching = matching.order_by("last_name", "first_name", "id")
        total = matching.count()
        rows = list(matching.values("id", "first_name", "last_name")[:25])
        tag_names_by_contact(row["id"] for row in rows)
        return total

    def timed(action: Callable[[str], int], text: str) -> tuple[float, int]:
        action(text)  # warm: plans, pages in memory
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            found = action(text)
            runs.append((time.perf_counter() - started) * 1000)
        return statistics.median(runs), found

    index_ms, scan_ms, matched = [], [], []
    for text in queries:
        ms, found = timed(indexed, text)
        index_ms.append(ms)
        matched.append(found)
        scan_ms.append(timed(scan, text)[0])

    print(f"\n{args.contacts:,} contacts, {len(queries)} queries, engine {connection.vendor}\n")
    print("| search | p50 ms | p95 ms | max ms | p95 × indexed |")
    print("|---|---:|---:|---:|---:|")
    index_p95 = _percentile(index_ms, 0.95)
    for name, values in (
        ("indexed (the list's read)", index_ms),
        ("plain icontains scan (baseline)", scan_ms),
    ):
        p95 = _percentile(values, 0.95)
        print(
            f"| {name} | {_percentile(values, 0.5):.2f} | {p95:.2f} | {max(values):.2f} | {p95 / index_p95:.1f} |"
        )
    speedups = sorted(s / i for s, i in zip(scan_ms, index_ms, strict=True))
    print(
        f"\nper query, scan ÷ indexed: median {statistics.median(speedups):.0f}×, "
        f"worst {speedups[0]:.1f}×; matches per query: median {statistics.median(matched):.0f}, "
        f"max {max(matched):,}, none for {matched.count(0)}"
    )
    print("\n| contacts found | queries | indexed p50 ms | indexed p95 ms | scan p50 ms |")
    print("|---|---:|---:|---:|---:|")
    buckets = ((0, 0), (1, 100), (101, 1_000), (1_001, 10_000), (10_001, args.contacts))
    for low, high in buckets:
        chosen = [n for n, found in enumerate(matched) if low <= found <= high]
        if chosen:
            fast, slow = [index_ms[n] for n in chosen], [scan_ms[n] for n in chosen]
            print(
                f"| {low:,}–{high:,} | {len(chosen)} | {_percentile(fast, 0.5):.2f} | "
                f"{_percentile(fast, 0.95):.2f} | {_percentile(slow, 0.5):.2f} |"
            )
    slowest = sorted(zip(index_ms, queries, matched, strict=True), reverse=True)[:5]
    print("slowest indexed: " + "; ".join(f"{q!r} {ms:.1f} ms ({n:,} found)" for ms, q, n in slowest))

    report = getattr(selectors, "workspace_report", None)
    if report is None:
        return
    uncached, cached = [], []
    for _ in range(10):
        cache.clear()
        started = time.perf_counter()
        report(workspace)
        uncached.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        report(workspace)
        cached.append((time.perf_counter() - started) * 1000)
    print("\n| reports (selector) | median ms | max ms |")
    print("|---|---:|---:|")
    print(f"| uncached (computed) | {statistics.median(uncached):.1f} | {max(uncached):.1f} |")
    print(f"| cached (Redis) | {statistics.median(cached):.2f} | {max(cached):.2f} |")


if __name__ == "__main__":
    main()
