"""Links of the contact list (sort headers, page numbers, "clear filters") built from the validated query.

Links are built from the normalised `ContactQuery`, not from the raw query string, so a bad
parameter that was ignored never reappears in the next link.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from contacts.selectors import PAGE_SIZES, ContactQuery

# Column → the direction a first click sorts in (newest first is what people expect of dates).
SORTABLE_COLUMNS = {"name": "name", "company": "company", "created": "-created"}
# Page numbers linked either side of the current one (the first and the last are always linked).
PAGES_AROUND = 2


def query_params(query: ContactQuery, **changes: Any) -> dict[str, Any]:
    """The query string parameters for `query` with `changes`, leaving out defaults."""
    values = asdict(query)
    values["sort"] = values.pop("ordering")
    values.update(changes)
    defaults = {"page": 1}
    names = ("search", "status", "tag", "company", "created", "sort", "page", "size")
    return {name: values[name] for name in names if values[name] and values[name] != defaults.get(name)}


def list_url(path: str, query: ContactQuery, **changes: Any) -> str:
    params = query_params(query, **changes)
    return f"{path}?{urlencode(params)}" if params else path


@dataclass(frozen=True)
class SortLink:
    url: str
    aria_sort: str  # "ascending" / "descending" / "none", for the column header
    arrow: str


def sort_links(path: str, query: ContactQuery) -> dict[str, SortLink]:
    """One link per sortable column: a click on the sorted column flips its direction."""
    links = {}
    for column, first_click in SORTABLE_COLUMNS.items():
        if query.sorted_by == column:
            links[column] = SortLink(list_url(path, query, sort=f"-{column}", page=1), "ascending", "↑")
        elif query.sorted_by == f"-{column}":
            links[column] = SortLink(list_url(path, query, sort=column, page=1), "descending", "↓")
        else:
            links[column] = SortLink(list_url(path, query, sort=first_click, page=1), "none", "")
    return links


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap ("…") between the numbers shown
    url: str = ""
    current: bool = False


def page_numbers(current: int, last: int, around: int = PAGES_AROUND) -> list[int | None]:
    """The page numbers to link: the first, the last and `around` either side of `current`, in
    order, with None where numbers are left out. A gap of one page shows that page instead: "…"
    must save room, not stand for a single number."""
    wanted = {1, last, *range(current - around, current + around + 1)}
    shown = sorted(number for number in wanted if 1 <= number <= last)
    numbers: list[int | None] = []
    previous = 0
    for number in shown:
        if number - previous == 2:
            numbers.append(number - 1)
        elif number - previous > 2:
            numbers.append(None)
        numbers.append(number)
        previous = number
    return numbers


def page_links(path: str, query: ContactQuery, page: Any) -> list[PageLink]:
    return [
        PageLink(number, list_url(path, query, page=number), number == page.number)
        if number
        else PageLink(None)
        for number in page_numbers(page.number, page.paginator.num_pages)
    ]


def list_links(request: HttpRequest, query: ContactQuery, page: Any) -> dict[str, Any]:
    """Everything the results partial links to."""
    path = request.path
    return {
        "sort_links": sort_links(path, query),
        "previous_url": list_url(path, query, page=page.previous_page_number())
        if page.has_previous()
        else "",
        "next_url": list_url(path, query, page=page.next_page_number()) if page.has_next() else "",
        "page_links": page_links(path, query, page),
        "size_links": [
            (size, list_url(path, query, size=size, page=1), size == page.paginator.per_page)
            for size in PAGE_SIZES
        ],
        "clear_url": list_url(path, query, search="", status="", tag="", company="", created="", page=1),
        "current_url": list_url(path, query, page=page.number),
    }
