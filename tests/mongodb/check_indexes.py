"""MongoDB-only index options (contacts/dbengine/indexes.py), as the backend's schema editor builds them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from contacts.dbengine import is_mongodb
from contacts.jobs.models import KEEP_FINISHED_SECONDS
from contacts.models import ActivationItem, ActivationRun, Contact
from contacts.search import mongodb

pytestmark = pytest.mark.skipif(
    not is_mongodb(), reason="run with DATABASE_URL=mongodb://… (see docs/mongodb.md)"
)


@pytest.mark.parametrize(
    ("model", "index_name", "column"),
    [
        (ActivationRun, "activation_run_expires", "finished_at"),
        (ActivationItem, "activation_item_expires", "run_finished_at"),
    ],
)
def test_finished_activation_runs_and_items_expire_by_a_ttl_index(model, index_name, column):
    (index,) = [index for index in model._meta.indexes if index.name == index_name]
    with connection.schema_editor() as editor:
        document = index.get_pymongo_index_model(model, editor).document
    assert document["key"] == {column: 1}
    assert document["expireAfterSeconds"] == KEEP_FINISHED_SECONDS == 24 * 60 * 60
    assert document["name"] == index_name


def test_the_migrations_create_the_weighted_text_index_that_search_uses(mongo):
    call_command("migrate", verbosity=0, interactive=False)

    (created,) = [op for op in mongo.ops("create_index") if op.kwargs.get("name") == mongodb.INDEX_NAME]
    assert created.collection == Contact._meta.db_table
    assert dict(created.args[0]) == {field: "text" for field in mongodb.WEIGHTS}
    weights = created.kwargs["weights"]
    assert weights["last_name"] > weights["company"] > weights["email"] > weights["notes"]
    assert created.kwargs["default_language"] == "none"  # names are not stemmed
