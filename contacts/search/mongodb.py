"""MongoDB: a weighted text index on the contacts collection, queried with `$text`.

`$text` matches whole words only (MongoDB has no prefix operator for text indexes; prefix search
there needs Atlas Search), so on MongoDB "ann" finds Ann but not Annabel: the one documented
difference from the SQL engines. The index (version 3) folds case and diacritics; the language
"none" keeps names from being stemmed. Each word is sent as a quoted phrase, which makes `$text`
AND the words instead of ORing them, and quoting also keeps `-` or quotes typed by the user from
being read as `$text` operators.

`$text` must open its pipeline, which the ORM cannot build, so the matching ids and their order
come from one aggregation on the collection, capped at MAX_MATCHES best matches, and the ORM then
filters by those ids (with the list's other filters) and orders by their position.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, QuerySet, Value, When

from contacts.models import Contact, fold

INDEX_NAME = "contact_text"
MAX_MATCHES = 1000
WEIGHTS = {
    "first_name": 10,
    "last_name": 10,
    "company": 5,
    "email": 2,
    "phone": 2,
    "job_title": 2,
    "notes": 1,
}


def install(schema_editor: Any) -> None:
    collection = schema_editor.connection.get_collection(Contact._meta.db_table)
    collection.create_index(
        [(field, "text") for field in WEIGHTS],
        name=INDEX_NAME,
        weights=WEIGHTS,
        default_language="none",
    )


def uninstall(schema_editor: Any) -> None:
    schema_editor.connection.get_collection(Contact._meta.db_table).drop_index(INDEX_NAME)


def terms(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text))


def matching(contacts: QuerySet[Contact], workspace_id: Any, words: list[str]) -> tuple[QuerySet, Any]:
    """The contacts among `contacts` matching every word, and an expression ranking them."""
    pipeline = [
        {
            "$match": {
                "$text": {"$search": " ".join(f'"{word}"' for word in words)},
                "workspace_id": workspace_id.hex,
            }
        },
        {"$sort": {"score": {"$meta": "textScore"}}},
        {"$limit": MAX_MATCHES},
        {"$project": {"_id": 1}},
    ]
    found = connection.get_collection(Contact._meta.db_table).aggregate(pipeline)
    ids = [_as_uuid(document["_id"]) for document in found]
    rank = Case(
        *(When(pk=contact_id, then=Value(position)) for position, contact_id in enumerate(ids)),
        default=Value(len(ids)),
        output_field=IntegerField(),
    )
    return contacts.filter(pk__in=ids), rank


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
