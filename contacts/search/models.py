"""The full-text index row of a contact, as the SQL engines keep it (see contacts/search/)."""

from __future__ import annotations

from django.db import NotSupportedError, models
from django.db.models import Lookup

from contacts.models import Contact

SEARCH_TABLE = "contacts_search"


class SearchDocumentField(models.TextField):
    """The indexed text of a contact: an FTS5 table on SQLite, a `tsvector` on PostgreSQL."""


@SearchDocumentField.register_lookup
class Matches(Lookup):
    """`search_entry__document__matches=<engine query>`: the engine's full-text match operator.

    The right-hand side is already in the engine's query syntax (built by contacts/search from
    plain words, never from raw user input).
    """

    lookup_name = "matches"

    def as_sql(self, compiler, connection):
        raise NotSupportedError(f"Full-text search is not available on {connection.vendor}.")

    def as_sqlite(self, compiler, connection):
        rhs, params = self.process_rhs(compiler, connection)
        # FTS5 matches through the hidden column named after the table (on the join's alias).
        alias = compiler.quote_name_unless_alias(self.lhs.alias)
        return f"{alias}.{connection.ops.quote_name(SEARCH_TABLE)} MATCH {rhs}", params

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ to_tsquery('simple', {rhs})", [*lhs_params, *rhs_params]


class ContactSearchEntry(models.Model):
    """One contact's row in the full-text index, written only by database triggers.

    Unmanaged: the table is an FTS5 virtual table on SQLite and a table with a GIN index on
    PostgreSQL, created by migration 0005 through contacts/search (MongoDB uses a text index on
    the contacts collection instead and never queries this model).
    """

    contact = models.OneToOneField(
        Contact,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="contact_id",
        related_name="search_entry",
    )
    document = SearchDocumentField()

    class Meta:
        managed = False
        db_table = SEARCH_TABLE

    def __str__(self) -> str:
        return f"search entry of {self.contact_id}"
