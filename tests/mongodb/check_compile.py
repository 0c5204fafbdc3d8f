"""The compile check: every read and write compiles to operations MongoDB accepts.

Runs under the MongoDB engine against a stand-in server (tests/mongodb/standin.py), so a
queryset MongoDB cannot run fails here with the backend's NotSupportedError, and each
scenario's assertions show what the server would have been sent.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import NotSupportedError, connection

from contacts.dbengine import is_mongodb
from contacts.models import Membership
from tests.mongodb.scenarios import SCENARIOS, build_world, mentions, public_functions

pytestmark = pytest.mark.skipif(
    not is_mongodb(), reason="run with DATABASE_URL=mongodb://… (see docs/mongodb.md)"
)

# Every read of these collections must be confined to one workspace (memberships are how a
# user finds their workspaces, so they are read by user instead).
WORKSPACE_SCOPED = sorted(
    model._meta.db_table
    for model in apps.get_app_config("contacts").get_models()
    if any(f.name == "workspace" for f in model._meta.fields) and model is not Membership
)


@pytest.fixture
def world(mongo):
    world = build_world(mongo)
    mongo.forget()
    # Record the after-commit callbacks instead of running them: their own effects (cache,
    # broadcast, jobs) are not what this check is about.
    connection.on_commit = lambda func, robust=False: world.after_commit.append(func)
    try:
        yield world
    finally:
        del connection.on_commit


def test_every_public_read_and_write_is_exercised():
    covered = {function for entry in SCENARIOS.values() for function in entry.covers}

    missing = sorted(name for name, function in public_functions().items() if function not in covered)

    assert not missing, (
        "These public functions have no MongoDB compile-check scenario: "
        f"{', '.join(missing)}. Add one to tests/mongodb/scenarios_reads.py or scenarios_writes.py."
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_compiles_for_mongodb(name, world):
    entry = SCENARIOS[name]

    try:
        entry.run(world)
    except NotSupportedError as error:
        pytest.fail(f"{name}: MongoDB cannot run this: {error}\nSent so far:\n{world.db.transcript()}")

    if entry.reads_only:
        for op in world.db.ops("aggregate"):
            if op.collection in WORKSPACE_SCOPED:
                assert mentions(op.pipeline, "workspace_id", world.workspace.id.hex), (
                    f"{name}: a read of {op.collection} is not confined to the workspace:\n{op}"
                )


def test_every_migration_applies_on_mongodb(mongo):
    call_command("migrate", verbosity=0, interactive=False)

    created = {op.args[0][0].document["name"] for op in mongo.ops("create_indexes")}
    declared = {
        item.name
        for model in apps.get_app_config("contacts").get_models()
        for item in [*model._meta.indexes, *model._meta.constraints]
    }
    assert declared <= created, f"indexes and constraints missing on MongoDB: {sorted(declared - created)}"
    assert {"auth_user", "django_session", "django_admin_log"} <= {
        op.collection for op in mongo.ops("create_collection")
    }
