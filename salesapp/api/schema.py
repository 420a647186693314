"""The OpenAPI schema (drf-spectacular): our authentication classes, nullable read-only fields,
and the error answers every operation may give.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class AuditedJWTScheme(OpenApiAuthenticationExtension):
    target_class = "salesapp.api.auth.AuditedJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer", bearer_format="JWT")


class ProviderAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "salesapp.oidc.ProviderAccessTokenAuthentication"
    name = "oidcAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer", bearer_format="JWT")


class AuditedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "salesapp.api.auth.AuditedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


# --- errors: one shape, documented on every operation ----------------------------------------------------

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a code, a message, and per-field messages for invalid input "
                   "(nested input gives nested fields).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "validation_error"},
                "message": {"type": "string", "example": "email: Enter a valid email address."},
                "fields": {"type": "object", "additionalProperties": {}},
            },
            "required": ["code", "message", "fields"],
        },
    },
    "required": ["error"],
}
# What any operation may answer besides its success: bad input, sign in first, refused by role
# (or by the field policy), not found or out of sight, too many requests.
ERROR_STATUSES = {
    "400": "Invalid input: `fields` names each bad field.",
    "401": "Not signed in, or the token is invalid or expired.",
    "403": "The role (or the field policy) does not allow this.",
    "404": "No such record, or not one the user may see.",
    "429": "Too many requests: wait and try again.",
}
# Only operations that take a body: the body was not JSON (or, for uploads, not form data).
BODY_ERROR_STATUSES = {"415": "Unsupported media type: send JSON."}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the error answers it may give,
    all in the one error shape (salesapp.api.errors), unless the view already described that status.
    """
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            statuses = {**ERROR_STATUSES, **(BODY_ERROR_STATUSES if "requestBody" in operation else {})}
            for status, description in statuses.items():
                responses.setdefault(status, {"content": {"application/json": {"schema": reference}},
                                              "description": description})
    return result


# --- read-only fields say null when their column may be null ------------------------------------------

def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return next((f for f in model._meta.concrete_fields if f.attname == name), None)


def source_is_nullable(field) -> bool:
    """Whether the model column behind a serializer field may hold null (or a relation on its path may)."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    for attr in getattr(field, "source_attrs", None) or []:
        if model is None:
            return False
        model_field = _model_field(model, attr)
        if model_field is None:
            return False
        if getattr(model_field, "null", False):
            return True
        model = model_field.related_model
    return False


class SalesAutoSchema(AutoSchema):
    """The schema of every view: a read-only field declared by hand (`territory_id = IntegerField(read_only=True)`)
    is nullable when its column is, as the answers show.
    """

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if getattr(field, "read_only", False) and not field.allow_null and source_is_nullable(field):
            meta["nullable"] = True
        return meta
