"""API: accounts, contacts, opportunities, stages, pipeline summary and forecasts.

Thin: DRF validates and documents, selectors read through `restrict()`, services write.
"""

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from opportunities import selectors
from opportunities.api.serializers import (
    AccountSerializer,
    ArchivedOpportunitySerializer,
    ArchiveJobSerializer,
    BulkStageResultSerializer,
    BulkStageSerializer,
    CloseSerializer,
    ContactSerializer,
    ForecastAdjustmentSerializer,
    ForecastSerializer,
    ForecastSnapshotSerializer,
    ForecastSubmissionSerializer,
    LossReasonSerializer,
    OpportunityCreateSerializer,
    OpportunityRowSerializer,
    OpportunitySerializer,
    PipelineSummarySerializer,
    ReopenSerializer,
    StageHistorySerializer,
    StageSerializer,
    StageUpdateSerializer,
)
from opportunities.filtersets import AccountFilterSet, ContactFilterSet, OpportunityFilterSet
from opportunities.models import Account, ArchiveJob, Contact, LossReason, Opportunity, Stage
from opportunities.periods import quarter_of
from opportunities.services import accounts, archive, contacts, deals, forecasts
from salesapp import fields
from salesapp.access import CHANGE, VIEW
from salesapp.api.errors import validation_error
from salesapp.api.params import id_parameter, query_id
from salesapp.api.permissions import role_permission
from salesapp.api.privacy import ConsentSerializer
from salesapp.exports import csv_export
from salesapp.hierarchy import user_subtree_ids
from salesapp.selectors import user_get


def _action_for(request) -> str:
    return VIEW if request.method in SAFE_METHODS else CHANGE


def _visible_account(user, account, field="account_id", action=VIEW):
    """400 naming `field` unless the user may see (or, for `action=CHANGE`, change) the account."""
    if account is not None and not selectors.account_list(user=user, action=action).filter(pk=account.pk).exists():
        raise validation_error(field, f'Invalid pk "{account.pk}" - object does not exist.')


class AccountViewSet(viewsets.ModelViewSet):
    """Accounts the user may see. Creating a likely duplicate (same domain or normalised name)
    is refused naming `name` unless `allow_duplicate` is true.
    """

    queryset = Account.objects.none()
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    ordering = ["id"]
    permission_classes = [role_permission(read="opportunity:read", write="opportunity:write",
                                          destroy="opportunity:delete")]

    def get_queryset(self):
        return selectors.account_list(user=self.request.user, action=_action_for(self.request))

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        allow_duplicate = data.pop("allow_duplicate", False)
        _visible_account(self.request.user, data.get("parent"), "parent_id")
        if not allow_duplicate:
            match = accounts.account_find_match(website_domain=data.get("website_domain", ""),
                                                company_name=data.get("name", ""))
            if match is not None:
                raise validation_error(
                    "name", f"A likely duplicate exists: {match.name} (id {match.pk}). "
                            "Send allow_duplicate=true to create it anyway.")
        serializer.instance = accounts.account_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("allow_duplicate", None)
        _visible_account(self.request.user, data.get("parent"), "parent_id")
        serializer.instance = accounts.account_update(actor=self.request.user, account=serializer.instance, **data)

    def perform_destroy(self, instance):
        accounts.account_delete(actor=self.request.user, account=instance)


class ContactViewSet(viewsets.ModelViewSet):
    """Contacts at accounts the user may see; a likely duplicate (same email, or same phone at
    the account) is refused naming `email` unless `allow_duplicate` is true.
    """

    queryset = Contact.objects.none()
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    ordering = ["id"]
    permission_classes = [role_permission(read="opportunity:read", write="opportunity:write")]

    def get_queryset(self):
        return selectors.contact_list(user=self.request.user, action=_action_for(self.request))

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        allow_duplicate = data.pop("allow_duplicate", False)
        _visible_account(self.request.user, data["account"], action=CHANGE)
        if not allow_duplicate:
            match = contacts.contact_find_match(account=data["account"], email=data.get("email", ""),
                                                phone=data.get("phone", ""))
            if match is not None:
                raise validation_error(
                    "email", f"A likely duplicate exists: {match} (id {match.pk}). "
                             "Send allow_duplicate=true to create it anyway.")
        serializer.instance = contacts.contact_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("allow_duplicate", None)
        if "account" in data:
            _visible_account(self.request.user, data["account"], action=CHANGE)
        serializer.instance = contacts.contact_update(actor=self.request.user, contact=serializer.instance, **data)

    def perform_destroy(self, instance):
        contacts.contact_delete(actor=self.request.user, contact=instance)

    @extend_schema(request=ConsentSerializer, responses=ContactSerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request, pk=None):
        """Record the person's lawful basis, consent (source, time, withdrawal) or CCPA opt-out."""
        contact = self.get_object()
        data = ConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ContactSerializer(contacts.contact_privacy_update(actor=request.user, contact=contact,
                                                                          **data.validated_data)).data)


