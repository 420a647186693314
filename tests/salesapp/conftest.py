"""Fixtures for the kernel's tests: real bearer tokens obtained through the API."""

import pytest
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

