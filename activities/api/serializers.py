"""API shapes of activities and timeline entries (validation lives in activities.services)."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from activities.models import ActivityType
from activities.selectors import STATUS_DONE, STATUS_OPEN
from salesapp.api.fields import CountField, IdField


class ActivityMetadataSerializer(serializers.Serializer):
    email_opened = serializers.BooleanField(required=False)
    email_clicked = serializers.BooleanField(required=False)
    call_recording_url = serializers.CharField(required=False, allow_blank=True)
    meeting_notes = serializers.CharField(required=False, allow_blank=True)


@extend_schema_field({"type": "string", "pattern": "^(email|call|meeting|demo|task)$",
                     "description": "email, call, meeting, demo or task"})
class ActivityTypeField(serializers.ChoiceField):
    """The activity type (a pattern in the schema: several apps have a field named `type`)."""

    def __init__(self, **kwargs):
        super().__init__(choices=ActivityType.choices, **kwargs)


class ActivitySerializer(serializers.Serializer):
    """An activity: email, call, meeting, demo or task."""

    id = serializers.IntegerField(read_only=True)
    type = ActivityTypeField()
    subject = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    lead_id = IdField(required=False, allow_null=True, default=None)
    opportunity_id = IdField(required=False, allow_null=True, default=None)
    account_id = IdField(required=False, allow_null=True, default=None)
    contact_id = IdField(required=False, allow_null=True, default=None)
    user_id = IdField(required=False, allow_null=True, default=None, help_text="Owner or assignee; defaults to you")
    created_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    outcome = serializers.CharField(required=False, allow_blank=True, default="")
    duration_minutes = CountField(required=False, allow_null=True, default=None)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    completed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    occurred_at = serializers.DateTimeField(read_only=True)
    participants = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    metadata = serializers.JSONField(required=False, default=dict, help_text="email_opened, email_clicked, call_recording_url, meeting_notes")
    created_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Original time (admins only, for history imports)")
    updated_at = serializers.DateTimeField(read_only=True)
    status = serializers.SerializerMethodField()

    def get_status(self, obj) -> str:
        return STATUS_DONE if obj.get("completed_at") else STATUS_OPEN


class ActivityUpdateSerializer(ActivitySerializer):
    """Changing an activity: send only what changes; metadata keys merge."""

    type = ActivityTypeField(required=False)
    created_at = serializers.DateTimeField(read_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if not f.read_only:
                f.required = False
                f.default = serializers.empty


class ActivityCompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(required=False, allow_blank=True)
    completed_at = serializers.DateTimeField(required=False, allow_null=True)


class TimelineEntrySerializer(serializers.Serializer):
    """One timeline line: an activity, or system history (stage change, assignment, conversion, score)."""

    type = serializers.ChoiceField(choices=[("activity", "Activity"), ("history", "History")])
    kind = serializers.CharField()
    time = serializers.DateTimeField()
    title = serializers.CharField()
    detail = serializers.CharField()
    actor = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    refs = serializers.DictField(child=serializers.IntegerField())
    key = serializers.CharField()
    activity = ActivitySerializer(allow_null=True)


class TimelinePageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = TimelineEntrySerializer(many=True)


@extend_schema_serializer(many=False)  # the list answers one page object, not a list of pages
class ActivityPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ActivitySerializer(many=True)
