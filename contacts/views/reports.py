"""The reports page: the workspace's contacts by company, tag, month added and status, as charts.

The figures come from `selectors.workspace_report` (cached per workspace version); this module
only turns them into chart items, each bar leading to the contact list filtered by it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format

from contacts import selectors
from contacts.charts import ChartItem, bar_chart, column_chart
from contacts.decorators import member_required
from contacts.months import parse_month
from contacts.selectors import ContactQuery
from contacts.views.listing import list_url


@member_required
def reports(request: HttpRequest, slug: str) -> HttpResponse:
    report = selectors.workspace_report(request.workspace)
    context: dict[str, Any] = {"report": report, "can_edit": request.membership.can_edit}
    if report["total"]:
        context["charts"] = report_charts(report, reverse("contact_list", kwargs={"slug": slug}))
    return render(request, "contacts/reports.html", context)


def report_charts(report: dict[str, Any], list_path: str) -> dict[str, Any]:
    """The four charts of a report, each bar linked to the list filtered the same way."""

    def link(**filters: str) -> str:
        return list_url(list_path, ContactQuery(**filters))

    companies = [
        ChartItem(entry["company"], entry["count"], link(company=entry["company"]))
        if entry["company"] is not None
        # "Others" is many companies (and none): there is no one list to open.
        else ChartItem(entry["label"], entry["count"], variant="others")
        for entry in report["by_company"]
    ]
    tags = [ChartItem(entry["tag"], entry["count"], link(tag=entry["tag"])) for entry in report["top_tags"]]
    status_names = dict(selectors.status_choices())
    statuses = [
        ChartItem(
            status_names[entry["status"]], entry["count"], link(status=entry["status"]), entry["status"]
        )
        for entry in report["by_status"]
    ]
    months = []
    for index, entry in enumerate(report["by_month"]):
        first = parse_month(entry["month"])
        months.append(
            ChartItem(
                date_format(first, "F Y"),
                entry["count"],
                link(created=entry["month"]),
                short_label=date_format(first, "M"),
                # The year under each January, and under the first month shown.
                year=str(first.year) if index == 0 or first.month == 1 else "",
            )
        )
    busiest = max(report["by_month"], key=lambda entry: entry["count"])
    named = [entry for entry in report["by_company"] if entry["company"] is not None]
    return {
        "companies": bar_chart(companies),
        "company_count": len(named),
        "has_others": len(named) < len(report["by_company"]),
        "tags": bar_chart(tags),
        "statuses": bar_chart(statuses),
        "months": column_chart(months),
        "month_rows": bar_chart(months),  # the same months as rows, for narrow screens
        "month_total": sum(entry["count"] for entry in report["by_month"]),
        "busiest_month": date_format(parse_month(busiest["month"]), "F Y") if busiest["count"] else "",
        "busiest_count": busiest["count"],
        "first_month": months[0].label,
        "last_month": months[-1].label,
    }
