"""MongoDB-only index options (contacts/dbengine/indexes.py), as the backend's schema editor builds them."""

from __future__ import annotations

import pytest
from django.db import connection

from contacts.dbengine import is_mongodb
from contacts.jobs.models import KEEP_FINISHED_SECONDS
from contacts.models import ActivationItem, ActivationRun

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
