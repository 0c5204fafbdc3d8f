"""django-mongodb-backend 5.2, with one fix: `iexact` escapes its value like the other lookups.

The backend matches `iexact` with a regular expression `^value$` but prepares the value with
Django's LIKE escaping (`prep_for_iexact_query` is bound to the base class's
`prep_for_like_query`), so `company__iexact="A+B (UK)"` never matches itself, "Smith & Co."
also matches "Smith & Cox", and an unbalanced "(" is a server error. Its own
`prep_for_like_query` already escapes for regular expressions; `iexact` uses it here too.
"""

from django_mongodb_backend.base import DatabaseWrapper as MongoDatabaseWrapper
from django_mongodb_backend.operations import DatabaseOperations as MongoDatabaseOperations


class DatabaseOperations(MongoDatabaseOperations):
    def prep_for_iexact_query(self, x: object) -> str:
        return self.prep_for_like_query(str(x))


class DatabaseWrapper(MongoDatabaseWrapper):
    ops_class = DatabaseOperations