LIST_FIELDS = ["id", "name", "account_id", "lead_id", "stage_id", "probability", "probability_is_manual", "amount",
               "cost", "margin", "expected_close_date", "actual_close_date", "owner_id", "territory_id", "deal_score",
               "score_model", "loss_reason__name", "close_reason", "next_step", "forecast_category", "forecast_category_is_manual",
               "source", "stage_changed_at", "last_activity_at", "created_at", "updated_at"]


def _plain_row(row: dict) -> dict:
    row["stage"] = row.pop("stage_id")
    row["loss_reason"] = row.pop("loss_reason__name")
    for money in ("amount", "cost", "margin"):  # decimals as strings, like the detail serializer
        if row.get(money) is not None:
            row[money] = f"{row[money]:.2f}"
    return row


class OpportunityViewSet(viewsets.ModelViewSet):
    """Deals the user may see. The list serves plain rows (one query per page).

    PUT/PATCH may move the stage between open stages (history, probability and events follow);
    closing and reopening have their own actions.
    """

    queryset = Opportunity.objects.none()
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    ordering = ["id"]
    permission_classes = [role_permission(read="opportunity:read", write="opportunity:write",
                                          destroy="opportunity:delete", reopen="opportunity:delete")]

    def get_queryset(self):
        if self.action == "list":
            return selectors.opportunity_list(user=self.request.user).select_related(None)
        found = selectors.opportunity_list(user=self.request.user, action=_action_for(self.request))
        # A write answers with the row the service saved, whose contacts the serializer reads once.
        return found if self.request.method in ("PUT", "PATCH") else found.prefetch_related("contacts")

    def get_serializer_class(self):
        if self.action == "create":
            return OpportunityCreateSerializer
        return OpportunitySerializer

    @extend_schema(responses=OpportunityRowSerializer(many=True))
    def list(self, request, *args, **kwargs):
        """Plain rows of the listed columns (one query per page, no per-row serializer)."""
        qs = self.filter_queryset(self.get_queryset()).values(*fields.visible(request.user, Opportunity, LIST_FIELDS))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([_plain_row(r) for r in page])

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        user = self.request.user
        _visible_account(user, data["account"])
        owner = data.pop("owner", None) or user
        category = data.pop("forecast_category", "")
        serializer.instance = deals.opportunity_create(
            actor=user, owner=owner, forecast_category=category, contacts=data.pop("contacts", ()), **data,
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        user = self.request.user
        if "account" in data and getattr(data["account"], "pk", None) != serializer.instance.account_id:
            _visible_account(user, data["account"])
        serializer.instance = deals.opportunity_update(actor=user, opportunity=serializer.instance, **data)

    def perform_destroy(self, instance):
        deals.opportunity_delete(actor=self.request.user, opportunity=instance)

    @extend_schema(request=CloseSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close as won (needs an amount; sets actual_close_date) or lost (needs `reason`)."""
        opp = self.get_object()
        body = CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deals.opportunity_close(actor=request.user, opportunity=opp, outcome=body.validated_data["outcome"],
                                   reason=body.validated_data["reason"] or None, note=body.validated_data["note"],
                                   amount=body.validated_data.get("amount"))
        return Response(self.get_serializer(selectors.opportunity_get(user=request.user, pk=opp.pk)).data)

    @extend_schema(request=ReopenSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopen a closed deal (admins and sales managers), into the stage it closed from."""
        opp = self.get_object()
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deals.opportunity_reopen(actor=request.user, opportunity=opp, stage=body.validated_data.get("stage"))
        return Response(self.get_serializer(selectors.opportunity_get(user=request.user, pk=opp.pk)).data)

    @extend_schema(responses=StageHistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        """Every stage change of the deal, newest first, with days spent in the previous stage."""
        opp = self.get_object()
        return Response(StageHistorySerializer(opp.stage_history.order_by("-changed_at", "-id"), many=True).data)

    @extend_schema(responses={(200, "text/csv"): bytes})
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request):
        """The filtered list as CSV (deals the user may see; margin and cost only where the field policy allows)."""
        queryset = self.filter_queryset(self.get_queryset()).order_by("-id")
        return csv_export(request, queryset=queryset, columns=selectors.EXPORT_COLUMNS, filename="opportunities.csv")

    @extend_schema(request=BulkStageSerializer, responses=BulkStageResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-stage", pagination_class=None, filterset_class=None)
    def bulk_stage(self, request):
        """Move many open deals to one open stage in batches of 100; unknown, hidden or closed ids are reported."""
        body = BulkStageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = deals.opportunity_bulk_stage(
            actor=request.user, ids=body.validated_data["ids"], stage=body.validated_data["stage"],
            visible=selectors.opportunity_list(user=request.user, action=CHANGE).select_related(None),
        )
        result["errors"] = {str(k): v for k, v in result["errors"].items()}
        return Response(result)


class ArchivedOpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Archived deals the user may see: read-only, each with its stage history. Restoring one (admins and
    sales managers) brings it back into lists and search with its history, activities and audit."""

    queryset = Opportunity.objects.none()
    serializer_class = ArchivedOpportunitySerializer
    filterset_class = None
    ordering_fields = ["id", "actual_close_date"]
    ordering = ["id"]
    permission_classes = [role_permission(read="opportunity:read", restore="opportunity:delete")]

    def get_queryset(self):
        return selectors.opportunity_archived_list(user=self.request.user).prefetch_related("contacts", "stage_history")

    @extend_schema(request=None, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring the deal back out of the archive."""
        opp = self.get_object()
        archive.opportunity_restore(actor=request.user, opportunity=opp)
        return Response(OpportunitySerializer(selectors.opportunity_get(user=request.user, pk=opp.pk),
                                              context=self.get_serializer_context()).data)


class ArchiveJobViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Archival runs (admins and sales managers): start one, follow its progress."""

    queryset = ArchiveJob.objects.all()
    serializer_class = ArchiveJobSerializer
    pagination_class = None
    filterset_class = None
    permission_classes = [role_permission(read="opportunity:delete", write="opportunity:delete")]

    def perform_create(self, serializer):
        serializer.instance = archive.archive_job_start(
            actor=self.request.user, closed_before=serializer.validated_data.get("closed_before"))


class StageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The pipeline stages in order, each with its default probability (admins change it with PATCH)."""

    queryset = Stage.objects.order_by("order")
    lookup_value_converter = "slug"  # stages are keyed by name ("discovery")
    serializer_class = StageSerializer
    pagination_class = None
    filterset_class = None
    permission_classes = [role_permission(read="opportunity:read", write="user:manage")]

    @extend_schema(request=StageUpdateSerializer, responses=StageSerializer)
    def partial_update(self, request, pk=None):
        body = StageUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        stage = deals.stage_update(actor=request.user, stage=self.get_object(),
                                      default_probability=body.validated_data["default_probability"])
        return Response(StageSerializer(stage).data)


class LossReasonViewSet(viewsets.ModelViewSet):
    """The admin-managed list of reasons a deal was lost."""

    queryset = LossReason.objects.order_by("name")
    serializer_class = LossReasonSerializer
    pagination_class = None
    filterset_class = None
    permission_classes = [role_permission(read="opportunity:read", write="user:manage")]


class PipelineSummaryView(APIView):
    """Count, total amount and average probability per open stage, over the deals the user may see,
    for an owner, a manager's subtree (`team`) or a territory subtree. Cached per user for 60 s and
    refreshed by any opportunity event.
    """

    permission_classes = [role_permission(read="opportunity:read")]

    @extend_schema(
        parameters=[id_parameter("owner"), id_parameter("team", "a manager: their reporting subtree"),
                    id_parameter("territory", "a territory and those below it")],
        responses=PipelineSummarySerializer,
    )
    def get(self, request):
        params = {name: query_id(request, name) for name in ("owner", "team", "territory")}
        return Response(PipelineSummarySerializer(selectors.pipeline_summary(user=request.user, **params)).data)


def _period_param(request):
    return request.query_params.get("period") or quarter_of(date.today()).name


class ForecastView(APIView):
    """GET: the roll-up of a period for the user's team (or `user`'s, within their subtree), beside
    the submissions and, once the period has closed, forecast accuracy. POST: record the user's call.
    """

    permission_classes = [role_permission(read="opportunity:read", write="opportunity:write")]

    @extend_schema(
        parameters=[OpenApiParameter("period", OpenApiTypes.STR, description="Q1_2026 or 2026-01"),
                    id_parameter("user", "a person in your subtree (default: you)"),
                    id_parameter("territory", "Also roll up this territory's subtree (deals you may see)")],
        responses=ForecastSerializer,
    )
    def get(self, request):
        period = _period_param(request)
        territory = query_id(request, "territory")
        rollup = selectors.forecast_rollup(user=request.user, period=period, user_id=query_id(request, "user"))
        head = rollup["user_id"]
        ids = user_subtree_ids(head)
        submissions = selectors.forecast_submission_list(user=request.user, period=period).filter(user_id__in=ids)[:200]
        rollup["submissions"] = submissions
        rollup["accuracy"] = selectors.forecast_accuracy(user=request.user, period=period, user_id=head)
        rollup["territory"] = (selectors.forecast_territory_rollup(user=request.user, period=period,
                                                                 territory_id=territory)
                               if territory else None)
        return Response(ForecastSerializer(rollup).data)

    @extend_schema(request=ForecastSubmissionSerializer, responses={201: ForecastSubmissionSerializer})
    def post(self, request):
        body = ForecastSubmissionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sub = forecasts.forecast_submit(actor=request.user, **body.validated_data)
        return Response(ForecastSubmissionSerializer(sub).data, status=status.HTTP_201_CREATED)


class ForecastSnapshotView(APIView):
    """Weekly snapshots of a person's roll-up for a period (the trend chart's data), oldest first."""

    permission_classes = [role_permission(read="opportunity:read")]

    @extend_schema(
        parameters=[OpenApiParameter("period", OpenApiTypes.STR), id_parameter("user", "default: you"),
                    OpenApiParameter("scope", OpenApiTypes.STR, enum=["personal", "team"])],
        responses=ForecastSnapshotSerializer(many=True),
    )
    def get(self, request):
        qs = selectors.forecast_snapshot_list(user=request.user, period=_period_param(request),
                                              user_id=query_id(request, "user"),
                                              scope=request.query_params.get("scope"))
        return Response(ForecastSnapshotSerializer(qs[:200], many=True).data)


class ForecastAdjustmentView(APIView):
    """GET: the history of adjustments the user may see. POST: a manager overrides a report's
    commit or best case for a period, with a reason (forecast:adjust).
    """

    permission_classes = [role_permission(read="opportunity:read", write="forecast:adjust")]

    @extend_schema(
        parameters=[OpenApiParameter("period", OpenApiTypes.STR), id_parameter("user")],
        responses=ForecastAdjustmentSerializer(many=True),
    )
    def get(self, request):
        qs = selectors.forecast_adjustment_list(user=request.user, period=request.query_params.get("period"),
                                                user_id=query_id(request, "user"))
        return Response(ForecastAdjustmentSerializer(qs[:500], many=True).data)

    @extend_schema(request=ForecastAdjustmentSerializer, responses={201: ForecastAdjustmentSerializer})
    def post(self, request):
        body = ForecastAdjustmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user_get(user=request.user, pk=data["user"].pk)
        adj = forecasts.forecast_adjust(actor=request.user, user=data["user"], period=data["period"],
                                       category=data["category"], amount=data["amount"], reason=data["reason"])
        return Response(ForecastAdjustmentSerializer(adj).data, status=status.HTTP_201_CREATED)
