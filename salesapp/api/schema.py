"""OpenAPI descriptions of our authentication classes (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class AuditedJWTScheme(OpenApiAuthenticationExtension):
    target_class = "salesapp.api.auth.AuditedJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer", bearer_format="JWT")


class AuditedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "salesapp.api.auth.AuditedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
