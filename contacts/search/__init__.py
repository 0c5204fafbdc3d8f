"""Full-text search of contacts: one adapter over each engine's own index.

- SQLite: an FTS5 table (contacts/search/sqlite.py); PostgreSQL: a `tsvector` table with a GIN
  index (postgresql.py); both written by database triggers, so every write path keeps them in
  step, and rebuilt by `manage.py search_index_rebuild`.
- MongoDB: a weighted text index and `$text` (mongodb.py), whole words only.

The rules users see: the search's words (letters and digits; everything else separates words
and is never read as query syntax) are ANDed; each matches the start of a word in the name,
e-mail, company, phone, job title or notes, whatever the case or accents. Results are ranked
name first, then company, then the rest, then notes. `search_terms` and `highlight` mark what
matched in the results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Expression, F, FloatField, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from contacts.models import Contact, fold
from contacts.search import mongodb, postgresql, sqlite
from contacts.search.models import SEARCH_TABLE

# More words than this add nothing but cost: the rest are ignored.
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchMatch:
    """The contacts that match, and an expression ordering them best first (ascending)."""

    contacts: QuerySet[Contact]
    rank: Any  # None when nothing can match


def contacts_search(contacts: QuerySet[Contact], workspace_id: Any, text: str) -> SearchMatch:
    """Narrow `contacts` (already confined to the workspace) to those matching `text`.

    A search without a single letter or digit (only punctuation or emoji) matches nothing.
    """
    if connection.vendor == "mongodb":
        words = mongodb.terms(text)[:MAX_WORDS]
        if not words:
            return SearchMatch(contacts.none(), None)
        matched, rank = mongodb.matching(contacts, workspace_id, words)
        return SearchMatch(matched, rank)
    engine = _sql_engine()
    words = engine.terms(text)[:MAX_WORDS]
    if not words:
        return SearchMatch(contacts.none(), None)
    query_text = engine.query(words)
    return SearchMatch(contacts.filter(search_entry__document__matches=query_text), _Rank(query_text))


@dataclass(frozen=True)
class RankedPage:
    """One page of a plain search (no other filter), best match first: what the list shows."""

    found: int  # every match
    shown: int  # the matches that can be paged through (`found`, or the best `limit` of them)
    number: int  # the page shown: a number past the end gives the last page
    ids: list[Any]


def ranked_page(
    workspace_id: Any, text: str, *, page: int, per_page: int, limit: int | None = None
) -> RankedPage | None:
    """The common case, a search alone in relevance order, answered by the index alone (no join
    to the contacts, whose per-row lookups cost more than the search itself on large results).

    With a `limit`, a broad search (more matches than `limit`) ranks `limit` candidates only (on
    SQLite the newest, on PostgreSQL the first the index returns); ranking every one of 50,000
    matches of "an" costs 50-300 ms and tells nobody anything: the page shows the count, the
    candidates best first, and asks for another word.

    None where the engine has no such path (MongoDB): the caller takes the general one.
    """
    if connection.vendor == "mongodb":
        return None
    engine = _sql_engine()
    words = engine.terms(text)[:MAX_WORDS]
    if not words:
        return RankedPage(0, 0, 1, [])
    found = engine.count(connection, workspace_id, words)
    broad = limit is not None and found > limit
    shown = limit if broad else found
    number = min(max(page, 1), max(1, -(-shown // per_page)))
    offset = (number - 1) * per_page
    ids = engine.ranked_ids(
        connection, workspace_id, words, offset, per_page, candidates=limit if broad else None
    )
    return RankedPage(found, shown, number, ids)


def search_terms(text: str) -> list[str]:
    """The folded words of a search, for highlighting what matched."""
    return _WORD.findall(fold(text))[:MAX_WORDS]


def highlight(text: str, terms: Sequence[str]) -> SafeString:
    """`text`, escaped, with the start of each word that a search term is a prefix of in <mark>."""
    if not text or not terms:
        return escape(text or "")
    parts: list[str] = []
    shown = 0
    for word in _WORD.finditer(text):
        folded = fold(word.group())
        matched = max((term for term in terms if folded.startswith(term)), key=len, default="")
        if not matched:
            continue
        # The shortest start of the word that folds to the term ("Müll" for "mull").
        length = next(
            (n for n in range(1, len(word.group()) + 1) if len(fold(word.group()[:n])) >= len(matched)),
            len(word.group()),
        )
        parts.append(escape(text[shown : word.start()]))
        parts.append(f"<mark>{escape(word.group()[:length])}</mark>")
        shown = word.start() + length
    parts.append(escape(text[shown:]))
    return mark_safe("".join(parts))


def snippet(text: str, terms: Sequence[str], *, around: int = 40) -> SafeString:
    """About `around` characters either side of the first word a term matches, highlighted,
    with "…" where text was cut; empty when no word matches."""
    for word in _WORD.finditer(text):
        folded = fold(word.group())
        if any(folded.startswith(term) for term in terms):
            start, end = max(0, word.start() - around), min(len(text), word.end() + around)
            # Cut at spaces so no word is shown in half.
            if start > 0 and " " in text[start : word.start()]:
                start = text.index(" ", start, word.start()) + 1
            if end < len(text) and " " in text[word.end() : end]:
                end = text.rindex(" ", word.end(), end)
            shown = " ".join(text[start:end].split())
            return mark_safe(
                ("…" if start > 0 else "") + highlight(shown, terms) + ("…" if end < len(text) else "")
            )
    return mark_safe("")


def install(schema_editor: Any) -> None:
    """Create the engine's search index (migration 0005)."""
    if schema_editor.connection.vendor == "mongodb":
        mongodb.install(schema_editor)
        return
    for statement in _sql_engine(schema_editor.connection).install_statements():
        schema_editor.execute(statement)
    rebuild(schema_editor.connection)


