"""Activation runs over the API: start one (chosen ids, or every lead matching a filter), follow
its progress, cancel it. The work itself is done by a worker (contacts/jobs/activation.py)."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from contacts import selectors, services
from contacts.api.pagination import ContactsPagination
from contacts.api.serializers import ContactQuerySerializer, PageQuerySerializer, StrictStringMixin
from contacts.api.views import WORKSPACE_ID, WorkspaceAPIView, _simple_list, _uuid_or_404
from contacts.jobs.models import ActivationRun
from contacts.selectors import ContactQuery
from contacts.services.activations import MAX_LEADS_PER_RUN

RUN_ID = OpenApiParameter("run_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
# What JSON Schema's `"format": "uuid"` accepts: the hyphenated form, any case.
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
GIVE_ONE = "Give `contact_ids` (the contacts to activate) or `filter` (activate every lead matching it)."
NOT_BOTH = "Give either `contact_ids` or `filter`, not both."


class StrictUUIDField(StrictStringMixin, serializers.UUIDField):
    """A UUID as the schema publishes it: a hyphenated string (DRF alone also takes integers)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not UUID_TEXT.fullmatch(data):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class ActivationRunSerializer(serializers.ModelSerializer):
    """A run and how far it got; `sent` and `failed` grow while a worker works through it."""

    class Meta:
        model = ActivationRun
        fields = [
            "id",
            "status",
            "total",
            "sent",
            "failed",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "total": {"help_text": "How many leads the run e-mails."},
            "sent": {"help_text": "Leads e-mailed (and now active) so far."},
            "failed": {"help_text": "Leads that could not be e-mailed; they stay leads."},
            "error": {"help_text": "Why the run failed as a whole (empty otherwise)."},
        }


class ActivationFilterSerializer(ContactQuerySerializer):
    """The contact list's filters; every lead matching them is activated."""

    ordering = None
    page = None
    page_size = None

    def to_query(self) -> ContactQuery:
        return self.query_of(self.validated_data)

    @staticmethod
    def query_of(data: dict[str, Any]) -> ContactQuery:
        """The list query the validated filters stand for (as the contact list builds it)."""
        return ContactQuery(
            search=data.get("search", ""),
            tag=" ".join(data.get("tag", "").split()).lower(),
            company=data.get("company", ""),
            status=data.get("status", ""),
        )


def _contact_ids(*, required: bool) -> serializers.ListField:
    return serializers.ListField(
        child=StrictUUIDField(),
        min_length=1,
        max_length=MAX_LEADS_PER_RUN,
        required=required,
        help_text=f"Contacts to activate (1 to {MAX_LEADS_PER_RUN:,}), in this order; those that are "
        "not leads are left out.",
    )


def _activation_filter(*, required: bool) -> ActivationFilterSerializer:
    return ActivationFilterSerializer(
        required=required,
        help_text="Activate every lead of the workspace matching these filters (`{}`: every lead).",
    )


class ActivationStartSerializer(serializers.Serializer):
    """Exactly one of `contact_ids` and `filter` (the schema publishes the two shapes as `oneOf`)."""

    contact_ids = _contact_ids(required=False)
    filter = _activation_filter(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "contact_ids" in attrs and "filter" in attrs:
            raise serializers.ValidationError(NOT_BOTH)
        if "contact_ids" not in attrs and "filter" not in attrs:
            raise serializers.ValidationError(GIVE_ONE)
        return attrs

    def start_arguments(self) -> dict[str, Any]:
        """Keyword arguments for `services.activation_start` beyond the workspace and membership."""
        if "contact_ids" in self.validated_data:
            return {"contact_ids": self.validated_data["contact_ids"]}
        return {"query": ActivationFilterSerializer.query_of(self.validated_data["filter"])}


# The two shapes of the body, for the schema only (ActivationStartSerializer validates).
class ActivationByIdsSerializer(serializers.Serializer):
    contact_ids = _contact_ids(required=True)


class ActivationByFilterSerializer(serializers.Serializer):
    filter = _activation_filter(required=True)


START_REQUEST = PolymorphicProxySerializer(
    component_name="ActivationStart",
    serializers=[ActivationByIdsSerializer, ActivationByFilterSerializer],
    resource_type_field_name=None,
)


@extend_schema(tags=["activations"], parameters=[WORKSPACE_ID])
class ActivationList(WorkspaceAPIView):
    pagination_class = ContactsPagination

    @extend_schema(parameters=[PageQuerySerializer], responses=ActivationRunSerializer(many=True))
    def get(self, request: Request, workspace_id: str) -> Response:
        """The workspace's activation runs, newest first."""
        return _simple_list(
            request, self, selectors.activation_runs_of(self.workspace), ActivationRunSerializer
        )

    @extend_schema(
        request=START_REQUEST,
        responses={202: ActivationRunSerializer},
        examples=[
            OpenApiExample(
                "By ids", {"contact_ids": ["6f1c1f1e-1d1a-4c4e-9a51-3a1f0e2b7c10"]}, request_only=True
            ),
            OpenApiExample(
                "By filter", {"filter": {"tag": "trade fair", "company": "Initech"}}, request_only=True
            ),
        ],
    )
    def post(self, request: Request, workspace_id: str) -> Response:
        """Activate leads: each gets the activation e-mail and becomes active, worked through in the
        background. Contacts that are not leads, or already wait in an unfinished run, are left out;
        none left (or more leads than one run takes) answers 400 saying so."""
        serializer = ActivationStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.activation_start(
            workspace=self.workspace, by=self.membership, **serializer.start_arguments()
        )
        return Response(ActivationRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class _RunView(WorkspaceAPIView):
    def _run(self, run_id: str) -> ActivationRun:
        run = selectors.activation_run_in(self.workspace, _uuid_or_404(run_id))
        if run is None:
            raise exceptions.NotFound("No such activation in this workspace.")
        return run


@extend_schema(tags=["activations"], parameters=[WORKSPACE_ID, RUN_ID])
class ActivationDetail(_RunView):
    @extend_schema(responses=ActivationRunSerializer)
    def get(self, request: Request, workspace_id: str, run_id: str) -> Response:
        """One run's progress."""
        return Response(ActivationRunSerializer(self._run(run_id)).data)


@extend_schema(tags=["activations"], parameters=[WORKSPACE_ID, RUN_ID])
class ActivationCancel(_RunView):
    @extend_schema(request=None, responses=ActivationRunSerializer)
    def post(self, request: Request, workspace_id: str, run_id: str) -> Response:
        """Stop the run within a second; leads not yet e-mailed stay leads. A finished run is
        answered as it is."""
        run = services.activation_cancel(run=self._run(run_id), by=self.membership)
        return Response(ActivationRunSerializer(run).data)
