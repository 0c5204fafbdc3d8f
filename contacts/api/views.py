"""API views: HTTP ↔ services/selectors, nothing more. Every URL is scoped to a workspace the caller belongs to."""

from __future__ import annotations

import re
from dataclasses import replace
from uuid import UUID

from django.core.paginator import Page, Paginator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import selectors, services
from contacts.api.errors import Conflict
from contacts.api.pagination import ContactsPagination
from contacts.api.serializers import (
    ContactQuerySerializer,
    ContactSerializer,
    ContactWriteSerializer,
    PageQuerySerializer,
    StrictRegexField,
    TagSerializer,
    WorkspaceSerializer,
)
from contacts.cache import cached, workspace_key
from contacts.models import Contact, Membership
from contacts.months import MONTH_PATTERN, parse_month

WORKSPACE_ID = OpenApiParameter("workspace_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
CONTACT_ID = OpenApiParameter("contact_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Change the contact only if it is still at this version: the `ETag` of your last read, "
    'e.g. `"3"`. Otherwise nothing is changed and the answer is 412 with the current contact. '
    "Without it, PATCH changes only the fields given (a colleague's other changes are kept).",
)
STALE = OpenApiResponse(
    ContactSerializer,
    description="`If-Match` names a version that is no longer current: nothing was changed; "
    "the body and `ETag` are the contact as it is now.",
)
ETAG_VERSION = re.compile(r'(?:W/)?"(\d{1,18})"')


class ContactListQuerySerializer(ContactQuerySerializer):
    """The list's query string, with the month filter of the reports page's links.

    Only the list takes `created`: the activation filter shares the other parameters, and one it
    does not apply must not be accepted there (it would quietly widen the run).
    """

    created = StrictRegexField(
        MONTH_PATTERN,
        required=False,
        trim_whitespace=False,  # " 2025-03" does not match the published pattern: refused, not trimmed
        help_text="Only contacts added in this calendar month (UTC), `YYYY-MM`: e.g. `2025-03`.",
    )

    def validate_created(self, value: str) -> str:
        # The pattern alone would let "2025-03\n" through (`$` matches before a final newline).
        if parse_month(value) is None:
            raise serializers.ValidationError("Give a month as YYYY-MM, e.g. 2025-03.")
        return value

    def to_query(self):
        return replace(super().to_query(), created=self.validated_data.get("created", ""))


def _uuid_or_404(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise exceptions.NotFound("Not found.") from None


def _validated_query(serializer_class, request: Request):
    """Validate the query string strictly: a parameter given twice, or given empty, is an error."""
    repeated = {
        name: ["Give this parameter once."]
        for name, values in request.query_params.lists()
        if len(values) > 1
    }
    if repeated:
        raise exceptions.ValidationError(repeated)
    # A plain dict (not the QueryDict) so DRF does not treat `?page=` as "absent".
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer


def _page_response(request: Request, view: APIView, items, *, page_size: int, represent) -> Response:
    """`{"count", "next", "previous", "results"}` for one page of `items`; `represent(page)` gives the results."""
    paginator = ContactsPagination()
    paginator.page_size = page_size
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(represent(page))


def _simple_list(request: Request, view: APIView, items, serializer_class) -> Response:
    query = _validated_query(PageQuerySerializer, request).validated_data
    return _page_response(
        request,
        view,
        items,
        page_size=query["page_size"],
        represent=lambda page: serializer_class(page, many=True).data,
    )


class WorkspaceAPIView(APIView):
    """Resolves `workspace_id` to the caller's membership (404 for non-members); viewers may only read."""

    membership: Membership

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        membership = selectors.membership_in(request.user, workspace_id=_uuid_or_404(kwargs["workspace_id"]))
        if membership is None:
            raise exceptions.NotFound("No such workspace.")
        if request.method not in SAFE_METHODS and not membership.can_edit:
            raise exceptions.PermissionDenied("Viewers can read this workspace but not change it.")
        self.membership = membership

    @property
    def workspace(self):
        return self.membership.workspace


@extend_schema(tags=["workspaces"])
class WorkspaceList(APIView):
    pagination_class = ContactsPagination  # read by the schema generator

    @extend_schema(parameters=[PageQuerySerializer], responses=WorkspaceSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The workspaces you are a member of, with your role in each."""
        return _simple_list(request, self, selectors.memberships_of(request.user), WorkspaceSerializer)


@extend_schema(tags=["workspaces"], parameters=[WORKSPACE_ID])
class WorkspaceDetail(WorkspaceAPIView):
    @extend_schema(responses=WorkspaceSerializer)
    def get(self, request: Request, workspace_id: str) -> Response:
        """One workspace you are a member of."""
        return Response(WorkspaceSerializer(self.membership).data)


@extend_schema(tags=["contacts"], parameters=[WORKSPACE_ID])
class ContactList(WorkspaceAPIView):
    pagination_class = ContactsPagination

    @extend_schema(parameters=[ContactListQuerySerializer], responses=ContactSerializer(many=True))
    def get(self, request: Request, workspace_id: str) -> Response:
        """Contacts of the workspace: search, filter by tag / company / status / month added, order, page."""
        query_serializer = _validated_query(ContactListQuerySerializer, request)
        query = query_serializer.to_query()
        # Built on the same cached page data the HTML list shows, and cached as represented.
        page_size = query_serializer.validated_data["page_size"]
        data = cached(
            workspace_key(self.workspace, "api-page", query, page_size),
            lambda: _represented_page(self.workspace, query, page_size),
        )
        if data["number"] != query.page:
            raise exceptions.NotFound("Invalid page.")
        paginator = ContactsPagination()
        paginator.request = request
        paginator.page = Page([], data["number"], Paginator(range(data["count"]), page_size))
        return paginator.get_paginated_response(data["results"])

    @extend_schema(request=ContactWriteSerializer, responses={201: ContactSerializer})
    def post(self, request: Request, workspace_id: str) -> Response:
        """Add a contact; tags are names, created in the workspace when new."""
        serializer = ContactWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(
            workspace=self.workspace, by=self.membership, data=serializer.to_contact_data(replace=True)
        )
        return _contact_response(contact, status=status.HTTP_201_CREATED)


@extend_schema(tags=["contacts"], parameters=[WORKSPACE_ID, CONTACT_ID])
class ContactDetail(WorkspaceAPIView):
    def _contact(self, contact_id: str) -> Contact:
        contact = selectors.contact_in(self.workspace, _uuid_or_404(contact_id))
        if contact is None:
            raise exceptions.NotFound("No such contact in this workspace.")
        return contact

    @extend_schema(responses=ContactSerializer)
    def get(self, request: Request, workspace_id: str, contact_id: str) -> Response:
        """One contact; its `ETag` is its version."""
        found = selectors.contact_detail(self.workspace, _uuid_or_404(contact_id))
        if found is None:
            raise exceptions.NotFound("No such contact in this workspace.")
        contact, tags = found
        return _contact_response(contact, tags=tags)

    @extend_schema(
        request=ContactWriteSerializer, responses={200: ContactSerializer, 412: STALE}, parameters=[IF_MATCH]
    )
    def put(self, request: Request, workspace_id: str, contact_id: str) -> Response:
        """Replace the contact; omitted optional fields are cleared."""
        return self._update(request, contact_id, partial=False)

    @extend_schema(
        request=ContactWriteSerializer(partial=True),
        responses={200: ContactSerializer, 412: STALE},
        parameters=[IF_MATCH],
    )
    def patch(self, request: Request, workspace_id: str, contact_id: str) -> Response:
        """Change only the fields given."""
        return self._update(request, contact_id, partial=True)

    @extend_schema(responses={204: None, 412: STALE}, parameters=[IF_MATCH])
    def delete(self, request: Request, workspace_id: str, contact_id: str) -> Response:
        """Delete the contact (final: a write racing it answers 404)."""
        contact = self._contact(contact_id)
        try:
            services.contact_delete(
                contact=contact, by=self.membership, if_version=_required_version(request, contact)
            )
        except services.StaleVersionError as stale:
            return _contact_response(stale.current, status=status.HTTP_412_PRECONDITION_FAILED)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request: Request, contact_id: str, *, partial: bool) -> Response:
        contact = self._contact(contact_id)
        serializer = ContactWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            contact = services.contact_update(
                contact=contact,
                by=self.membership,
                data=serializer.to_contact_data(replace=not partial),
                if_version=_required_version(request, contact),
            )
        except services.StaleVersionError as stale:
            return _contact_response(stale.current, status=status.HTTP_412_PRECONDITION_FAILED)
        except services.EditConflictError as busy:
            # Only when colleagues kept winning the race for this contact several times over.
            raise Conflict({"detail": str(busy)}) from None
        return _contact_response(contact)


def _represented_page(workspace, query, page_size: int) -> dict:
    """One page of contacts as the API shows them, as plain data (built on the page's cached data)."""
    result = selectors.contact_page(workspace, query, per_page=page_size, every_match=True)
    context = {"tags_by_contact": result.tags_by_contact}
    results = [dict(item) for item in ContactSerializer(result.contacts, many=True, context=context).data]
    return {"count": result.total, "number": result.page.number, "results": results}


def _required_version(request: Request, contact: Contact) -> int | None:
    """The version `If-Match` requires: None without one (or `*`); -1 (matches nothing) if stale."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = {int(version) for version in ETAG_VERSION.findall(header)}
    # The service compares again against a fresh read, so a write racing this one still loses.
    return contact.version if contact.version in versions else -1


@extend_schema(tags=["tags"], parameters=[WORKSPACE_ID])
class TagList(WorkspaceAPIView):
    pagination_class = ContactsPagination

    @extend_schema(parameters=[PageQuerySerializer], responses=TagSerializer(many=True))
    def get(self, request: Request, workspace_id: str) -> Response:
        """The workspace's tags with how many contacts carry each."""
        return _simple_list(request, self, selectors.tag_list(self.workspace), TagSerializer)


def _contact_response(
    contact: Contact, *, status: int = status.HTTP_200_OK, tags: list[str] | None = None
) -> Response:
    """A contact with its version as `ETag`, the token `If-Match` gives back."""
    names = selectors.contact_tag_names(contact) if tags is None else tags
    code = status
    response = Response(
        ContactSerializer(contact, context={"tags_by_contact": {contact.id: names}}).data, status=code
    )
    response["ETag"] = f'"{contact.version}"'
    return response
