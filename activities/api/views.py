"""Activities API: list/create/retrieve/update/delete, complete, and timelines.

Activities may live in MongoDB, so these are plain ViewSets over the store
(through services and selectors), not model viewsets. Pages use the same
`?cursor=` convention as every list.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from activities import selectors, services, timeline
from activities.api.serializers import (
    ActivityCompleteSerializer,
    ActivityPageSerializer,
    ActivitySerializer,
    ActivityUpdateSerializer,
    TimelinePageSerializer,
)
from activities.filtersets import ActivityFilter, TimelineFilter, parse
from salesapp.api.errors import validation_error
from salesapp.api.params import id_parameter, page_size_parameter
from salesapp.api.permissions import role_permission

PAGE_SIZE = 50


def _page_size(request) -> int:
    try:
        return max(1, min(int(request.query_params.get("page_size", PAGE_SIZE)), selectors.MAX_PAGE))
    except ValueError:
        raise validation_error("page_size", "Enter a whole number.")


def _next_url(request, cursor):
    return replace_query_param(request.build_absolute_uri(), "cursor", cursor) if cursor else None


_LIST_PARAMS = [
    OpenApiParameter("type", OpenApiTypes.STR, description="email, call, meeting, demo, task (comma-separated)"),
    *[id_parameter(n) for n in ("lead", "opportunity", "account", "contact", "user")],
    OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "done"]),
    OpenApiParameter("since", OpenApiTypes.DATETIME),
    OpenApiParameter("until", OpenApiTypes.DATETIME),
    OpenApiParameter("due_before", OpenApiTypes.DATETIME),
    OpenApiParameter("cursor", OpenApiTypes.STR),
    page_size_parameter(selectors.MAX_PAGE),
]


class ActivityViewSet(viewsets.ViewSet):
    """Activities the user may see: those linked to records they may see, or their own and their reports'."""

    permission_classes = [role_permission(read="activity:read", write="activity:write")]

    @extend_schema(parameters=_LIST_PARAMS, responses=ActivityPageSerializer)
    def list(self, request):
        fs = parse(ActivityFilter, request.query_params)
        docs, cursor = selectors.activity_list(
            user=request.user, filters=fs.form.cleaned_data, cursor=request.query_params.get("cursor"),
            limit=_page_size(request),
        )
        return Response({"next": _next_url(request, cursor), "previous": None,
                         "results": ActivitySerializer(docs, many=True).data})

    @extend_schema(request=ActivitySerializer, responses={201: ActivitySerializer})
    def create(self, request):
        serializer = ActivitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        doc = services.activity_log(actor=request.user, **serializer.validated_data)
        return Response(ActivitySerializer(doc).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ActivitySerializer)
    def retrieve(self, request, pk=None):
        return Response(ActivitySerializer(selectors.activity_get(user=request.user, activity_id=pk)).data)

    def _update(self, request, pk):
        serializer = ActivityUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        doc = services.activity_update(actor=request.user, activity_id=pk, **serializer.validated_data)
        return Response(ActivitySerializer(doc).data)

    @extend_schema(request=ActivityUpdateSerializer, responses=ActivitySerializer)
    def update(self, request, pk=None):
        return self._update(request, pk)

    @extend_schema(request=ActivityUpdateSerializer, responses=ActivitySerializer)
    def partial_update(self, request, pk=None):
        return self._update(request, pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.activity_delete(actor=request.user, activity_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ActivityCompleteSerializer, responses=ActivitySerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Mark a task, meeting or demo done (publishes activity.completed)."""
        serializer = ActivityCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        doc = services.activity_complete(actor=request.user, activity_id=pk, **serializer.validated_data)
        return Response(ActivitySerializer(doc).data)


class TimelineView(APIView):
    """A lead's, opportunity's, account's or user's activities merged with system history, newest first."""

    permission_classes = [role_permission(read="activity:read")]

    @extend_schema(
        parameters=[
            *[id_parameter(n, "Exactly one of lead, opportunity, account, user")
              for n in ("lead", "opportunity", "account", "user")],
            OpenApiParameter("type", OpenApiTypes.STR, description="Activity types and/or history, comma-separated"),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            page_size_parameter(selectors.MAX_PAGE),
        ],
        responses=TimelinePageSerializer,
    )
    def get(self, request):
        fs = parse(TimelineFilter, request.query_params)
        subject = fs.subject()
        if subject is None:
            raise validation_error("non_field_errors", "Give exactly one of lead, opportunity, account or user.")
        page = timeline.timeline(
            user=request.user, kind=subject[0], record_id=subject[1], types=fs.form.cleaned_data.get("type"),
            cursor=request.query_params.get("cursor"), limit=_page_size(request),
        )
        return Response({"next": _next_url(request, page.next_cursor), "previous": None,
                         "results": [e.as_dict() for e in page.entries]})
