"""Fixtures for the kernel's tests: real bearer tokens obtained through the API, a low throttle rate."""

import time

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

PASSWORD = "test-pass-123"  # UserFactory's password


@pytest.fixture
def bearer():
    """`bearer(user)` -> an API client carrying a real JWT access token for that user."""

    def client_for(user, password: str = PASSWORD) -> APIClient:
        client = APIClient()
        response = client.post("/api/v1/auth/token/", {"email": user.email, "password": password}, format="json")
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        client.tokens = response.json()
        return client

    return client_for



@pytest.fixture
def limit_of_three(settings):
    """The API allows three requests per user per minute."""
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user_minute": "3/min"},
    }
    # The window is a calendar minute; do not start in its last seconds.
    if time.time() % 60 > 55:
        time.sleep(60.5 - time.time() % 60)
