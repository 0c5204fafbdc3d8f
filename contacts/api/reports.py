"""The workspace report over the API: the figures of the reports page, as `selectors.workspace_report`
returns them (cached per workspace version)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from contacts import selectors
from contacts.api.views import WORKSPACE_ID, WorkspaceAPIView
from contacts.models import ContactStatus
from contacts.months import MONTH_PATTERN
from contacts.selectors.reports import MONTHS, OTHERS_LABEL, TOP_COMPANIES, TOP_TAGS


# The serializers below describe the answer in the schema; the selector's dict is the answer.
class StatusCountSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ContactStatus.choices)
    count = serializers.IntegerField(min_value=0)


class CompanyCountSerializer(serializers.Serializer):
    company = serializers.CharField(
        allow_null=True, help_text="The company's name; null for the closing “Others” entry."
    )
    label = serializers.CharField(required=False, help_text=f"Only on the “Others” entry: `{OTHERS_LABEL}`.")
    count = serializers.IntegerField(min_value=1)


class TagCountSerializer(serializers.Serializer):
    tag = serializers.CharField()
    count = serializers.IntegerField(min_value=1)


class MonthCountSerializer(serializers.Serializer):
    month = serializers.RegexField(MONTH_PATTERN, help_text="A calendar month in UTC, `YYYY-MM`.")
    count = serializers.IntegerField(min_value=0)


class WorkspaceReportSerializer(serializers.Serializer):
    total = serializers.IntegerField(min_value=0, help_text="Contacts in the workspace.")
    by_status = StatusCountSerializer(many=True, help_text="Every status, in this order, zeros included.")
    by_company = CompanyCountSerializer(
        many=True,
        help_text=f"The {TOP_COMPANIES} companies with the most contacts (then by name; names compared "
        "ignoring case), then one “Others” entry for every other contact (without a company, or of a "
        "smaller company), left out when there are none.",
    )
    top_tags = TagCountSerializer(
        many=True, help_text=f"The {TOP_TAGS} tags on the most contacts (then by name)."
    )
    by_month = MonthCountSerializer(
        many=True,
        help_text=f"Contacts added per calendar month (UTC): the last {MONTHS} months, ending with the "
        "current one, oldest first, zeros included.",
    )


EXAMPLE = {
    "total": 42,
    "by_status": [
        {"status": "lead", "count": 20},
        {"status": "active", "count": 18},
        {"status": "archived", "count": 4},
    ],
    "by_company": [
        {"company": "Initech", "count": 12},
        {"company": "Globex", "count": 9},
        {"company": None, "label": OTHERS_LABEL, "count": 21},
    ],
    "top_tags": [{"tag": "vip", "count": 7}, {"tag": "newsletter", "count": 5}],
    # 24 months in a real answer; the last two here.
    "by_month": [{"month": "2026-11", "count": 0}, {"month": "2026-12", "count": 3}],
}


@extend_schema(tags=["reports"], parameters=[WORKSPACE_ID])
class WorkspaceReport(WorkspaceAPIView):
    @extend_schema(
        responses=WorkspaceReportSerializer,
        examples=[OpenApiExample("A report", EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, workspace_id: str) -> Response:
        """The workspace's contacts counted by status, company, tag and month added (the reports page's
        figures). Each count equals the contact list's `count` filtered the same way: `status`,
        `company`, `tag` or `created` (the month)."""
        return Response(selectors.workspace_report(self.workspace))
