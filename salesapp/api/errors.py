"""One JSON error shape for every API error.

    {"error": {"code": "validation_error", "message": "...",
               "fields": {"email": ["Enter a valid email address."]}}}

Nested input gives nested `fields` ({"items": [{}, {"amount": ["..."]}]}); whatever the nesting,
the handler answers in this shape (it walks the errors, it does not assume their depth). A request
Django itself refuses as malformed (too many fields, a body too large) answers 400 in it too.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from salesapp.fields import FieldPermissionDenied


def _flatten(detail):
    """Error details as plain JSON: dicts stay dicts, every message becomes a list of strings."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list | tuple):
        if all(not isinstance(d, dict | list | tuple) for d in detail):
            return [str(d) for d in detail]
        return [_flatten(d) for d in detail]
    return [str(detail)]


def _first_message(fields, path=()) -> tuple[tuple, str] | None:
    """The path to the first message in nested `fields`, and the message."""
    if isinstance(fields, dict):
        items = fields.items()
    elif isinstance(fields, list):
        items = enumerate(fields)
    else:
        return path, str(fields)
    for key, value in items:
        found = _first_message(value, (*path, key) if isinstance(fields, dict) else path)
        if found is not None:
            return found
    return None


def _validation_message(fields) -> str:
    found = _first_message(fields)
    if found is None:
        return "Invalid input."
    path, message = found
    path = [str(p) for p in path if p != "non_field_errors"]
    return f"{'.'.join(path)}: {message}" if path else message


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or None)
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
        body["message"] = _validation_message(body["fields"])
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
