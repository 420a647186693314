"""Middleware of the kernel."""

from auditlog.context import auditlog_value
from django.conf import settings


class AuditContextMiddleware:
    """Give each request a fresh audit context and clear it afterwards.

    django-auditlog sets its context variable per request and never resets it,
    so work done later on the same thread (a Celery task, a bulk job) would be
    blamed on the previous request's user. Sits just outside AuditlogMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = auditlog_value.set({})
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(token)


class PermissionsPolicyMiddleware:
    """Every response tells the browser which powerful features no page of ours uses (Permissions-Policy).

    The sales system needs no camera, microphone, location, payment or device access: denying them
    means an injected script or a framed page of ours cannot ask for them either.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY_DENIED)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response
