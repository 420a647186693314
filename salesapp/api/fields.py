"""The field policy (salesapp.fields) in API serializers."""

from salesapp import fields as policy


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
