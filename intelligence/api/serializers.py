from rest_framework import serializers

from intelligence.models import Kind, Recommendation, ScoringModel


class FactorSerializer(serializers.Serializer):
    """One reason for a score, in the shape the lead and deal APIs show it (`score_factors`)."""

    factor = serializers.CharField(help_text="What it is about, e.g. industry or days_since_activity")
    points = serializers.FloatField(help_text="Its pull on the score: above 0 pushes it up, below 0 pulls it down")
    detail = serializers.CharField(help_text="The reason in plain words")


class ScoreSerializer(serializers.Serializer):
    """The score every page shows for a record; the same as the record's own score fields."""

    score = serializers.IntegerField(allow_null=True, min_value=0, max_value=100,
                                     help_text="A learned model's score is the calibrated chance of winning in "
                                               "percent; a rule score is points out of 100. null for a deal not "
                                               "scored yet and for a decided record")
    model = serializers.CharField(allow_blank=True, help_text="The model that made it, e.g. LightGBM v3 or Rules v1")
    factors = FactorSerializer(many=True)
    outcome = serializers.CharField(
        allow_blank=True,
        help_text="A decided record shows this instead of a score: a closed deal won or lost; a converted lead its "
                  "deal's state (won, lost or deleted; while its deal is open, \"open\" with the deal's own score). "
                  "Empty while the record is worked.")
    as_of = serializers.DateTimeField(required=False, help_text="The time the record was scored as of, when asked")


class RecommendationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="open, accepted or dismissed")
    opportunity_id = serializers.IntegerField(read_only=True, allow_null=True)
    lead_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Recommendation
        fields = ["id", "opportunity_id", "lead_id", "code", "action", "reason", "priority", "status",
                  "created_at", "decided_at", "task_id"]
        read_only_fields = fields


class ScoringModelSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="deal or lead")
    algorithm = serializers.CharField(read_only=True, help_text="lightgbm or naive_bayes")

    class Meta:
        model = ScoringModel
        fields = ["id", "kind", "version", "algorithm", "is_active", "metrics", "trained_at", "promoted_at"]
        read_only_fields = fields


class TrainSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="deal or lead")

    def validate_kind(self, value):
        if value not in Kind.values:
            raise serializers.ValidationError("Choose deal or lead.")
        return value


class TrainResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    status = serializers.CharField(help_text="done (trained in process) or queued (a worker will train)")
    promoted = serializers.BooleanField(allow_null=True)
    decision = serializers.CharField(allow_blank=True)
    models = serializers.ListField(child=serializers.DictField(), required=False)
    compared = serializers.DictField(required=False)


class AnalyticsSerializer(serializers.Serializer):
    report = serializers.CharField()
    group_by = serializers.CharField(help_text="rep, team, territory or period")
    rows = serializers.ListField(child=serializers.DictField())
