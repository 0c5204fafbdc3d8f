"""MongoDB support, checked without a server: the compile check and a scan for unsupported ORM calls.

The compile check (tests/mongodb/check_*.py) needs the MongoDB engine, so it runs in its own
process with a mongodb:// DATABASE_URL and a stand-in server (see docs/mongodb.md).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

from tests.mongodb.subprocess_run import MONGODB_CHECK_URL, REPO, output_of, run_pytest_with_database

CHECKS = [
    "tests/mongodb/check_compile.py",
    "tests/mongodb/check_transactions.py",
    "tests/mongodb/check_indexes.py",
]


def test_reads_writes_and_migrations_compile_for_mongodb():
    result = run_pytest_with_database(MONGODB_CHECK_URL, *CHECKS)

    assert result.returncode == 0, output_of(result)
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 40, output_of(result)
    assert "skipped" not in result.stdout, "the checks must run under the MongoDB engine\n" + output_of(
        result
    )


# --- the static scan -------------------------------------------------------------------------------


def _many_to_many_names() -> set[str]:
    """Names that reach a many-to-many relation from some installed model (both directions)."""
    names = set()
    for model in apps.get_models():
        for field in model._meta.get_fields(include_hidden=True):
            if field.many_to_many:
                names.add(field.name)
                if field.auto_created:  # the reverse side, prefetched by its accessor (`group_set`)
                    names.add(field.get_accessor_name())
    return names


_ADVICE = {
    "extra": "QuerySet.extra() is not supported on MongoDB: use annotations",
    "raw": "raw SQL does not exist on MongoDB: use the ORM, or MongoManager().raw_aggregate() behind dbengine",
    "select_for_update": "select_for_update() is a silent no-op on MongoDB: make the write idempotent or "
    "use a conditional update (filter(...).update(...) and check the count)",
    "distinct": "distinct(*fields) is silently ignored on MongoDB: group with values(...).annotate(...)",
    "prefetch_related": "prefetching a many-to-many is not supported on MongoDB: read the through model "
    "in one query (see selectors.tag_names_by_contact)",
    "ignore_conflicts": "bulk_create(ignore_conflicts/update_conflicts) is not supported on MongoDB",
    "Window": "window functions are not supported on MongoDB",
    "RunSQL": "RunSQL cannot run on MongoDB: use RunPython that acts by connection.vendor",
    "cursor": "connection.cursor() runs nothing on MongoDB: use the ORM",
}


def _prefetches_many_to_many(call: ast.Call) -> bool:
    for arg in call.args:
        if isinstance(arg, ast.Call) and arg.args:  # Prefetch("lookup", ...)
            arg = arg.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            return True  # cannot tell: refuse rather than let it through
        if _many_to_many_names() & set(arg.value.split("__")):
            return True
    return False


def unsupported_calls(source: str) -> list[tuple[int, str]]:
    """(line, advice) for each ORM call in `source` that MongoDB cannot run faithfully."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        problem = None
        if name in {"extra", "raw", "select_for_update", "Window", "RunSQL"}:
            problem = name
        elif name == "distinct" and (node.args or node.keywords):
            problem = "distinct"
        elif name == "prefetch_related" and _prefetches_many_to_many(node):
            problem = "prefetch_related"
        elif name == "bulk_create" and any(
            k.arg in {"ignore_conflicts", "update_conflicts"}
            and not (isinstance(k.value, ast.Constant) and k.value.value is False)
            for k in node.keywords
        ):
            problem = "ignore_conflicts"
        elif name == "cursor" and isinstance(func, ast.Attribute) and "connection" in ast.unparse(func.value):
            problem = "cursor"
        if problem:
            found.append((node.lineno, _ADVICE[problem]))
    return found


# Code that runs only once the engine is known to be a SQL one: the engine adapter itself and
# the SQL engines' full-text search modules.
SQL_ONLY = (
    "contacts/dbengine/",
    "contacts/search/sql.py",
    "contacts/search/sqlite.py",
    "contacts/search/postgresql.py",
)


def _project_sources() -> list[Path]:
    return sorted(
        path
        for path in (REPO / "contacts").rglob("*.py")
        if "__pycache__" not in path.parts and not str(path.relative_to(REPO)).startswith(SQL_ONLY)
    )


def test_the_app_uses_no_orm_feature_mongodb_lacks():
    problems = [
        f"{path.relative_to(REPO)}:{line}: {advice}"
        for path in _project_sources()
        for line, advice in unsupported_calls(path.read_text())
    ]

    assert not problems, "Not supported on MongoDB (see docs/mongodb.md):\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "advice_start"),
    [
        ("Contact.objects.extra(select={'x': '1'})", "QuerySet.extra()"),
        ("Contact.objects.raw('SELECT 1')", "raw SQL"),
        ("qs.select_for_update().get(pk=1)", "select_for_update()"),
        ("qs.order_by('company').distinct('company')", "distinct(*fields)"),
        ("qs.prefetch_related('tags')", "prefetching a many-to-many"),
        ("qs.prefetch_related(Prefetch('contact__tags'))", "prefetching a many-to-many"),
        ("qs.prefetch_related(lookup)", "prefetching a many-to-many"),
        ("Tag.objects.bulk_create(tags, ignore_conflicts=True)", "bulk_create"),
        ("qs.annotate(rank=Window(RowNumber()))", "window functions"),
        ("migrations.RunSQL('CREATE INDEX …')", "RunSQL"),
        ("connection.cursor().execute('SELECT 1')", "connection.cursor()"),
    ],
)
def test_the_scan_reports_each_unsupported_call(source, advice_start):
    ((line, advice),) = unsupported_calls(source)

    assert line == 1 and advice.startswith(advice_start)


def test_the_scan_accepts_what_mongodb_supports():
    source = "\n".join(
        [
            "qs.distinct()",
            "qs.values('company').annotate(n=Count('id', distinct=True))",
            "qs.select_related('workspace').prefetch_related('memberships')",
            "Tag.objects.bulk_create(tags)",
            "Tag.objects.bulk_create(tags, ignore_conflicts=False)",
        ]
    )

    assert unsupported_calls(source) == []
