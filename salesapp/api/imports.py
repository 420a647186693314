"""Import jobs API: upload a CSV for any registered kind, then poll its progress."""

import json

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from salesapp import imports
from salesapp.api.parsers import JSONParser
from salesapp.models import ImportJob


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    """An import job and how far it got."""

    errors = ImportErrorSerializer(many=True, read_only=True)
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)

    class Meta:
        model = ImportJob
        fields = ["id", "kind", "status", "filename", "mapping", "dry_run", "on_error", "total", "processed",
                  "created", "updated", "errors", "message", "created_by", "created_at", "started_at", "finished_at"]
        read_only_fields = fields


class ImportJobCreateSerializer(serializers.Serializer):
    """Multipart upload: `file`, `kind`, optional `mapping` (JSON: CSV header -> column), `dry_run`, `on_error`."""

    file = serializers.FileField()
    kind = serializers.CharField()
    mapping = serializers.CharField(required=False, allow_blank=True, help_text="JSON object: CSV header -> column name")
    dry_run = serializers.BooleanField(default=False)
    on_error = serializers.ChoiceField(choices=ImportJob.OnError.choices, default=ImportJob.OnError.ABORT)

    def validate_mapping(self, value):
        if not value:
            return {}
        if isinstance(value, dict):
            return value
        try:
            mapping = json.loads(value)
        except ValueError:
            raise serializers.ValidationError("must be a JSON object of CSV header -> column name")
        if not isinstance(mapping, dict):
            raise serializers.ValidationError("must be a JSON object of CSV header -> column name")
        return mapping

    def to_internal_value(self, data):
        # A JSON body may carry the mapping as an object rather than a string.
        if hasattr(data, "get") and isinstance(data.get("mapping"), dict):
            data = data.copy() if hasattr(data, "copy") else dict(data)
            data["mapping"] = json.dumps(data["mapping"])
        return super().to_internal_value(data)


class ImportColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    required = serializers.BooleanField()
    help = serializers.CharField()
    admin_only = serializers.BooleanField()


class ImportKindSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    columns = ImportColumnSerializer(many=True)


class ImportJobViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin,
                       viewsets.GenericViewSet):
    """CSV imports. Each user sees the jobs they started; admins see all."""

    queryset = ImportJob.objects.none()
    serializer_class = ImportJobSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering = ["-id"]
    ordering_fields = ["id"]
    filterset_fields = ["kind", "status"]

    def get_queryset(self):
        return imports.import_job_list(user=self.request.user)

    @extend_schema(request=ImportJobCreateSerializer, responses={202: ImportJobSerializer})
    def create(self, request, *args, **kwargs):
        """Upload a CSV and start importing it in the background; poll GET /imports/<id>/."""
        imports.require_importer(request.user, request.data.get("kind") if hasattr(request.data, "get") else None)
        data = ImportJobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            job = imports.import_job_create(
                actor=request.user,
                kind=data.validated_data["kind"],
                content=upload.read(),
                filename=upload.name or "",
                mapping=data.validated_data.get("mapping") or None,
                dry_run=data.validated_data["dry_run"],
                on_error=data.validated_data["on_error"],
            )
        except imports.ImportSetupError as exc:
            raise serializers.ValidationError({exc.field: [exc.message]})
        imports.import_job_start(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Run a finished import again as a new job with the same file and mapping (a failed one, or a dry run)."""
        imports.require_importer(request.user)  # the role decides before the record is looked up
        job = self.get_object()
        imports.require_importer(request.user, job.kind)
        try:
            new = imports.import_job_retry(actor=request.user, job=job)
        except imports.ImportSetupError as exc:
            raise serializers.ValidationError({exc.field: [exc.message]})
        return Response(ImportJobSerializer(new).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=ImportKindSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def kinds(self, request):
        """The kinds this user may import, with their columns."""
        return Response(ImportKindSerializer(imports.kinds_for(request.user), many=True).data)
