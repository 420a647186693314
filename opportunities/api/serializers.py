"""API shapes. DRF validates input and documents it; services do the writes."""

from rest_framework import serializers

from opportunities.models import (
    Account,
    ArchiveJob,
    Contact,
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSubmission,
    LossReason,
    Opportunity,
    Stage,
    StageHistory,
)
from opportunities.selectors import stages_by_key
from salesapp.api.fields import FieldPolicyMixin, IdField, PersonalDataStateMixin, RecordField
from salesapp.models import User
from salesapp.privacy import PRIVACY_STATE_FIELDS
from territories.models import Territory


class AccountSerializer(serializers.ModelSerializer):
    """An account; `owner_id` must be someone the client may assign to (salesapp.assignment), else 400."""

    owner_id = RecordField(source="owner", queryset=User.objects.all(), required=False,
                                                  allow_null=True)
    parent_id = RecordField(source="parent", queryset=Account.objects.all(), required=False,
                                                   allow_null=True)
    territory_id = serializers.IntegerField(read_only=True)
    allow_duplicate = serializers.BooleanField(write_only=True, required=False, default=False,
                                               help_text="Create even when a likely duplicate exists")

    class Meta:
        model = Account
        fields = ["id", "name", "website_domain", "industry", "employee_count", "annual_revenue", "billing_country",
                  "billing_state", "billing_postal_code", "owner_id", "territory_id", "parent_id",
                  "last_activity_at", "created_at", "updated_at", "allow_duplicate", "external_id"]
        read_only_fields = ["last_activity_at", "created_at", "updated_at", "external_id"]


class ContactSerializer(PersonalDataStateMixin, serializers.ModelSerializer):
    """A contact; `owner_id` (default: the account's owner) must be someone the client may assign to, else 400."""

    account_id = RecordField(source="account", queryset=Account.objects.all())
    owner_id = RecordField(source="owner", queryset=User.objects.all(), required=False,
                                                  allow_null=True)
    allow_duplicate = serializers.BooleanField(write_only=True, required=False, default=False,
                                               help_text="Create even when a likely duplicate exists")

    class Meta:
        model = Contact
        fields = ["id", "account_id", "first_name", "last_name", "email", "phone", "title", "buying_role",
                  "owner_id", "created_at", "updated_at", "allow_duplicate", "external_id",
                  *PRIVACY_STATE_FIELDS]
        # Consent changes through POST /contacts/<id>/consent/ (contacts.contact_privacy_update).
        read_only_fields = ["created_at", "updated_at", "external_id", *PRIVACY_STATE_FIELDS]


class StageField(serializers.SlugRelatedField):
    """A stage by key, read from the cached stages (no query per deal write)."""

    def to_internal_value(self, data):
        stage = stages_by_key().get(str(data))
        if stage is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return stage


