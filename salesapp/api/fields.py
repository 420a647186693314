"""Serializer fields of the house: the field policy (salesapp.fields) and bounded numbers."""

from django.db.models import Model
from rest_framework import serializers

from salesapp import fields as policy
from salesapp.filters import MAX_BIGINT
from salesapp.models import LawfulBasis


class FieldPolicyMixin:
    """For ModelSerializers: a restricted field the requesting user may not read is absent from the
    answer (not null); sending one they may not write answers 403 naming it, before anything is written.

    Without a request in the context the restricted fields are absent. The OpenAPI schema shows them
    all, as optional.
    """

    def _policy_user(self):
        return getattr(self.context.get("request"), "user", None)

    def get_fields(self):
        fields = super().get_fields()
        if getattr(self.context.get("view"), "swagger_fake_view", False):
            return fields
        for name in policy.hidden(self._policy_user(), self.Meta.model):
            fields.pop(name, None)
        return fields

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            policy.require_write(self._policy_user(), self.Meta.model, list(data.keys()))
        return super().to_internal_value(data)


# --- bounded numbers: what a column can hold, so a bigger value is a 400 naming the field --------------

MAX_INT32 = 2**31 - 1  # the smallest integer column (PostgreSQL `integer`)


class IdField(serializers.IntegerField):
    """A record id: a whole number from 1 to 2^63 - 1."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(**kwargs)


class CountField(serializers.IntegerField):
    """A whole quantity (employees, minutes, capacity): 0 to 2^31 - 1 unless bounds are given."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_INT32)
        super().__init__(**kwargs)


class RecordField(serializers.PrimaryKeyRelatedField):
    """A record by id (a bounded IdField, so an id no column holds is refused before any lookup).

    An update that sends back the id the record already points to (a PUT of what a GET answered) gets
    the related record the instance was read with, without a lookup: it was checked when it was set.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", IdField())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        instance = getattr(self.parent, "instance", None)  # a many=True child's parent is the list field
        if isinstance(instance, Model) and not isinstance(data, bool):
            field = instance._meta.get_field(self.source)
            if field.many_to_one and field.is_cached(instance) and str(getattr(instance, field.attname)) == str(data):
                return getattr(instance, self.source)
        return super().to_internal_value(data)


class PersonalDataStateMixin(serializers.Serializer):
    """For serializers of records about a person (leads, contacts): the lawful basis, read-only there, may be
    blank (none recorded), and the schema says so (a read-only ModelSerializer field would drop the blank)."""

    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices, allow_blank=True, read_only=True)
