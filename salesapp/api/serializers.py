"""Serializers for users and events."""

from django.contrib.auth.password_validation import validate_password
from rest_framework import serializers

from salesapp.api.fields import FieldPolicyMixin, RecordField
from salesapp.models import OutboxEvent, User
from salesapp.roles import Role


class UserSerializer(FieldPolicyMixin, serializers.ModelSerializer):
    """A user as the API shows it; `on_target_earnings` only for roles the field policy allows."""

    manager = RecordField(queryset=User.objects.all(), allow_null=True, required=False)
    full_name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "full_name", "role", "manager", "is_active", "date_joined",
                  "on_target_earnings"]
        read_only_fields = ["is_active", "date_joined"]

    def validate_password(self, value):
        """A password given on create or update passes the password rules (AUTH_PASSWORD_VALIDATORS)."""
        validate_password(value, user=self.instance)
        return value


class UserCreateSerializer(UserSerializer):
    """Creating a user: email, password, role and manager."""

    password = serializers.CharField(write_only=True, min_length=8, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=Role.choices, default=Role.SALES_REP)

    class Meta(UserSerializer.Meta):
        fields = UserSerializer.Meta.fields + ["password"]


class UserUpdateSerializer(UserSerializer):
    """Changing a user; the password is optional."""

    password = serializers.CharField(write_only=True, min_length=8, required=False)
    role = serializers.ChoiceField(choices=Role.choices, required=False)

    class Meta(UserSerializer.Meta):
        fields = UserSerializer.Meta.fields + ["password"]
        read_only_fields = ["is_active", "date_joined", "email"]


class UnlockResultSerializer(serializers.Serializer):
    """A user unlocked: how many records of failed sign-ins were removed."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    failure_records_removed = serializers.IntegerField()


class EventSerializer(serializers.ModelSerializer):
    """A published event."""

    class Meta:
        model = OutboxEvent
        fields = ["id", "name", "payload", "created_at", "status"]