class OpportunitySerializer(FieldPolicyMixin, serializers.ModelSerializer):
    """A deal; `owner_id` and `territory_id` must be ones the client may pick (salesapp.assignment), else 400.
    `margin` and `cost` are there only for roles the field policy allows (salesapp.fields).
    """

    account_id = RecordField(source="account", queryset=Account.objects.all())
    owner_id = RecordField(source="owner", queryset=User.objects.all(), required=False)
    stage = StageField(slug_field="key", queryset=Stage.objects.all(), required=False)
    territory_id = RecordField(source="territory", queryset=Territory.objects.all(),
                                                      required=False, allow_null=True,
                                                      help_text="Default: the account's territory")
    loss_reason = serializers.SlugRelatedField(slug_field="name", read_only=True)
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True,
                                           help_text="Set by hand to override the stage default; null follows the stage")
    contact_ids = RecordField(source="contacts", queryset=Contact.objects.all(), many=True,
                                                     required=False)
    forecast_category = serializers.ChoiceField(choices=Opportunity.ForecastCategory.choices, required=False,
                                                allow_blank=True)
    # Scores are computed by intelligence and written by opportunities.services.scores: read-only here.
    deal_score = serializers.IntegerField(read_only=True, allow_null=True, help_text="null until the deal is scored")
    score_model = serializers.CharField(read_only=True, help_text="The model that made the score, e.g. LightGBM v3")
    score_factors = serializers.JSONField(read_only=True, help_text="Why: reasons as {factor, points, detail}")
    outcome = serializers.CharField(read_only=True,
                                    help_text="won or lost once the deal is closed (shown instead of a score)")

    class Meta:
        model = Opportunity
        fields = ["id", "name", "account_id", "lead_id", "stage", "probability", "probability_is_manual", "amount",
                  "cost", "margin", "expected_close_date", "actual_close_date", "owner_id", "territory_id", "deal_score",
                  "score_model", "score_factors", "outcome", "loss_reason", "close_reason", "next_step", "forecast_category", "forecast_category_is_manual",
                  "source", "contact_ids", "stage_changed_at", "last_activity_at", "created_at", "updated_at",
                  "external_id"]
        read_only_fields = ["external_id", "lead_id", "probability_is_manual", "actual_close_date", "loss_reason",
                            "forecast_category_is_manual", "stage_changed_at", "last_activity_at", "created_at",
                            "updated_at"]


class OpportunityRowSerializer(OpportunitySerializer):
    """A deal as the list serves it: the columns of the row, no contacts, score reasons or outcome."""

    stage = serializers.CharField(help_text="The stage key")

    class Meta(OpportunitySerializer.Meta):
        fields = [f for f in OpportunitySerializer.Meta.fields
                  if f not in ("score_factors", "outcome", "contact_ids", "external_id")]


class OpportunityCreateSerializer(OpportunitySerializer):
    lead_id = IdField(required=False, allow_null=True)

    class Meta(OpportunitySerializer.Meta):
        read_only_fields = [f for f in OpportunitySerializer.Meta.read_only_fields if f != "lead_id"]


class CloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["won", "lost"])
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="Lost: a loss reason from /api/v1/loss-reasons/ (name or id). Won: free text")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)


class ReopenSerializer(serializers.Serializer):
    stage = serializers.SlugRelatedField(slug_field="key", queryset=Stage.objects.filter(is_closed=False),
                                         required=False, help_text="An open stage; default: the stage it was closed from")


class BulkStageSerializer(serializers.Serializer):
    ids = serializers.ListField(child=IdField(), allow_empty=False, max_length=10000)
    stage = serializers.SlugRelatedField(slug_field="key", queryset=Stage.objects.filter(is_closed=False),
                                         help_text="An open stage")


class BulkStageResultSerializer(serializers.Serializer):
    updated = serializers.ListField(child=serializers.IntegerField())
    unchanged = serializers.ListField(child=serializers.IntegerField())
    errors = serializers.DictField(child=serializers.CharField())


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["key", "label", "order", "default_probability", "is_closed", "is_won"]


class StageUpdateSerializer(serializers.Serializer):
    default_probability = serializers.IntegerField(min_value=0, max_value=100)


class LossReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = LossReason
        fields = ["id", "name", "is_active"]


class StageHistorySerializer(serializers.ModelSerializer):
    changed_by_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = StageHistory
        fields = ["id", "from_stage", "to_stage", "changed_by_id", "changed_at", "days_in_previous_stage", "note"]


