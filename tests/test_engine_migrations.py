"""One set of app migrations for every engine, plus contrib migrations generated for MongoDB."""

from __future__ import annotations

import ast

import pytest

from contacts.dbengine.config import MONGO_MIGRATION_MODULES
from tests.mongodb.subprocess_run import MONGODB_CHECK_URL, REPO, output_of, run_with_database

MONGO_MIGRATIONS = REPO / "mongo_migrations"
OBJECT_ID_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"


@pytest.mark.parametrize(
    ("database_url", "offline"),
    [("sqlite://:memory:", False), (MONGODB_CHECK_URL, True)],
    ids=["sql", "mongodb-offline"],
)
def test_models_and_migrations_agree(database_url, offline):
    result = run_with_database(
        database_url, "manage.py", "makemigrations", "--check", "--dry-run", offline=offline
    )

    assert result.returncode == 0, "a model change has no migration (run makemigrations)\n" + output_of(
        result
    )
    assert "No changes detected" in result.stdout


def test_mongo_migrations_hold_exactly_the_contrib_apps_with_object_id_keys():
    packages = {path.name for path in MONGO_MIGRATIONS.iterdir() if (path / "__init__.py").exists()}

    assert packages == {"admin", "auth", "contenttypes"}
    assert {app: f"mongo_migrations.{app}" for app in packages} == MONGO_MIGRATION_MODULES


def _primary_keys(path) -> list[str]:
    """The field class of each `('id', <Field>(...))` in a migration file."""
    keys = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Tuple)
            and len(node.elts) == 2
            and isinstance(node.elts[0], ast.Constant)
            and node.elts[0].value == "id"
            and isinstance(node.elts[1], ast.Call)
        ):
            keys.append(ast.unparse(node.elts[1].func))
    return keys


@pytest.mark.parametrize("app", sorted(MONGO_MIGRATION_MODULES))
def test_every_contrib_model_on_mongodb_has_an_object_id_key(app):
    files = sorted((MONGO_MIGRATIONS / app).glob("[0-9]*.py"))

    keys = [key for path in files for key in _primary_keys(path)]

    assert files and keys, f"no migrations in mongo_migrations/{app}"
    assert set(keys) == {OBJECT_ID_AUTO_FIELD}, f"mongo_migrations/{app} has primary keys {keys}"
