"""Lead API shapes. Writes are validated here for types and by the services for business rules."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.models import Lead, LeadHistory
from salesapp.api.fields import MAX_INT32, CountField, IdField, PersonalDataStateMixin, RecordField
from salesapp.api.params import ID_SCHEMA
from salesapp.assignment import assignable_users
from salesapp.privacy import PRIVACY_STATE_FIELDS
from territories.selectors import territory_list


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
    score_model = serializers.CharField(help_text="The model that made the score, e.g. LightGBM v3 or Rules v1")
    assigned_to = serializers.IntegerField(allow_null=True)
    territory_id = serializers.IntegerField(allow_null=True)
    converted_opportunity_id = serializers.IntegerField(allow_null=True)
    last_activity_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class _PickField(RecordField):
    """An owner or territory picked by the requester among their choices; the lead's current one is always taken
    back (saving a lead with its owner or territory unchanged is not a new pick)."""

    def to_internal_value(self, data):
        lead = self.root.instance
        current = getattr(lead, self.source) if isinstance(lead, Lead) else None
        if current is not None and str(data) == str(current.pk):
            return current
        return super().to_internal_value(data)


@extend_schema_field(ID_SCHEMA)
class OwnerField(_PickField):
    """A user the requester may give leads to (the kernel's assignment policy)."""

    default_error_messages = {"does_not_exist": "You may not give leads to user {pk_value}, or there is no such user."}

    def get_queryset(self):
        return assignable_users(self.context["request"].user)


@extend_schema_field(ID_SCHEMA)
class TerritoryField(_PickField):
    """A territory the requester can see."""

    default_error_messages = {"does_not_exist": "No territory with id {pk_value}, or you may not see it."}

    def get_queryset(self):
        return territory_list(user=self.context["request"].user)


class LeadSerializer(PersonalDataStateMixin, serializers.ModelSerializer):
    """A lead with its score, routing and conversion."""

    assigned_to = OwnerField(allow_null=True, required=False)
    territory_id = TerritoryField(source="territory", allow_null=True, required=False)
    converted_opportunity_id = serializers.IntegerField(read_only=True, allow_null=True)
    converted_account_id = serializers.IntegerField(read_only=True, allow_null=True)
    converted_contact_id = serializers.IntegerField(read_only=True, allow_null=True)
    merged_into_id = serializers.IntegerField(read_only=True, allow_null=True)
    outcome = serializers.CharField(
        read_only=True,
        help_text="A converted lead shows this instead of a score: its deal's state now (open, won, lost or deleted). "
                  "Empty while the lead is worked.")
    # Business validation (email format, negatives, ISO country) happens in the service, all fields at once.
    email = serializers.CharField(max_length=254)
    country = serializers.CharField(max_length=60, required=False, allow_blank=True)
    # Bounded to what the column holds; a negative count is the service's rule, reported with the rest.
    employee_count = CountField(required=False, allow_null=True, min_value=-MAX_INT32)
    annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)

    class Meta:
        model = Lead
        fields = [
            "id", "status", "source", "first_name", "last_name", "email", "phone", "company", "title", "industry",
            "employee_count", "annual_revenue", "website", "country", "state", "postal_code", "score",
            "score_model", "score_factors", "outcome", "assigned_to", "assigned_at", "assignment_reason", "queue",
            "territory_id", "converted_opportunity_id", "converted_account_id", "converted_contact_id",
            "converted_at", "merged_into_id", "last_activity_at", "activity_count", "created_at", "updated_at",
            *PRIVACY_STATE_FIELDS,
            "external_id",
        ]
        # Consent changes through POST /leads/<id>/consent/ (leads.services.lead_privacy_update).
        read_only_fields = ["external_id", "status", "score", "score_model", "score_factors", "assigned_at", "assignment_reason",
                            "queue", "converted_at", "last_activity_at", "activity_count", "created_at",
                            "updated_at", *PRIVACY_STATE_FIELDS]


class LeadCreateSerializer(LeadSerializer):
    """A new lead. A rep who names no owner keeps it unless `route` is true; anyone else's goes to routing."""

    route = serializers.BooleanField(write_only=True, required=False, default=False,
                                     help_text="Let territory routing choose the owner (not with assigned_to)")

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "route"]


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

    assigned_to = OwnerField(required=False, allow_null=True)
    route = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if not attrs.get("route") and not attrs.get("assigned_to"):
            raise serializers.ValidationError({"assigned_to": ["Give a user id, or route: true."]})
        return attrs


class MergeSerializer(serializers.Serializer):
    other_id = IdField(help_text="The lead merged into this one")


class ConvertSerializer(serializers.Serializer):
    opportunity_name = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    account_id = IdField(required=False, allow_null=True,
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
