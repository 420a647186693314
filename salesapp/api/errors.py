"""One JSON error shape for every API error.

    {"error": {"code": "validation_error", "message": "...",
               "fields": {"email": ["Enter a valid email address."]}}}
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from salesapp.fields import FieldPermissionDenied


def _flatten(detail):
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(d, (dict, list)) for d in detail):
            return [str(d) for d in detail]
        return [_flatten(d) for d in detail]
    return [str(detail)]


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, FieldPermissionDenied):
        response = drf_exception_handler(exceptions.PermissionDenied(str(exc)), context)
        response.data = {"error": {"code": "field_forbidden", "message": str(exc),
                                   "fields": {exc.field: ["Your role may not change this field."]}}}
        return response
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    body = {"code": getattr(exc, "default_code", "error"), "message": "", "fields": {}}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "validation_error"
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body["fields"] = _flatten(detail)
        first_field, first_errors = next(iter(body["fields"].items()), ("", [""]))
        first = first_errors[0] if first_errors and isinstance(first_errors[0], str) else "invalid"
        body["message"] = first if first_field == "non_field_errors" else f"{first_field}: {first}"
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body["message"] = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        if isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            body["code"] = codes if isinstance(codes, str) else body["code"]
    response.data = {"error": body}
    return response


def validation_error(field: str, message: str) -> exceptions.ValidationError:
    """A DRF validation error naming one field."""
    return exceptions.ValidationError({field: [message]}, code="invalid")

