"""Territory API shapes. Validation of business rules lives in the services."""

from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from salesapp.api.fields import MAX_INT32, CountField, IdField, RecordField
from salesapp.models import User
from territories.engine import RULE_FIELDS, rules_in_words
from territories.models import RealignmentJob, RealignmentMove, Territory, TerritoryMember, TerritoryModel
from territories.selectors import move_labels_shown


class TerritorySerializer(serializers.ModelSerializer):
    """A territory with its rules; `model` defaults to the active territory model."""

    model = RecordField(queryset=TerritoryModel.objects.all(), required=False)
    parent = RecordField(queryset=Territory.objects.all(), required=False, allow_null=True)
    owner = RecordField(queryset=User.objects.all(), required=False, allow_null=True)
    countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False)
    states = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    zip_codes = serializers.ListField(child=serializers.CharField(max_length=30), required=False)
    rules_text = serializers.SerializerMethodField()

    class Meta:
        model = Territory
        fields = [
            "id", "model", "name", "type", "owner", "parent", *RULE_FIELDS, "priority", "is_active",
            "routing_policy", "rules_text", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_rules_text(self, obj) -> list[str]:
        return rules_in_words({f: getattr(obj, f) for f in RULE_FIELDS})


class TerritoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RuleCheckSerializer(serializers.Serializer):
    rule = serializers.CharField()
    matched = serializers.BooleanField()
    detail = serializers.CharField()
    short = serializers.CharField()


class CandidateSerializer(serializers.Serializer):
    territory_id = serializers.IntegerField()
    name = serializers.CharField()
    depth = serializers.IntegerField()
    criteria = serializers.IntegerField()
    priority = serializers.IntegerField()
    matched = serializers.BooleanField()
    outcome = serializers.CharField()
    rules = RuleCheckSerializer(many=True)


class MatchQuerySerializer(serializers.Serializer):
    country = serializers.CharField(required=False, allow_blank=True)
    state = serializers.CharField(required=False, allow_blank=True)
    postal_code = serializers.CharField(required=False, allow_blank=True)
    industry = serializers.CharField(required=False, allow_blank=True)
    employee_count = CountField(required=False, allow_null=True)
    annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)


class MatchSerializer(serializers.Serializer):
    territory = TerritoryRefSerializer(allow_null=True)
    reason = serializers.CharField()
    explanation = CandidateSerializer(many=True)


class MemberSerializer(serializers.ModelSerializer):
    """A member of a territory: holds it and receives its routed leads, up to a daily capacity."""

    user = RecordField(queryset=User.objects.filter(is_active=True))
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.get_full_name", read_only=True)
    daily_capacity = CountField(required=False, allow_null=True)

    class Meta:
        model = TerritoryMember
        fields = ["id", "user", "email", "full_name", "daily_capacity", "created_at"]
        read_only_fields = ["created_at"]


class MemberUpdateSerializer(serializers.Serializer):
    daily_capacity = CountField(allow_null=True)


class GrantWriteSerializer(serializers.Serializer):
    """Give a user or a group access (no lead routing)."""

    user = RecordField(queryset=User.objects.all(), required=False, allow_null=True)
    group = RecordField(queryset=Group.objects.all(), required=False, allow_null=True)

    def validate(self, attrs):
        if bool(attrs.get("user")) == bool(attrs.get("group")):
            raise serializers.ValidationError({"user": ["Give either a user or a group."]})
        return attrs


class UserGrantSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id")
    email = serializers.EmailField(source="user.email")


class GroupGrantSerializer(serializers.Serializer):
    group = serializers.IntegerField(source="group_id")
    name = serializers.CharField(source="group.name")


class GrantsSerializer(serializers.Serializer):
    users = UserGrantSerializer(many=True)
    groups = GroupGrantSerializer(many=True)


class TerritoryModelSerializer(serializers.ModelSerializer):
    """A version of the territory plan."""

    territory_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = TerritoryModel
        fields = ["id", "name", "state", "activated_at", "territory_count", "created_at", "updated_at"]
        read_only_fields = ["state", "activated_at", "created_at", "updated_at"]


class RuleChangeSerializer(serializers.Serializer):
    """An unsaved rule edit to preview: the territory and the fields it would get."""

    territory_id = IdField()
    name = serializers.CharField(required=False)
    parent = IdField(required=False, allow_null=True)
    countries = serializers.ListField(child=serializers.CharField(), required=False)
    states = serializers.ListField(child=serializers.CharField(), required=False)
    zip_codes = serializers.ListField(child=serializers.CharField(), required=False)
    industry = serializers.CharField(required=False, allow_blank=True)
    min_employee_count = CountField(required=False, allow_null=True)
    max_employee_count = CountField(required=False, allow_null=True)
    min_annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    max_annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    priority = CountField(required=False, min_value=-MAX_INT32)
    is_active = serializers.BooleanField(required=False)


class PreviewRequestSerializer(serializers.Serializer):
    changes = RuleChangeSerializer(many=True, required=False)
    batch_size = serializers.IntegerField(required=False, min_value=1, max_value=10000)


class ActivateRequestSerializer(serializers.Serializer):
    job = IdField(required=False, help_text="A previewed job of this model to apply")


class CloneRequestSerializer(serializers.Serializer):
    name = serializers.CharField()


class RealignmentMoveSerializer(serializers.ModelSerializer):
    """A planned move. Record labels (names, emails) are shown to admins only: a job spans every record."""

    label = serializers.SerializerMethodField()

    class Meta:
        model = RealignmentMove
        fields = ["id", "record_type", "record_id", "label", "from_territory_id", "to_territory_id", "applied"]

    def get_label(self, obj) -> str:
        return obj.label if move_labels_shown(user=self.context["request"].user) else ""


class RealignmentJobSerializer(serializers.ModelSerializer):
    """A realignment: its preview (totals, flows, sample) and its progress."""

    percent = serializers.IntegerField(read_only=True)
    sample = serializers.SerializerMethodField()

    class Meta:
        model = RealignmentJob
        fields = [
            "id", "model", "kind", "status", "rule_changes", "rules_applied", "totals", "flows", "total",
            "processed", "percent", "batches_done", "batch_size", "error", "sample", "created_by", "applied_by",
            "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RealignmentMoveSerializer(many=True))
    def get_sample(self, obj):
        return RealignmentMoveSerializer(obj.moves.order_by("id")[:20], many=True, context=self.context).data
