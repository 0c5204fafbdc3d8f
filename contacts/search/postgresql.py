"""PostgreSQL: a `tsvector` per contact in its own table with a GIN index, kept in step by triggers.

The table also holds the contact's workspace and creation time, so a search of one workspace is
counted, ranked and ordered (equally good matches newest first) without reading the contacts.

The document is built in the database from the contact's columns: `unaccent` and the `simple`
configuration (no stemming, no stop words: names are not English prose) fold accents and case;
`@ . / : _ + ' -` become spaces first, so an e-mail address, a web address or a phone number is
searchable by its parts, as the words people remember. Weights: name A, company B, e-mail /
phone / job title C, notes D; `ts_rank` with weights {notes 0.1, details 0.2, company 0.4,
name 1.0} orders the results. Prefix matching is the `:*` operator, served by the GIN index.

Triggers, not Python, keep the index in step, so every write path is covered; a `TRUNCATE` of
the contacts (the test runner's flush) empties it too.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from contacts.models import fold
from contacts.search import sql
from contacts.search.models import SEARCH_TABLE

RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"  # D (notes), C (details), B (company), A (name)


def _part(expression: str, weight: str) -> str:
    return (
        "setweight(to_tsvector('simple'::regconfig, "
        f"translate(unaccent(coalesce({expression}, '')), '@./:_+''-', '        ')), '{weight}')"
    )


_DOCUMENT = " || ".join(
    (
        _part("NEW.first_name || ' ' || NEW.last_name", "A"),
        _part("NEW.company", "B"),
        _part("coalesce(NEW.email, '') || ' ' || NEW.phone || ' ' || NEW.job_title", "C"),
        _part("NEW.notes", "D"),
    )
)


def install_statements() -> list[str]:
    watched = "workspace_id, created_at, first_name, last_name, email, phone, company, job_title, notes"
    return [
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        f"CREATE TABLE {SEARCH_TABLE} (contact_id uuid PRIMARY KEY, workspace_id uuid NOT NULL, "
        "created_at timestamptz NOT NULL, document tsvector NOT NULL)",
        f"CREATE INDEX contacts_search_document ON {SEARCH_TABLE} USING gin (document)",
        f"""CREATE FUNCTION contacts_search_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO {SEARCH_TABLE} (contact_id, workspace_id, created_at, document)
          VALUES (NEW._id, NEW.workspace_id, NEW.created_at, {_DOCUMENT})
          ON CONFLICT (contact_id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id,
            created_at = EXCLUDED.created_at, document = EXCLUDED.document;
          RETURN NULL;
        END $$""",
        f"""CREATE FUNCTION contacts_search_forget() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM {SEARCH_TABLE} WHERE contact_id = OLD._id;
          RETURN NULL;
        END $$""",
        f"""CREATE FUNCTION contacts_search_empty() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          TRUNCATE {SEARCH_TABLE};
          RETURN NULL;
        END $$""",
        "CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts_contact "
        "FOR EACH ROW EXECUTE FUNCTION contacts_search_write()",
        f"CREATE TRIGGER contacts_search_update AFTER UPDATE OF {watched} ON contacts_contact "
        "FOR EACH ROW EXECUTE FUNCTION contacts_search_write()",
        "CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts_contact "
        "FOR EACH ROW EXECUTE FUNCTION contacts_search_forget()",
        "CREATE TRIGGER contacts_search_truncate AFTER TRUNCATE ON contacts_contact "
        "FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_empty()",
    ]


def uninstall_statements() -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS contacts_search_insert ON contacts_contact",
        "DROP TRIGGER IF EXISTS contacts_search_update ON contacts_contact",
        "DROP TRIGGER IF EXISTS contacts_search_delete ON contacts_contact",
        "DROP TRIGGER IF EXISTS contacts_search_truncate ON contacts_contact",
        "DROP FUNCTION IF EXISTS contacts_search_write()",
        "DROP FUNCTION IF EXISTS contacts_search_forget()",
        "DROP FUNCTION IF EXISTS contacts_search_empty()",
        f"DROP TABLE IF EXISTS {SEARCH_TABLE}",
    ]


def rebuild_statements() -> list[str]:
    document = _DOCUMENT.replace("NEW.", "c.")
    return [
        # DELETE, not TRUNCATE: searches keep reading the old rows until the rebuild commits.
        f"DELETE FROM {SEARCH_TABLE}",
        f"INSERT INTO {SEARCH_TABLE} (contact_id, workspace_id, created_at, document) "
        f"SELECT c._id, c.workspace_id, c.created_at, {document} FROM contacts_contact c",
        f"ANALYZE {SEARCH_TABLE}",
    ]


def rebuild(conn: Any) -> int:
    """Refill the index from the contacts; how many rows it holds."""
    return sql.rebuild(conn, rebuild_statements())


def terms(text: str) -> list[str]:
    """The folded words of the search (unaccent and `simple` fold the indexed side alike)."""
    return re.findall(r"[^\W_]+", fold(text))


def query(words: list[str]) -> str:
    """Every word as a prefix, ANDed. Words hold letters and digits alone, quoted as lexemes, so
    nothing the user typed is read as tsquery syntax."""
    return " & ".join(f"'{word}':*" for word in words)


def rank_sql(column: str, query_text: str) -> tuple[str, list[Any]]:
    """Lower is better (the negated rank), as the ordering expects."""
    return (
        f"-ts_rank(%s::float4[], {column}, to_tsquery('simple', %s))",
        [RANK_WEIGHTS, query_text],
    )


def count(conn: Any, workspace_id: UUID, words: list[str]) -> int:
    """How many contacts of the workspace match, from the index table alone."""
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {SEARCH_TABLE} "
            "WHERE workspace_id = %s AND document @@ to_tsquery('simple', %s)",
            [workspace_id, query(words)],
        )
        return cursor.fetchone()[0]


def ranked_ids(
    conn: Any, workspace_id: UUID, words: list[str], offset: int, limit: int, *, candidates: int | None = None
) -> list[UUID]:
    """The ids of one page of matches, best first, then newest first, from the index table alone.

    With `candidates` (a broad search), only that many matches are ranked (the first the GIN
    index hands over: it keeps no order): ts_rank for 1,000 rows, not 50,000. (Asking for name
    matches first would not be cheaper: the index does not know weights, so every match of the
    word is read to find them.)
    """
    query_text = query(words)
    rank, rank_params = rank_sql("document", query_text)
    matches = (
        f"SELECT contact_id, created_at, document FROM {SEARCH_TABLE} "
        "WHERE workspace_id = %s AND document @@ to_tsquery('simple', %s)"
    )
    params: list[Any] = [workspace_id, query_text]
    if candidates is not None:
        matches += " LIMIT %s"
        params.append(candidates)
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT contact_id FROM ({matches}) AS matches "
            f"ORDER BY {rank}, created_at DESC, contact_id DESC LIMIT %s OFFSET %s",
            [*params, *rank_params, limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]
