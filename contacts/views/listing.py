"""Links of the contact list (sort headers, pages, "clear filters") built from the validated query.

Links are built from the normalised `ContactQuery`, not from the raw query string, so a bad
parameter that was ignored never reappears in the next link.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from contacts.selectors import ContactQuery

# Column → the direction a first click sorts in (newest first is what people expect of dates).
SORTABLE_COLUMNS = {"name": "name", "company": "company", "created": "-created"}


def query_params(query: ContactQuery, **changes: Any) -> dict[str, Any]:
    """The query string parameters for `query` with `changes`, leaving out defaults."""
    values = asdict(query)
    values["sort"] = values.pop("ordering")
    values.update(changes)
    defaults = {"page": 1}
    names = ("search", "status", "tag", "company", "created", "sort", "page")
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


def list_links(request: HttpRequest, query: ContactQuery, page: Any) -> dict[str, Any]:
    """Everything the results partial links to."""
    path = request.path
    return {
        "sort_links": sort_links(path, query),
        "previous_url": list_url(path, query, page=page.previous_page_number())
        if page.has_previous()
        else "",
        "next_url": list_url(path, query, page=page.next_page_number()) if page.has_next() else "",
        "clear_url": list_url(path, query, search="", status="", tag="", company="", created="", page=1),
        "current_url": list_url(path, query, page=page.number),
    }