class StageSummarySerializer(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    total_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    average_probability = serializers.FloatField(allow_null=True)


class PipelineSummarySerializer(serializers.Serializer):
    stages = StageSummarySerializer(many=True)
    count = serializers.IntegerField()
    total_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    weighted_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    cached = serializers.BooleanField()


class ForecastSubmissionSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    period = serializers.CharField(help_text="Q1_2026 or 2026-01")

    class Meta:
        model = ForecastSubmission
        fields = ["id", "user_id", "period", "commit", "best_case", "notes", "submitted_at"]
        read_only_fields = ["submitted_at"]


class ForecastAdjustmentSerializer(serializers.ModelSerializer):
    user_id = RecordField(source="user", queryset=User.objects.all())
    adjusted_by_id = serializers.IntegerField(read_only=True)
    period = serializers.CharField(help_text="Q1_2026 or 2026-01")

    class Meta:
        model = ForecastAdjustment
        fields = ["id", "user_id", "period", "category", "amount", "reason", "adjusted_by_id", "created_at"]
        read_only_fields = ["created_at"]


class ForecastCallSerializer(serializers.Serializer):
    commit = serializers.DecimalField(max_digits=16, decimal_places=2)
    best_case = serializers.DecimalField(max_digits=16, decimal_places=2)
    notes = serializers.CharField()
    submitted_at = serializers.DateTimeField()


class ForecastAdjustmentBriefSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    reason = serializers.CharField()
    by = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()


class ForecastFiguresSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    own_only = serializers.BooleanField()
    has_reports = serializers.BooleanField()
    closed_won = serializers.DecimalField(max_digits=20, decimal_places=2)
    commit = serializers.DecimalField(max_digits=20, decimal_places=2)
    best_case = serializers.DecimalField(max_digits=20, decimal_places=2)
    pipeline = serializers.DecimalField(max_digits=20, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=20, decimal_places=2)
    adjusted_commit = serializers.DecimalField(max_digits=20, decimal_places=2)
    adjusted_best_case = serializers.DecimalField(max_digits=20, decimal_places=2)
    adjustments = serializers.DictField(child=ForecastAdjustmentBriefSerializer())
    submission = ForecastCallSerializer(allow_null=True)


class ForecastAccuracySerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    submitted_commit = serializers.DecimalField(max_digits=20, decimal_places=2)
    closed_won = serializers.DecimalField(max_digits=20, decimal_places=2)
    accuracy = serializers.DecimalField(max_digits=6, decimal_places=1)
    submitted_at = serializers.DateTimeField()
    is_team = serializers.BooleanField()


class ForecastTerritorySerializer(serializers.Serializer):
    territory_id = serializers.IntegerField()
    closed_won = serializers.DecimalField(max_digits=20, decimal_places=2)
    commit = serializers.DecimalField(max_digits=20, decimal_places=2)
    best_case = serializers.DecimalField(max_digits=20, decimal_places=2)
    pipeline = serializers.DecimalField(max_digits=20, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=20, decimal_places=2)


class ForecastSnapshotSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = ForecastSnapshot
        fields = ["user_id", "scope", "period", "week_start", "closed_won", "commit", "best_case", "pipeline",
                  "weighted", "adjusted_commit", "adjusted_best_case", "taken_at"]


class ForecastSerializer(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    closed = serializers.BooleanField()
    user_id = serializers.IntegerField()
    rows = ForecastFiguresSerializer(many=True)
    total = ForecastFiguresSerializer()
    submission = ForecastCallSerializer(allow_null=True)
    submissions = ForecastSubmissionSerializer(many=True)
    accuracy = ForecastAccuracySerializer(many=True)
    territory = ForecastTerritorySerializer(allow_null=True)


class ArchivedOpportunitySerializer(OpportunitySerializer):
    """An archived deal, read-only, with its stage history and when it went to the archive."""

    archived_at = serializers.DateTimeField(read_only=True)
    stage_history = StageHistorySerializer(many=True, read_only=True)

    class Meta(OpportunitySerializer.Meta):
        fields = [*OpportunitySerializer.Meta.fields, "archived_at", "stage_history"]


class ArchiveJobSerializer(serializers.ModelSerializer):
    """An archival run and its progress; `closed_before` defaults to ARCHIVE_AFTER_DAYS (two years) ago."""

    closed_before = serializers.DateField(required=False)

    class Meta:
        model = ArchiveJob
        fields = ["id", "status", "closed_before", "total", "processed", "created_at", "updated_at", "finished_at",
                  "error"]
        read_only_fields = ["id", "status", "total", "processed", "created_at", "updated_at", "finished_at", "error"]
