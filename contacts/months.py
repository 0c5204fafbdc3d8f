"""Calendar months in UTC, written `YYYY-MM`: the list's `created` filter and the report's months.

Stored times are UTC, so a month is the same range of rows for everyone and on every engine,
whatever the viewer's time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

# What the list (`?created=`) and the API accept. Published in the OpenAPI schema, so it must
# read the same as a JavaScript regular expression; `parse_month` is the check that counts.
_MONTH_TEXT = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])"
MONTH_PATTERN = f"^{_MONTH_TEXT}$"
_MONTH = re.compile(_MONTH_TEXT)


def parse_month(value: str) -> date | None:
    """The first day of the month `value` names (`"2025-03"`), or None when it names none."""
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        return None
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def month_key(moment: date) -> str:
    """`"2025-03"` for any date or datetime in March 2025 (a datetime is taken in UTC)."""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.year:04}-{moment.month:02}"


def add_months(first_day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `first_day`."""
    index = first_day.year * 12 + first_day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def month_bounds(value: str) -> tuple[datetime, datetime | None]:
    """[first instant, first instant of the next month) of a valid `YYYY-MM`, in UTC.

    December 9999 has no next month a datetime can hold: its range is open-ended (None).
    """
    first = parse_month(value)
    if first is None:
        raise ValueError(f"not a month: {value!r}")
    end = None if (first.year, first.month) == (9999, 12) else start_of(add_months(first, 1))
    return start_of(first), end


def last_months(count: int, today: date) -> list[date]:
    """First days of the `count` calendar months ending with the month of `today`, oldest first."""
    this_month = date(today.year, today.month, 1)
    return [add_months(this_month, offset) for offset in range(1 - count, 1)]
