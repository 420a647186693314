"""Data subject requests API: file a request (access, erasure, opt-out) by email or record, follow it, download
an access request's archive. Admins only (privacy:manage)."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from salesapp import privacy
from salesapp.api.permissions import role_permission
from salesapp.models import LawfulBasis, PrivacyRequest


class PrivacyRequestSerializer(serializers.ModelSerializer):
    """A request, where it got, and its receipt (what was found, sent or changed, per store)."""

    requested_by = serializers.EmailField(source="requested_by.email", read_only=True, allow_null=True)
    receipt = serializers.SerializerMethodField()
    has_archive = serializers.SerializerMethodField()

    class Meta:
        model = PrivacyRequest
        fields = ["id", "kind", "status", "email", "subject_key", "record_kind", "record_id", "note", "receipt",
                  "has_archive", "message", "requested_by", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_receipt(self, obj) -> dict:
        return {k: v for k, v in obj.receipt.items() if k != "subject"}  # the checkpoint names the person

    def get_has_archive(self, obj) -> bool:
        return obj.archive is not None


class PrivacyRequestCreateSerializer(serializers.Serializer):
    """Name the person by `email`, or by one record of theirs (`record_kind`: lead or contact, `record_id`)."""

    kind = serializers.ChoiceField(choices=PrivacyRequest.Kind.choices)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    record_kind = serializers.CharField(required=False, allow_blank=True, max_length=20)
    record_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ConsentSerializer(serializers.Serializer):
    """A person's consent and lawful basis, or their CCPA opt-out (`do_not_sell`), on a lead or a contact: send
    what changes. Consent needs `consent_source` and `consent_at`; a withdrawal needs consent given."""

    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices, required=False, allow_blank=True)
    consent_source = serializers.CharField(required=False, allow_blank=True, max_length=100)
    consent_at = serializers.DateTimeField(required=False, allow_null=True)
    consent_withdrawn_at = serializers.DateTimeField(required=False, allow_null=True)
    do_not_sell = serializers.BooleanField(required=False)


class PrivacyRequestViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin,
                            viewsets.GenericViewSet):
    """Data subject requests, newest first."""

    queryset = PrivacyRequest.objects.select_related("requested_by").defer("archive")
    serializer_class = PrivacyRequestSerializer
    permission_classes = [role_permission(read="privacy:manage", write="privacy:manage")]
    ordering = ["-created_at", "-id"]
    ordering_fields = ["created_at"]
    filterset_fields = ["kind", "status"]

    @extend_schema(request=PrivacyRequestCreateSerializer, responses={202: PrivacyRequestSerializer})
    def create(self, request, *args, **kwargs):
        """File a request; it runs in the background: poll GET /privacy-requests/<id>/ for its receipt."""
        data = PrivacyRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            filed = privacy.privacy_request_create(actor=request.user, **data.validated_data)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict)
        privacy.privacy_request_start(filed)
        return Response(PrivacyRequestSerializer(filed).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def archive(self, request, pk=None):
        """The access request's archive: a zip of JSON files, one per kind of data held about the person."""
        filed = self.get_object()
        archive = PrivacyRequest.objects.filter(pk=filed.pk).values_list("archive", flat=True).get()
        if archive is None:
            raise NotFound("This request has no archive (not an access request, or not finished yet).")
        response = HttpResponse(bytes(archive), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="privacy-request-{filed.pk}.zip"'
        return response
