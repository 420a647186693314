"""Middleware of the kernel."""

from auditlog.context import auditlog_value


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
