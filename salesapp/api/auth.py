"""API authentication that also records the acting user for the audit log.

The audit middleware runs before DRF authenticates a bearer token, so it sees
an anonymous user; these classes put the authenticated user into the audit
context once DRF knows who it is.
"""

from auditlog.context import auditlog_value
from rest_framework.authentication import SessionAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication


def _record_actor(result):
    if result is not None:
        try:
            context = auditlog_value.get()
        except LookupError:
            return result
        if context.get("actor") is None:
            context["actor"] = result[0]
    return result


class AuditedJWTAuthentication(JWTAuthentication):
    """JWT bearer tokens (`Authorization: Bearer <access>`)."""

    def authenticate(self, request):
        return _record_actor(super().authenticate(request))


class AuditedSessionAuthentication(SessionAuthentication):
    """Browser sessions (CSRF-checked)."""

    def authenticate(self, request):
        return _record_actor(super().authenticate(request))
