"""Structured logs: the request id, who and what each line is about, and no personal data in any line.

- `RequestLogMiddleware` takes the caller's `X-Request-ID` (or makes one), answers it in the same header, and
  holds it, with the user and the route, for every line logged while the request runs; at the end it logs
  one line per request (`salesapp.request`: route, method, status, duration) at INFO.
- The request id travels on: in the headers of every Celery task sent while it runs (and is held again while
  the task runs), and on every event published (OutboxEvent.request_id), so consumers log it too.
- `ContextFilter` puts request_id, user_id and route on every record; `PersonalDataMask` masks email
  addresses and phone numbers in the message, its arguments, extra fields and tracebacks. Both sit on the
  handlers (settings.LOGGING), so records of every logger pass through them.

Lines are JSON when LOG_FORMAT=json (the production default), plain text otherwise; the plain console of the
embedded default leaves the request lines out (runserver prints its own).
"""

import logging
import re
import time
import traceback
import uuid
from contextvars import ContextVar

from celery import signals
from django.utils.functional import empty

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is taken only if it is short and plain, so it cannot forge log lines or carry personal data.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)
route_var: ContextVar[str] = ContextVar("route", default="")

log = logging.getLogger("salesapp.request")


def current_request_id() -> str:
    """The id of the request (or task) this code runs for; empty outside of one."""
    return request_id_var.get()


def _request_id(given: str) -> str:
    return given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex


def _user_id(request) -> int | None:
    """The signed-in user's id, without loading a user nobody asked for (an untouched lazy user stays so)."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class RequestLogMiddleware:
    """Hold the request's id for its log lines and tasks, answer it in X-Request-ID, log the request once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        request.request_id = _request_id(request.headers.get(REQUEST_ID_HEADER, ""))
        tokens = [(request_id_var, request_id_var.set(request.request_id)), (user_id_var, user_id_var.set(None)),
                  (route_var, route_var.set(""))]
        try:
            response = self.get_response(request)
            match = getattr(request, "resolver_match", None)
            route_var.set(match.route if match is not None else "unmatched")
            user_id_var.set(_user_id(request))
            response[REQUEST_ID_HEADER] = request.request_id
            if log.isEnabledFor(logging.INFO):  # the plain console leaves request lines to runserver
                log.info("%s %s %s", request.method, request.get_full_path(), response.status_code, extra={
                    "method": request.method, "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                })
            return response
        finally:
            for var, token in reversed(tokens):
                var.reset(token)


class ContextFilter(logging.Filter):
    """Put the current request id, user id and route on every record (empty outside of a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", "") or request_id_var.get()
        record.user_id = getattr(record, "user_id", None) or user_id_var.get()
        record.route = getattr(record, "route", "") or route_var.get()
        return True


EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
# An address as a URL carries it (%40 for the @): the whole encoded run before it goes.
ENCODED_EMAIL = re.compile(r"(?:[\w.+-]|%[0-9A-Fa-f]{2})+%40([\w-]+(?:\.[\w-]+)+)")
# Candidates for a phone number: an optional +, then digits with spaces, dots, dashes or brackets between them.
PHONE = re.compile(r"(?<![\w.:/-])(\+?\(?\d[\d\s().-]{6,18}\d)(?![\w:])")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "user_id", "route"}


def _phone(match: re.Match) -> str:
    """A candidate is a phone when it has 8 to 15 digits and looks dialled: written with a leading +, in three
    or more groups (415 555 0134), or in two groups of ten digits or more (07911 123456). So a status and a
    size ("200 51234"), a date, an IPv4 address or a bare id stay as they are."""
    text = match.group(1)
    digits = re.sub(r"\D", "", text)
    groups = len(re.findall(r"\d+", text))
    dialled = text.startswith("+") or groups >= 3 or (groups == 2 and len(digits) >= 10)
    if not (8 <= len(digits) <= 15 and dialled) or DATE.search(text) or IPV4.fullmatch(text.strip()):
        return match.group(0)
    return "***" + digits[-2:]


def mask(text: str) -> str:
    """The text with email addresses (first letter and domain kept) and phone numbers (last two digits kept)
    masked: `j***@example.com`, `***42` (in a URL `***%40example.com`)."""
    return PHONE.sub(_phone, ENCODED_EMAIL.sub(r"***%40\1", EMAIL.sub(r"\1***@\2", text)))


class PersonalDataMask(logging.Filter):
    """Mask emails and phone numbers in everything a record will print: the message with its arguments,
    string extra fields, and the traceback (rendered here, so every formatter prints the masked one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        for name, value in vars(record).items():
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, mask(value))
        if record.exc_info:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


# --- Celery: the request id travels with every task sent while a request (or task) runs --------------------

@signals.before_task_publish.connect(dispatch_uid="salesapp-logs-request-id-out")
def _request_id_out(headers=None, **kwargs) -> None:
    if headers is not None and request_id_var.get():
        headers.setdefault("request_id", request_id_var.get())


@signals.task_prerun.connect(dispatch_uid="salesapp-logs-request-id-in")
def _request_id_in(task=None, **kwargs) -> None:
    # An eager task runs inside its caller's context and already holds its id.
    given = getattr(task.request, "request_id", None) if task is not None else None
    if given and not task.request.is_eager:
        request_id_var.set(given)


@signals.task_postrun.connect(dispatch_uid="salesapp-logs-request-id-done")
def _request_id_done(task=None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        request_id_var.set("")
