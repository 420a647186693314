"""Structured logs: a request id from X-Request-ID (or made) that follows the request into its log lines,
tasks and events; one JSON line per request; emails and phone numbers masked in every line."""

import io
import json
import logging

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from salesapp import events, logs
from salesapp.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The production formatting (settings.LOGGING's json formatter and filters) of salesapp.request, captured."""
    stream = io.StringIO()
    spec = {k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(**spec))
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(logs.PersonalDataMask())
    logger = logging.getLogger("salesapp.request")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_callers_request_id_is_answered_and_logged_with_user_route_status_and_duration(client, rep,
                                                                                           json_lines):
    client.force_login(rep)

    response = client.get("/leads/?q=someone@example.com", HTTP_X_REQUEST_ID="req-42.abc")

    assert response["X-Request-ID"] == "req-42.abc"
    [line] = [line for line in json_lines() if line["request_id"] == "req-42.abc"]
    assert line["user_id"] == rep.pk
    assert line["route"] == "leads/"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["duration_ms"] > 0
    assert line["level"] == "INFO" and line["logger"] == "salesapp.request"
    # the address in the query string is masked
    assert "someone@example.com" not in json.dumps(line)
    assert "s***@example.com" in line["message"]


def test_a_request_without_an_id_or_with_a_forged_one_gets_a_fresh_one(client):
    made = client.get("/healthz")["X-Request-ID"]
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x" injected\nline')["X-Request-ID"]

    assert len(made) == 32 and made != client.get("/healthz")["X-Request-ID"]
    assert len(forged) == 32 and "injected" not in forged


def test_an_anonymous_request_logs_no_user(client, json_lines):
    client.get("/healthz", HTTP_X_REQUEST_ID="anon-1")

    [line] = [line for line in json_lines() if line["request_id"] == "anon-1"]
    assert line["user_id"] is None and line["route"] == "healthz"


def test_events_published_by_a_request_carry_its_id(api, rep):
    response = api.as_user(rep).post("/api/v1/leads/", {"first_name": "Ada", "last_name": "Byron", "email": "ada@example.com",
                                          "company": "Engines"}, format="json", HTTP_X_REQUEST_ID="create-lead-7")

    assert response.status_code == 201, response.content
    created = OutboxEvent.objects.get(name="lead.created", payload__lead_id=response.json()["id"])
    assert created.request_id == "create-lead-7"
    # and the event travels to the consumers with it (they run with it as their request id)
    assert events.event_dict(created)["request_id"] == "create-lead-7"


def test_tasks_sent_during_a_request_carry_its_id_in_their_headers():
    token = logs.request_id_var.set("req-for-task")
    try:
        headers = {}
        logs._request_id_out(headers=headers)
    finally:
        logs.request_id_var.reset(token)

    assert headers == {"request_id": "req-for-task"}


def _record(msg, *args, exc_info=None, **extra):
    record = logging.LogRecord("salesapp.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    logs.PersonalDataMask().filter(record)
    return record


@pytest.mark.parametrize(("text", "masked"), [
    ("lead jane.doe+sales@acme-corp.co.uk merged", "lead j***@acme-corp.co.uk merged"),
    ("call +1 (415) 555-0134 back", "call ***34 back"),
    ("call 0044 20 7946 0958", "call ***58"),
    ("phone 415.555.0199", "phone ***99"),
    ("mobile 07911 123456", "mobile ***56"),
    ("e164 +14155550134", "e164 ***34"),
    ("GET /leads/?q=jane%40acme.com 200", "GET /leads/?q=***%40acme.com 200"),
    ("GET /login/?next=/leads/%3Fq%3Djane%40acme.com", "GET /login/?next=/leads/***%40acme.com"),
])
def test_emails_and_phone_numbers_are_masked(text, masked):
    assert _record(text).getMessage() == masked


@pytest.mark.parametrize("text", [
    "job 12 at 2026-12-02 05:48:53 took 1234 ms",
    "event 4f1c2e8a-1234-5678-9abc-def012345678 applied",
    "lead 123456 scored 0.8123",
    "GET /api/v1/leads/?page=2 200",
    '"GET /leads/ HTTP/1.1" 200 51234',
    "sign-in locked out from 203.0.113.66",
    "epoch 1796190828 and amount 1234567.89",
])
def test_dates_ids_and_numbers_are_left_alone(text):
    assert _record(text).getMessage() == text


def test_arguments_extra_fields_and_tracebacks_are_masked_too():
    try:
        raise ValueError("no account for bob@example.org")
    except ValueError:
        import sys
        exc_info = sys.exc_info()

    record = _record("sign-in of %s from %s", "bob@example.org", "+44 20 7946 0958", exc_info=exc_info,
                     username="bob@example.org")

    assert record.getMessage() == "sign-in of b***@example.org from ***58"
    assert record.username == "b***@example.org"
    assert "bob@" not in record.exc_text and "b***@example.org" in record.exc_text
    assert "bob@" not in logging.Formatter().format(record)
