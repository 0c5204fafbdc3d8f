"""Indexes whose MongoDB form has options SQL has no word for."""

from __future__ import annotations

from typing import Any

from django.db import models


class ExpiringIndex(models.Index):
    """An index on one date field; on MongoDB also a TTL index: the server deletes each document
    `expire_after_seconds` after that date (documents without the date are kept).

    On SQL it is a plain index, and a periodic job deletes what has expired instead.
    """

    def __init__(self, *, field: str, name: str, expire_after_seconds: int) -> None:
        super().__init__(fields=[field], name=name)
        self.expire_after_seconds = expire_after_seconds

    def deconstruct(self) -> tuple[str, tuple, dict[str, Any]]:
        path, _, _ = super().deconstruct()
        return (
            path,
            (),
            {"field": self.fields[0], "name": self.name, "expire_after_seconds": self.expire_after_seconds},
        )

    def get_pymongo_index_model(self, *args: Any, **kwargs: Any) -> Any:
        # Index.get_pymongo_index_model is django-mongodb-backend's, installed when it loads.
        index = super().get_pymongo_index_model(*args, **kwargs)
        if index is not None:
            index.document["expireAfterSeconds"] = self.expire_after_seconds
        return index
