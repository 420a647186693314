"""Middleware of the kernel."""

from http import HTTPStatus

from auditlog.context import auditlog_value
from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's policy built once instead of per response.

    django-csp rebuilds the header for every response (~55 µs, a few per cent of a list request),
    although it only differs for a view that asks for its own policy (`csp_update`, `csp_replace`,
    `csp_exempt`...) or a template that takes a nonce: those, and DEBUG's error pages, still take
    django-csp's own path.
    """

    PER_RESPONSE = ("_csp_exempt", "_csp_exempt_ro", "_csp_update", "_csp_update_ro", "_csp_replace",
                    "_csp_replace_ro", "_csp_config", "_csp_config_ro")

    def __init__(self, get_response):
        super().__init__(get_response)
        self.header = build_policy(config=settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
        self.report_only = bool(getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None))

    def process_response(self, request, response):
        per_response = (
            self.report_only or HEADER in response or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in self.PER_RESPONSE)
            or (settings.DEBUG and response.status_code in (HTTPStatus.NOT_FOUND, HTTPStatus.INTERNAL_SERVER_ERROR))
        )
        if per_response:
            return super().process_response(request, response)
        response[HEADER] = self.header
        return response
