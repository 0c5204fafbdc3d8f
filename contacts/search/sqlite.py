"""SQLite: an FTS5 table beside the contacts, kept in step by triggers.

One row per contact: `contact_id` (the contact's stored id, also indexed so a trigger finds the
row through the index instead of scanning) and four weighted columns. The `unicode61` tokenizer
with `remove_diacritics 2` folds case and accents on both sides; prefix indexes of 2 and 3
characters make the short prefixes people type while searching cheap. Ranking is FTS5's bm25 with
column weights (name 10, company 5, e-mail / phone / job title 2, notes 1), configured once as
the table's `rank` so `rank` in a query means that.

Triggers, not Python, keep the index in step: every write path (services, admin, bulk inserts,
raw SQL, migrations, cascading deletes) goes through them.
"""

from __future__ import annotations

import re
from typing import Any

from contacts.search.models import SEARCH_TABLE

# The contact's columns as the triggers read them (NEW/OLD.<column>).
_COLUMNS = {
    "name": "{row}.first_name || ' ' || {row}.last_name",
    "company": "{row}.company",
    "details": "coalesce({row}.email, '') || ' ' || {row}.phone || ' ' || {row}.job_title",
    "notes": "{row}.notes",
}
WEIGHTS = (0.0, 10.0, 5.0, 2.0, 1.0)  # contact_id, name, company, details, notes
_SEARCHED = "{" + " ".join(_COLUMNS) + "}"


def _values(row: str) -> str:
    return ", ".join(expression.format(row=row) for expression in _COLUMNS.values())


def _by_contact(row: str) -> str:
    # The id as an FTS5 phrase in the contact_id column: found through the index.
    return f"{SEARCH_TABLE} MATCH 'contact_id:\"' || {row}._id || '\"'"


def install_statements() -> list[str]:
    columns = ", ".join(_COLUMNS)
    insert = f"INSERT INTO {SEARCH_TABLE} (contact_id, {columns}) VALUES (NEW._id, {_values('NEW')});"
    assignments = ", ".join(
        f"{name} = {expression.format(row='NEW')}" for name, expression in _COLUMNS.items()
    )
    watched = "first_name, last_name, email, phone, company, job_title, notes"
    return [
        f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(contact_id, {columns}, "
        "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
        f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rank) VALUES "
        f"('rank', 'bm25({', '.join(map(str, WEIGHTS))})')",
        f"CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts_contact BEGIN {insert} END",
        f"CREATE TRIGGER contacts_search_update AFTER UPDATE OF {watched} ON contacts_contact "
        f"BEGIN UPDATE {SEARCH_TABLE} SET {assignments} WHERE {_by_contact('OLD')}; END",
        f"CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts_contact "
        f"BEGIN DELETE FROM {SEARCH_TABLE} WHERE {_by_contact('OLD')}; END",
    ]


def uninstall_statements() -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS contacts_search_insert",
        "DROP TRIGGER IF EXISTS contacts_search_update",
        "DROP TRIGGER IF EXISTS contacts_search_delete",
        f"DROP TABLE IF EXISTS {SEARCH_TABLE}",
    ]


def rebuild_statements() -> list[str]:
    columns = ", ".join(_COLUMNS)
    return [
        f"DELETE FROM {SEARCH_TABLE}",
        f"INSERT INTO {SEARCH_TABLE} (contact_id, {columns}) "
        f"SELECT _id, {_values('contacts_contact')} FROM contacts_contact",
        f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('optimize')",
    ]


def rebuild(conn: Any) -> int:
    """Refill the index from the contacts; how many rows it holds."""
    with conn.cursor() as cursor:
        for statement in rebuild_statements():
            cursor.execute(statement)
        cursor.execute(f"SELECT count(*) FROM {SEARCH_TABLE}")
        return cursor.fetchone()[0]


def terms(text: str) -> list[str]:
    """The words of the search as FTS5 will see them (it folds case and accents itself)."""
    return re.findall(r"[^\W_]+", text.lower())


def query(words: list[str]) -> str:
    """Every word as a quoted prefix, ANDed, in the searched columns only. Words hold letters
    and digits alone, so nothing the user typed is read as FTS5 syntax."""
    return f"{_SEARCHED} : (" + " AND ".join(f'"{word}"*' for word in words) + ")"


def rank_sql(alias: str, query_text: str) -> tuple[str, list[Any]]:
    """Lower is better (bm25 is negative), as the ordering expects."""
    return f"{alias}.rank", []
