"""Quota API shapes."""

from rest_framework import serializers

from quotas.models import Quota
from quotas.services import METHODS
from salesapp.api.fields import IdField


class QuotaSerializer(serializers.ModelSerializer):
    """A quota as the API shows it."""

    user_id = IdField(allow_null=True, required=False)
    territory_id = IdField(allow_null=True, required=False)
    parent_id = IdField(allow_null=True, required=False)
    holder_name = serializers.CharField(read_only=True)

    class Meta:
        model = Quota
        fields = [
            "id", "user_id", "territory_id", "holder_name", "period", "period_kind", "quota_type", "quota_amount",
            "attainment_amount", "attainment_percentage", "start_date", "end_date", "parent_id", "status",
            "attained_at", "created_at", "updated_at",
        ]
        read_only_fields = ["period_kind", "attainment_amount", "attainment_percentage", "start_date", "end_date",
                            "attained_at", "created_at", "updated_at"]


class QuotaUpdateSerializer(serializers.Serializer):
    """What may change on a quota: its amount, state and parent."""

    quota_amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    status = serializers.ChoiceField(choices=Quota.Status.choices, required=False)
    parent_id = IdField(allow_null=True, required=False)


class AllocationRequestSerializer(serializers.Serializer):
    """How to split a quota among direct reports or child territories."""

    method = serializers.ChoiceField(choices=[(m, m) for m in METHODS])
    amounts = serializers.DictField(
        child=serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0), required=False,
        help_text="manual: child user or territory id -> amount",
    )
    dry_run = serializers.BooleanField(default=False, help_text="show the plan without writing it")


class AllocationRowSerializer(serializers.Serializer):
    kind = serializers.CharField()
    holder_id = serializers.IntegerField()
    name = serializers.CharField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    current = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    basis = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)


class AllocationSerializer(serializers.Serializer):
    quota_id = serializers.IntegerField(source="quota.pk")
    method = serializers.CharField()
    quota_amount = serializers.DecimalField(source="quota.quota_amount", max_digits=16, decimal_places=2)
    allocated = serializers.DecimalField(max_digits=16, decimal_places=2)
    gap = serializers.DecimalField(max_digits=16, decimal_places=2)
    state = serializers.ChoiceField(choices=["over", "under", "balanced"])
    note = serializers.CharField()
    rows = AllocationRowSerializer(many=True)


class RollupEntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    name = serializers.CharField()
    quota_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    quota_amount = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    attainment_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    attainment_percentage = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)


class RollupTotalsSerializer(serializers.Serializer):
    quota_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    attainment_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    attainment_percentage = serializers.DecimalField(max_digits=9, decimal_places=2)


class RollupAllocationSerializer(serializers.Serializer):
    quota_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    allocated = serializers.DecimalField(max_digits=16, decimal_places=2)
    gap = serializers.DecimalField(max_digits=16, decimal_places=2)
    state = serializers.CharField()


class RollupSerializer(serializers.Serializer):
    period = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    quota_type = serializers.CharField()
    node = RollupEntrySerializer()
    children = RollupEntrySerializer(many=True)
    totals = RollupTotalsSerializer()
    allocation = RollupAllocationSerializer(allow_null=True)


class AttainmentQuotaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    quota_type = serializers.CharField()
    status = serializers.CharField()
    quota_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    attainment_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    attainment_percentage = serializers.DecimalField(max_digits=9, decimal_places=2)
    attained_at = serializers.DateTimeField(allow_null=True)


class AttainmentSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    period = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    quotas = AttainmentQuotaSerializer(many=True)
