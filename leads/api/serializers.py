"""Lead API shapes. Writes are validated here for types and by the services for business rules."""

from rest_framework import serializers

from leads.models import Lead, LeadHistory
from salesapp.models import User
from territories.models import Territory


class LeadRowSerializer(serializers.Serializer):
    """A row of the lead list (documentation only: the list serves plain rows)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    source = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    company = serializers.CharField()
    title = serializers.CharField()
    industry = serializers.CharField()
    employee_count = serializers.IntegerField(allow_null=True)
    annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    country = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    score = serializers.IntegerField()
    assigned_to = serializers.IntegerField(allow_null=True)
    territory_id = serializers.IntegerField(allow_null=True)
    converted_opportunity_id = serializers.IntegerField(allow_null=True)
    last_activity_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LeadSerializer(serializers.ModelSerializer):
    """A lead with its score, routing and conversion."""

    assigned_to = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), allow_null=True,
                                                     required=False)
    territory_id = serializers.PrimaryKeyRelatedField(source="territory", queryset=Territory.objects.all(),
                                                      allow_null=True, required=False)
    converted_opportunity_id = serializers.IntegerField(read_only=True, allow_null=True)
    converted_account_id = serializers.IntegerField(read_only=True, allow_null=True)
    converted_contact_id = serializers.IntegerField(read_only=True, allow_null=True)
    merged_into_id = serializers.IntegerField(read_only=True, allow_null=True)
    # Business validation (email format, negatives, ISO country) happens in the service, all fields at once.
    email = serializers.CharField(max_length=254)
    country = serializers.CharField(max_length=60, required=False, allow_blank=True)
    employee_count = serializers.IntegerField(required=False, allow_null=True)
    annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)

    class Meta:
        model = Lead
        fields = [
            "id", "status", "source", "first_name", "last_name", "email", "phone", "company", "title", "industry",
            "employee_count", "annual_revenue", "website", "country", "state", "postal_code", "score",
            "score_model", "score_factors", "assigned_to", "assigned_at", "assignment_reason", "queue",
            "territory_id", "converted_opportunity_id", "converted_account_id", "converted_contact_id",
            "converted_at", "merged_into_id", "last_activity_at", "activity_count", "created_at", "updated_at",
        ]
        read_only_fields = ["status", "score", "score_model", "score_factors", "assigned_at", "assignment_reason",
                            "queue", "converted_at", "last_activity_at", "activity_count", "created_at",
                            "updated_at"]


class DuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    company = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class LeadCreateResponseSerializer(LeadSerializer):
    duplicates = DuplicateSerializer(many=True, read_only=True)

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "duplicates"]


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AssignSerializer(serializers.Serializer):
    """Give `assigned_to` (a user id) or `route: true` to let routing decide."""

    assigned_to = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    route = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if not attrs.get("route") and not attrs.get("assigned_to"):
            raise serializers.ValidationError({"assigned_to": ["Give a user id, or route: true."]})
        return attrs


class MergeSerializer(serializers.Serializer):
    other_id = serializers.IntegerField(help_text="The lead merged into this one")


class ConvertSerializer(serializers.Serializer):
    opportunity_name = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    account_id = serializers.IntegerField(required=False, allow_null=True,
                                          help_text="Link this existing account instead of matching one")


class ConvertResultSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    status = serializers.CharField()
    account_id = serializers.IntegerField()
    contact_id = serializers.IntegerField()
    opportunity_id = serializers.IntegerField()


class LeadHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = LeadHistory
        fields = ["id", "kind", "from_value", "to_value", "detail", "actor", "created_at"]


class WebToLeadSerializer(serializers.Serializer):
    """A public form submission."""

    email = serializers.CharField()
    first_name = serializers.CharField(required=False, allow_blank=True)
    last_name = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True)
    company = serializers.CharField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True)
    industry = serializers.CharField(required=False, allow_blank=True)
    employee_count = serializers.CharField(required=False, allow_blank=True)
    annual_revenue = serializers.CharField(required=False, allow_blank=True)
    website = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(required=False, allow_blank=True)
    state = serializers.CharField(required=False, allow_blank=True)
    postal_code = serializers.CharField(required=False, allow_blank=True)


class WebToLeadResultSerializer(serializers.Serializer):
    status = serializers.CharField()
