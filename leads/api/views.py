"""Lead API: list (plain rows), CRUD through services, workflow actions, export, web-to-lead."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import selectors, services, webforms
from leads.api.serializers import (
    AssignSerializer,
    ConvertResultSerializer,
    ConvertSerializer,
    LeadCreateResponseSerializer,
    LeadCreateSerializer,
    LeadHistorySerializer,
    LeadRowSerializer,
    LeadSerializer,
    MergeSerializer,
    NoteSerializer,
    WebToLeadResultSerializer,
    WebToLeadSerializer,
)
from leads.dedup import find_duplicates
from leads.filtersets import LeadFilter
from leads.models import Lead
from opportunities.selectors import account_list
from salesapp.access import CHANGE, DELETE
from salesapp.api.parsers import JSONParser
from salesapp.api.permissions import role_permission
from salesapp.api.privacy import ConsentSerializer
from salesapp.clientip import client_ip
from salesapp.exports import csv_export

WRITE_ACTIONS = {"create", "update", "partial_update", "qualify", "disqualify", "contact", "reopen", "convert",
                 "assign", "merge"}


def _duplicates(data, *, user, exclude_pk=None):
    """Likely duplicates among the leads `user` may see."""
    return [
        {"id": lead.pk, "email": lead.email, "name": str(lead), "company": lead.company, "reasons": reasons}
        for lead, reasons in find_duplicates(data, queryset=selectors.lead_list(user=user), exclude_pk=exclude_pk)
    ]


class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Leads the user may see. Writes go through the lead services; statuses change only through the actions."""

    queryset = Lead.objects.none()
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    ordering = ["-id"]
    permission_classes = [role_permission(read="lead:read", write="lead:write", destroy="lead:delete")]

    def get_queryset(self):
        user = self.request.user
        if self.action in WRITE_ACTIONS:
            return selectors.lead_list(user=user, action=CHANGE).select_related("assigned_to", "territory")
        if self.action == "destroy":
            return selectors.lead_list(user=user, action=DELETE)
        return selectors.lead_list(user=user, include_merged=self.action == "retrieve").select_related(
            "assigned_to", "territory")

    @extend_schema(responses=LeadRowSerializer(many=True))
    def list(self, request, *args, **kwargs):
        """Plain rows of the listed columns (constant queries per page, no per-row serializer)."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(selectors.lead_rows(queryset=queryset))
        for row in page:  # decimals as strings, like the detail serializer
            if row["annual_revenue"] is not None:
                row["annual_revenue"] = f"{row['annual_revenue']:.2f}"
        return self.get_paginated_response(page)

    @extend_schema(request=LeadCreateSerializer, responses={201: LeadCreateResponseSerializer})
    def create(self, request, *args, **kwargs):
        """Create a lead, scored and placed: a rep naming no owner keeps it (filed under its territory) unless
        `route` is true; leads of other creators naming no owner are routed. `assigned_to` and `territory_id`
        must be among the creator's choices (400 naming the field). `duplicates` lists likely duplicates the
        user can see."""
        serializer = LeadCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        lead = services.lead_create(actor=request.user, **serializer.validated_data)
        body = LeadSerializer(lead).data
        body["duplicates"] = _duplicates(lead, exclude_pk=lead.pk, user=request.user)
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = services.lead_update(actor=self.request.user, lead=serializer.instance,
                                                   **serializer.validated_data)

    def perform_destroy(self, instance):
        services.lead_delete(actor=self.request.user, lead=instance)

    def _transition(self, request, to_status):
        lead = self.get_object()
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead = services.lead_transition(actor=request.user, lead=lead, to_status=to_status,
                                        note=data.validated_data["note"])
        return Response(LeadSerializer(lead).data)

    @extend_schema(request=NoteSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        """contacted -> qualified (publishes lead.qualified)."""
        return self._transition(request, Lead.Status.QUALIFIED)

    @extend_schema(request=NoteSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def disqualify(self, request, pk=None):
        """contacted -> unqualified."""
        return self._transition(request, Lead.Status.UNQUALIFIED)

    @extend_schema(request=NoteSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def contact(self, request, pk=None):
        """new -> contacted."""
        return self._transition(request, Lead.Status.CONTACTED)

    @extend_schema(request=NoteSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """unqualified -> new."""
        return self._transition(request, Lead.Status.NEW)

    @extend_schema(request=ConvertSerializer, responses=ConvertResultSerializer)
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Convert a qualified lead: account (found or created), contact and opportunity, in one transaction."""
        lead = self.get_object()
        data = ConvertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = None
        if data.validated_data.get("account_id"):
            account = account_list(user=request.user).filter(pk=data.validated_data["account_id"]).first()
            if account is None:
                raise ValidationError({"account_id": ["No such account."]})
        lead = services.lead_convert(
            actor=request.user, lead=lead, opportunity_name=data.validated_data["opportunity_name"],
            amount=data.validated_data.get("amount"), expected_close_date=data.validated_data.get("expected_close_date"),
            account=account,
        )
        return Response({"lead_id": lead.pk, "status": lead.status, "account_id": lead.converted_account_id,
                         "contact_id": lead.converted_contact_id, "opportunity_id": lead.converted_opportunity_id})

    @extend_schema(request=AssignSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign to a user, or `route: true` to run territory routing again."""
        lead = self.get_object()  # a lead the user may not change answers 404 before its body is judged
        data = AssignSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        if data.validated_data["route"]:
            lead = services.lead_route(actor=request.user, lead=lead)
        else:
            lead = services.lead_assign(actor=request.user, lead=lead, owner=data.validated_data["assigned_to"],
                                        note=data.validated_data["note"])
        return Response(LeadSerializer(lead).data)

    @extend_schema(request=ConsentSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request, pk=None):
        """Record the person's lawful basis, consent (source, time, withdrawal) or CCPA opt-out."""
        lead = self.get_object()
        data = ConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(LeadSerializer(services.lead_privacy_update(actor=request.user, lead=lead,
                                                                    **data.validated_data)).data)

    @extend_schema(request=MergeSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge the lead `other_id` into this one; the other is kept as merged, with its history."""
        target = self.get_object()
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        other = selectors.lead_list(user=request.user, action=CHANGE).filter(pk=data.validated_data["other_id"]).first()
        if other is None:
            raise ValidationError({"other_id": ["No such lead, or you may not change it."]})
        return Response(LeadSerializer(services.lead_merge(actor=request.user, target=target, other=other)).data)

    @extend_schema(responses=inline_serializer("LeadDuplicates", {"duplicates": serializers.ListField()}))
    @action(detail=True, methods=["get"])
    def duplicates(self, request, pk=None):
        """Likely duplicates of this lead, among those the user can see."""
        lead = self.get_object()
        return Response({"duplicates": _duplicates(lead, exclude_pk=lead.pk, user=request.user)})

    @extend_schema(responses=LeadHistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Status, assignment, score, conversion and merge history, newest first."""
        lead = self.get_object()
        return Response(LeadHistorySerializer(selectors.lead_history(user=request.user, lead=lead), many=True).data)

    @extend_schema(responses={(200, "text/csv"): bytes})
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request):
        """The filtered list as CSV (only leads the user may see; formula cells escaped)."""
        queryset = self.filter_queryset(self.get_queryset()).order_by("-id")
        return csv_export(request, queryset=queryset, columns=selectors.EXPORT_COLUMNS, filename="leads.csv")


class WebToLeadView(APIView):
    """Public endpoint of a web-to-lead form: no sign-in; origin, honeypot and per-IP rate checked."""

    authentication_classes: list = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]  # web forms post form data
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def _cors(self, response, request, form):
        origin = request.headers.get("Origin", "")
        if origin and form.origins and webforms.origin_allowed(form, origin):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Vary"] = "Origin"
        elif not form.origins:
            response["Access-Control-Allow-Origin"] = "*"
        return response

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        form = webforms.webform_get(kwargs["key"])
        return self._cors(Response(status=status.HTTP_204_NO_CONTENT), request, form)

    @extend_schema(request=WebToLeadSerializer, responses={201: WebToLeadResultSerializer},
                   parameters=[OpenApiParameter("key", str, OpenApiParameter.PATH)])
    def post(self, request, key):
        form = webforms.webform_get(key)
        data = request.data.dict() if hasattr(request.data, "dict") else dict(request.data)
        try:
            webforms.webform_submit(form=form, data=data, origin=request.headers.get("Origin", ""),
                                           ip=client_ip(request))
        except webforms.OriginRefused:
            raise PermissionDenied("This form does not accept submissions from that site.")
        except webforms.RateLimited as exc:
            raise Throttled(wait=exc.wait)
        body = {"status": "accepted"}
        return self._cors(Response(body, status=status.HTTP_201_CREATED), request, form)

