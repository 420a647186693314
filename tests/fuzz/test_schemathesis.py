"""An outside client fuzzes the API: schemathesis over every operation as admin, rep and read_only.

Each role's run walks every operation of the OpenAPI schema with generated valid and invalid
input (fixed seed, bounded examples) on the permission matrix's world, each call in a savepoint
rolled back after it, so every call meets the same records. It must find no server error, no
answer that contradicts the schema (status, content type, body), and no answer without a
Content-Security-Policy header.
"""

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Examples per operation (valid and invalid input mixed); FUZZ_MAX_EXAMPLES=200 searches deeper by hand.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@pytest.fixture(scope="module")
def api_schema(world, django_db_blocker):
    """The API's own OpenAPI document, served by the WSGI app that is fuzzed in process.

    A WSGI handler closes, at the start and end of each request, a connection left inside a
    transaction; the world lives in one, so those hooks are off while the app is fuzzed (as in
    Django's test client).
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock():
            yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.fixture
def unthrottled(settings):
    """The fuzzer sends thousands of requests a minute as one user."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user_minute": "1000000/min"}}


def _strategy(operation):
    return st.one_of([operation.as_strategy(generation_mode=mode) for mode in GenerationMode])


def fuzz_operation(operation, user) -> str | None:
    """The first failure found on one operation as `user`, or None.

    Each case is sent inside a savepoint rolled back after it, so every case meets the same world.
    The seed is fixed (derandomized) and nothing is shrunk: the report names the failing request.
    """
    auth = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}
    found: list[str] = []

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @given(case=_strategy(operation))
    def run(case):
        if found:
            return
        with transaction.atomic():
            response = case.call(headers=auth)
            transaction.set_rollback(True)
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except FailureGroup as exc:
            found.append(f"{operation.label}: {str(exc).strip()[:1500]}")
            return
        if not response.headers.get("content-security-policy"):
            found.append(f"{operation.label}: answered {response.status_code} without a Content-Security-Policy")

    run()
    return found[0] if found else None


def fuzz_all(schema, user) -> list[str]:
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        failure = fuzz_operation(operation, user)
        if failure:
            failures.append(failure)
    return failures


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "rep", "read_only"])
def test_no_server_error_and_no_schema_violation(api_schema, world, unthrottled, role):
    failures = fuzz_all(api_schema, getattr(world, role))

    assert failures == [], "\n\n".join(failures)
