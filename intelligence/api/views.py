"""Intelligence API: scores with reasons, recommendations, analytics, scoring models and training."""

from datetime import UTC

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from intelligence import selectors, services
from intelligence.analytics import GROUPS, REPORTS
from intelligence.api.serializers import (
    AnalyticsSerializer,
    RecommendationSerializer,
    ScoreSerializer,
    ScoringModelSerializer,
    TrainResultSerializer,
    TrainSerializer,
)
from intelligence.models import Kind, Recommendation, ScoringModel
from intelligence.tasks import model_train_task
from salesapp.api.errors import validation_error
from salesapp.api.params import id_parameter, query_id
from salesapp.api.permissions import role_permission
from salesapp.celery import app as celery_app


class _ScoreView(APIView):
    kind = Kind.DEAL

    @extend_schema(
        parameters=[OpenApiParameter(
            "as_of", OpenApiTypes.DATETIME,
            description="Score the record as it stood at this time (ISO 8601), from its history up to then, "
                        "by the active model; default: the stored score as of now")],
        responses=ScoreSerializer,
    )
    def get(self, request, pk: int):
        as_of = request.query_params.get("as_of")
        when = None
        if as_of is not None:
            when = parse_datetime(as_of)
            if when is None:
                raise validation_error("as_of", "Give a date and time in ISO 8601, e.g. 2025-03-01T12:00:00Z.")
            if timezone.is_naive(when):
                when = timezone.make_aware(when, UTC)
            if when > timezone.now():
                raise validation_error("as_of", "A score as of a future time cannot be known.")
        return Response(ScoreSerializer(
            selectors.score_get(user=request.user, kind=self.kind, record_id=pk, as_of=when)).data)


class OpportunityScoreView(_ScoreView):
    """The deal's score (0-100) as every page shows it, the model that made it and its reasons; a closed deal's
    outcome (won or lost)."""

    kind = Kind.DEAL
    permission_classes = [role_permission(read="opportunity:read")]


class LeadScoreView(_ScoreView):
    """The lead's score (0-100) as every page shows it, the model that made it and its reasons; a converted lead's
    outcome (its deal open, won or lost)."""

    kind = Kind.LEAD
    permission_classes = [role_permission(read="lead:read")]


class RecommendationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Next best actions for one open deal (`?opportunity=`) or lead (`?lead=`), ranked; accept or dismiss them."""

    serializer_class = RecommendationSerializer
    queryset = Recommendation.objects.none()
    pagination_class = None
    filter_backends: list = []
    permission_classes = [role_permission(read="opportunity:read", write="activity:write")]

    def get_object(self):
        return selectors.recommendation_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        parameters=[
            id_parameter("opportunity", "deal id"),
            id_parameter("lead", "lead id"),
        ],
        responses=RecommendationSerializer(many=True),
    )
    def list(self, request, *args, **kwargs):
        opp, lead = query_id(request, "opportunity"), query_id(request, "lead")
        if (opp is None) == (lead is None):
            raise validation_error("opportunity", "Give exactly one of opportunity or lead.")
        kind, rid = (Kind.DEAL, opp) if opp else (Kind.LEAD, lead)
        recs = selectors.recommendation_list(user=request.user, kind=kind, record_id=rid)
        return Response(RecommendationSerializer(recs, many=True).data)

    @extend_schema(request=None, responses=RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept: creates the task through the activities app."""
        rec = self.get_object()
        try:
            rec = services.recommendation_accept(actor=request.user, recommendation=rec)
        except ValidationError as exc:
            raise validation_error("status", "; ".join(exc.messages))
        return Response(RecommendationSerializer(rec).data)

    @extend_schema(request=None, responses=RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Dismiss: remembered; the advice is not raised again on this record for a while and ranks lower."""
        rec = self.get_object()
        try:
            rec = services.recommendation_dismiss(actor=request.user, recommendation=rec)
        except ValidationError as exc:
            raise validation_error("status", "; ".join(exc.messages))
        return Response(RecommendationSerializer(rec).data)


class AnalyticsView(APIView):
    """One analytics report over the deals and leads you may see, grouped by rep, team, territory or period."""

    permission_classes = [role_permission(read="analytics:read")]

    @extend_schema(
        parameters=[OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUPS), description="default rep")],
        responses=AnalyticsSerializer,
    )
    def get(self, request, report: str):
        if report not in REPORTS:
            raise Http404
        group_by = request.query_params.get("group_by", "rep")
        if group_by not in GROUPS:
            raise validation_error("group_by", f"Choose one of {', '.join(GROUPS)}.")
        return Response(selectors.analytics_report(user=request.user, report=report, group_by=group_by))


class ScoringModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Versioned scoring models with their holdout metrics (AUC, Brier, calibration); train on demand."""

    serializer_class = ScoringModelSerializer
    queryset = ScoringModel.objects.none()
    filterset_fields = ["kind", "algorithm", "is_active"]
    ordering_fields = ["id", "version", "trained_at"]
    permission_classes = [role_permission(read="analytics:read", train="intelligence:train")]

    def get_queryset(self):
        return selectors.model_list(user=self.request.user)

    @extend_schema(request=TrainSerializer, responses={200: TrainResultSerializer, 202: TrainResultSerializer})
    @action(detail=False, methods=["post"])
    def train(self, request):
        """Train the deal or lead model now (a Celery task); it is promoted only if it beats the active one."""
        ser = TrainSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        kind = ser.validated_data["kind"]
        result = model_train_task.delay(kind, request.user.pk)
        if celery_app.conf.task_always_eager:
            data = result.get()
            return Response({"status": "done", "promoted": data["promoted"], "decision": data["decision"],
                             **{k: v for k, v in data.items() if k in ("kind", "models", "compared")}, "kind": kind})
        return Response({"kind": kind, "status": "queued", "promoted": None, "decision": ""},
                        status=status.HTTP_202_ACCEPTED)
