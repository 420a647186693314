"""Quota API: list, create, change, delete; allocate; roll-up; one user's attainment."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from quotas import selectors, services
from quotas.api.serializers import (
    AllocationRequestSerializer,
    AllocationSerializer,
    AttainmentSerializer,
    QuotaSerializer,
    QuotaUpdateSerializer,
    RollupSerializer,
)
from quotas.filtersets import QuotaFilter
from quotas.models import Quota
from salesapp.access import CHANGE, DELETE
from salesapp.api.errors import validation_error
from salesapp.api.params import id_parameter, query_id
from salesapp.api.permissions import role_permission
from salesapp.models import User
from territories.selectors import territory_list

_API_FIELDS = {"user": "user_id", "territory": "territory_id", "parent": "parent_id"}


def _renamed(exc: DjangoValidationError) -> DjangoValidationError:
    """Service errors name model fields; the API names them as it shows them (user -> user_id)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return DjangoValidationError({_API_FIELDS.get(k, k): v for k, v in exc.message_dict.items()})


def _call(fn, **kwargs):
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        raise _renamed(exc)


class QuotaViewSet(viewsets.ModelViewSet):
    """Quotas of users and territories; only admins and sales managers set them."""

    queryset = Quota.objects.none()  # per request: get_queryset
    serializer_class = QuotaSerializer
    filterset_class = QuotaFilter
    ordering_fields = ["id", "period", "start_date", "quota_amount", "attainment_percentage"]
    permission_classes = [role_permission(read="quota:read", write="quota:set")]

    def get_queryset(self):
        return selectors.quota_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return QuotaUpdateSerializer
        return QuotaSerializer

    def _holder(self, data):
        """The picked user, territory and parent; whether the user may pick them is the service's to judge."""
        user = territory = parent = None
        if data.get("user_id"):
            user = User.objects.filter(pk=data["user_id"]).first()
            if user is None:
                raise validation_error("user_id", "No such user.")
        if data.get("territory_id"):
            territory = territory_list(user=self.request.user).filter(pk=data["territory_id"]).first()
            if territory is None:
                raise validation_error("territory_id",
                                       f"No territory with id {data['territory_id']}, or you may not see it.")
        if data.get("parent_id"):
            parent = selectors.quota_list(user=self.request.user).filter(pk=data["parent_id"]).first()
            if parent is None:
                raise validation_error("parent_id", "No such quota.")
        return user, territory, parent

    def create(self, request, *args, **kwargs):
        serializer = QuotaSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user, territory, parent = self._holder(data)
        quota = _call(
            services.quota_create, actor=request.user, user=user, territory=territory, parent=parent,
            period=data["period"], quota_type=data.get("quota_type", Quota.Type.REVENUE),
            quota_amount=data["quota_amount"], status=data.get("status", Quota.Status.DRAFT),
        )
        return Response(QuotaSerializer(quota).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=QuotaUpdateSerializer, responses=QuotaSerializer)
    def update(self, request, *args, **kwargs):
        quota = selectors.quota_get(user=request.user, pk=kwargs["pk"], action=CHANGE)
        serializer = QuotaUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        extra = {}
        if "parent_id" in data:
            extra["parent"] = self._holder({"parent_id": data["parent_id"]})[2]
        quota = _call(services.quota_update, actor=request.user, quota=quota, quota_amount=data.get("quota_amount"),
                      status=data.get("status"), **extra)
        return Response(QuotaSerializer(quota).data)

    @extend_schema(request=QuotaUpdateSerializer, responses=QuotaSerializer)
    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        quota = selectors.quota_get(user=request.user, pk=kwargs["pk"], action=DELETE)
        _call(services.quota_delete, actor=request.user, quota=quota)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=AllocationRequestSerializer, responses=AllocationSerializer)
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        """Split this quota among direct reports or child territories (even, history or manual)."""
        quota = selectors.quota_get(user=request.user, pk=pk, action=CHANGE)
        serializer = AllocationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        fn = services.allocation_plan if data["dry_run"] else services.quota_allocate
        plan = _call(fn, actor=request.user, quota=quota, method=data["method"], amounts=data.get("amounts"))
        body = AllocationSerializer(plan).data
        if not data["dry_run"]:
            summary = services.allocation_summary(quota, actor=request.user)
            body.update({k: str(summary[k]) for k in ("allocated", "gap")}, state=summary["state"])
        return Response(body)

    @extend_schema(
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, required=True, description="Q1_2026, 2026-03 or FY2026"),
            id_parameter("user", "roll up this user's reports"),
            id_parameter("territory", "roll up this territory's children"),
            OpenApiParameter("quota_type", OpenApiTypes.STR, description="revenue (default), deals or activities"),
        ],
        responses=RollupSerializer,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def rollup(self, request):
        """For a user or territory and a period: its quota, each child's quota and attainment, and the totals."""
        params = request.query_params
        if not params.get("period"):
            raise validation_error("period", "This parameter is required.")
        user_id, territory_id = query_id(request, "user"), query_id(request, "territory")
        if user_id is None and territory_id is None:
            user_id = request.user.pk
        data = _call(selectors.quota_rollup, user=request.user, period=params["period"], user_id=user_id,
                     territory_id=territory_id, quota_type=params.get("quota_type", Quota.Type.REVENUE))
        return Response(RollupSerializer(data).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, required=True),
            id_parameter("user", "defaults to the signed-in user"),
        ],
        responses=AttainmentSerializer,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def attainment(self, request):
        """One user's quotas and attainment for a period (cached for 120 s, refreshed by events)."""
        params = request.query_params
        if not params.get("period"):
            raise validation_error("period", "This parameter is required.")
        user_id = query_id(request, "user") or request.user.pk
        return Response(_call(selectors.quota_attainment, user=request.user, user_id=user_id,
                              period=params["period"]))
