"""A small evaluator for the plain `$match` conditions the stand-in server answers from its store."""

from __future__ import annotations

import re
from typing import Any

_MISSING = object()


def matches(document: dict, condition: dict) -> bool:
    """Whether `document` passes a `$match` made of plain conditions.

    Anything this evaluator does not understand (`$expr`, `$text`, ...) matches nothing, the
    answer that lets validation pass and queries come back empty.
    """
    for key, expected in condition.items():
        if key == "$and":
            passed = all(matches(document, part) for part in expected)
        elif key == "$or":
            passed = any(matches(document, part) for part in expected)
        elif key == "$nor":
            passed = not any(matches(document, part) for part in expected)
        elif key.startswith("$"):
            passed = False
        else:
            passed = _value_matches(_lookup(document, key), expected)
        if not passed:
            return False
    return True


def _lookup(document: dict, path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _value_matches(actual: Any, expected: Any) -> bool:
    if not (isinstance(expected, dict) and expected and all(key.startswith("$") for key in expected)):
        if expected is None:  # MongoDB's `{field: null}` also matches a missing field.
            return actual is None or actual is _MISSING
        return actual is not _MISSING and actual == expected
    for operator, operand in expected.items():
        if operator == "$eq":
            passed = _value_matches(actual, operand)
        elif operator == "$ne":
            passed = not _value_matches(actual, operand)
        elif operator == "$in":
            passed = any(_value_matches(actual, item) for item in operand)
        elif operator == "$nin":
            passed = not any(_value_matches(actual, item) for item in operand)
        elif operator == "$exists":
            passed = (actual is not _MISSING) == bool(operand)
        elif operator == "$regex":
            flags = re.IGNORECASE if "i" in expected.get("$options", "") else 0
            passed = isinstance(actual, str) and re.search(operand, actual, flags) is not None
        elif operator == "$options":
            continue
        elif operator == "$not":
            passed = not _value_matches(actual, operand)
        else:
            passed = False
        if not passed:
            return False
    return True
