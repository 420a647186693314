from rest_framework import serializers

from intelligence.analytics import GROUPS
from intelligence.models import Kind, Recommendation, ScoringModel


class FactorSerializer(serializers.Serializer):
    feature = serializers.CharField()
    label = serializers.CharField(help_text="The reason in plain words")
    direction = serializers.ChoiceField(choices=["up", "down"])
    weight = serializers.FloatField(help_text="Contribution to the log odds (model units)")


class ScoreSerializer(serializers.Serializer):
    score = serializers.IntegerField(allow_null=True, min_value=0, max_value=100)
    model = serializers.CharField(allow_null=True, help_text="lightgbm, naive_bayes, rules or outcome")
    model_version = serializers.IntegerField(allow_null=True)
    factors = FactorSerializer(many=True)


class RecommendationSerializer(serializers.ModelSerializer):
    opportunity_id = serializers.IntegerField(read_only=True, allow_null=True)
    lead_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Recommendation
        fields = ["id", "opportunity_id", "lead_id", "code", "action", "reason", "priority", "status",
                  "created_at", "decided_at", "task_id"]
        read_only_fields = fields


class ScoringModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoringModel
        fields = ["id", "kind", "version", "algorithm", "is_active", "metrics", "trained_at", "promoted_at"]
        read_only_fields = fields


class TrainSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)


class TrainResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=["done", "queued"])
    promoted = serializers.BooleanField(allow_null=True)
    decision = serializers.CharField(allow_blank=True)
    models = serializers.ListField(child=serializers.DictField(), required=False)
    compared = serializers.DictField(required=False)


class AnalyticsSerializer(serializers.Serializer):
    report = serializers.CharField()
    group_by = serializers.ChoiceField(choices=GROUPS)
    rows = serializers.ListField(child=serializers.DictField())