def uninstall(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "mongodb":
        mongodb.uninstall(schema_editor)
        return
    for statement in _sql_engine(schema_editor.connection).uninstall_statements():
        schema_editor.execute(statement)


def keep_in_step(conn: Any = None) -> bool:
    """After migrations: restore the SQLite triggers if a migration that rebuilt the contacts
    table dropped them (and refill the index); whether it had to. PostgreSQL alters tables in
    place and keeps their triggers; MongoDB's index maintains itself."""
    conn = conn or connection
    if conn.vendor != "sqlite" or SEARCH_TABLE not in conn.introspection.table_names():
        return False
    if not sqlite.missing_triggers(conn):
        return False
    sqlite.restore_triggers(conn)
    return True


def rebuild(conn: Any = None) -> int:
    """Rebuild the SQL engines' index from the contacts (MongoDB's index maintains itself);
    how many contacts are indexed."""
    conn = conn or connection
    if conn.vendor == "mongodb":
        return Contact.objects.count()
    return _sql_engine(conn).rebuild(conn)


def _sql_engine(conn: Any = None) -> Any:
    vendor = (conn or connection).vendor
    if vendor == "sqlite":
        return sqlite
    if vendor == "postgresql":
        return postgresql
    raise NotImplementedError(f"No full-text search adapter for the {vendor} engine.")


class _Rank(Expression):
    """How well a contact matched (lower is better), from the joined index row."""

    output_field = FloatField()

    def __init__(self, query_text: str) -> None:
        super().__init__()
        self.query_text = query_text
        self.document: Any = F("search_entry__document")

    def get_source_expressions(self) -> list[Any]:
        return [self.document]

    def set_source_expressions(self, expressions: list[Any]) -> None:
        (self.document,) = expressions

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return sqlite.rank_sql(compiler.quote_name_unless_alias(self.document.alias), self.query_text)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.document)
        sql, rank_params = postgresql.rank_sql(column, self.query_text)
        return sql, [*params, *rank_params]
