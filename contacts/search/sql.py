"""What the SQL engines' search modules share (they run only once the engine is known to be SQL)."""

from __future__ import annotations

from typing import Any

from contacts.search.models import SEARCH_TABLE


def rebuild(conn: Any, statements: list[str]) -> int:
    """Run an engine's rebuild statements; how many rows the index then holds."""
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"SELECT count(*) FROM {SEARCH_TABLE}")
        return cursor.fetchone()[0]
