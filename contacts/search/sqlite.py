"""SQLite: an FTS5 table beside the contacts, kept in step by triggers.

One row per contact: `contact_id` (the contact's stored id, also indexed so a trigger finds the
row through the index instead of scanning), `workspace` (its id as one token, so a search of one
workspace is answered by the index alone) and four weighted columns. Rows are added in the order
contacts are, so equally good matches come newest first by `rowid`, which costs nothing to read
(ordering by a stored column would read every matching row's content: twice the time). The `unicode61` tokenizer
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
from uuid import UUID

from contacts.search import sql
from contacts.search.models import SEARCH_TABLE

# The index's columns as the triggers fill them from the contact (NEW/OLD.<column>).
_COLUMNS = {
    "workspace": "{row}.workspace_id",
    "name": "{row}.first_name || ' ' || {row}.last_name",
    "company": "{row}.company",
    "details": "coalesce({row}.email, '') || ' ' || {row}.phone || ' ' || {row}.job_title",
    "notes": "{row}.notes",
}
WEIGHTS = (0.0, 0.0, 10.0, 5.0, 2.0, 1.0)  # contact_id, workspace, name, company, details, notes
_SEARCHED = "{name company details notes}"


def _values(row: str) -> str:
    return ", ".join(expression.format(row=row) for expression in _COLUMNS.values())


def _by_contact(row: str) -> str:
    # The id as an FTS5 phrase in the contact_id column: found through the index.
    return f"{SEARCH_TABLE} MATCH 'contact_id:\"' || {row}._id || '\"'"


TRIGGERS = ("contacts_search_insert", "contacts_search_update", "contacts_search_delete")


def install_statements() -> list[str]:
    declared = ", ".join(_COLUMNS)
    return [
        f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(contact_id, {declared}, "
        "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
        f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rank) VALUES "
        f"('rank', 'bm25({', '.join(map(str, WEIGHTS))})')",
        *trigger_statements(),
    ]


def trigger_statements() -> list[str]:
    columns = ", ".join(_COLUMNS)
    insert = f"INSERT INTO {SEARCH_TABLE} (contact_id, {columns}) VALUES (NEW._id, {_values('NEW')});"
    assignments = ", ".join(
        f"{name} = {expression.format(row='NEW')}" for name, expression in _COLUMNS.items()
    )
    watched = "workspace_id, first_name, last_name, email, phone, company, job_title, notes"
    return [
        f"CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts_contact BEGIN {insert} END",
        f"CREATE TRIGGER contacts_search_update AFTER UPDATE OF {watched} ON contacts_contact "
        f"BEGIN UPDATE {SEARCH_TABLE} SET {assignments} WHERE {_by_contact('OLD')}; END",
        f"CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts_contact "
        f"BEGIN DELETE FROM {SEARCH_TABLE} WHERE {_by_contact('OLD')}; END",
    ]


def missing_triggers(conn: Any) -> bool:
    """Whether a trigger is gone: SQLite drops a table's triggers when a migration rebuilds the
    table (its way of altering most columns), and the index would silently fall behind."""
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN {TRIGGERS!r}")
        return cursor.fetchone()[0] < len(TRIGGERS)


def restore_triggers(conn: Any) -> int:
    """Put the triggers back and refill the index (rows written meanwhile were not indexed)."""
    with conn.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in trigger_statements():
            cursor.execute(statement)
    return rebuild(conn)


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
    return sql.rebuild(conn, rebuild_statements())


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


def _in_workspace(workspace_id: UUID, words: list[str]) -> str:
    return f'workspace : "{workspace_id.hex}" AND {query(words)}'


def count(conn: Any, workspace_id: UUID, words: list[str]) -> int:
    """How many contacts of the workspace match: the index's doclists alone, no row read."""
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s",
            [_in_workspace(workspace_id, words)],
        )
        return cursor.fetchone()[0]


def ranked_ids(
    conn: Any, workspace_id: UUID, words: list[str], offset: int, limit: int, *, candidates: int | None = None
) -> list[UUID]:
    """The ids of one page of matches, best first, then newest first, from the index alone.

    With `candidates` (a broad search), only that many of the newest matches are ranked (read from
    the doclists, newest first, without touching a row): bm25 for 1,000 rows, not 50,000.
    """
    matches = f"SELECT rowid, contact_id, rank AS score FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s"
    params: list[Any] = [_in_workspace(workspace_id, words)]
    if candidates is not None:
        matches += " ORDER BY rowid DESC LIMIT %s"
        params.append(candidates)
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT contact_id FROM ({matches}) ORDER BY score, rowid DESC LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return [UUID(row[0]) for row in cursor.fetchall()]
