"""Signing in to the API: JWT access and refresh tokens, the current user, lifetimes."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.salesapp.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _obtain(email, password):
    return APIClient().post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")


def test_email_and_password_give_access_and_refresh_tokens(rep):
    # Given a rep with a password; when they ask for a token
    response = _obtain(rep.email, PASSWORD)
    # Then they get both tokens
    assert response.status_code == 200
    assert set(response.json()) >= {"access", "refresh"}


def test_wrong_password_is_401_in_the_one_error_shape(rep):
    response = _obtain(rep.email, "not-the-password")
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    assert error["fields"] == {}


def test_missing_email_is_400_naming_the_field():
    response = APIClient().post("/api/v1/auth/token/", {"password": "x"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]


def test_me_with_bearer_token_shows_email_and_role(rep):
    # Given a token obtained with email and password
    access = _obtain(rep.email, PASSWORD).json()["access"]
    # When the rep asks who they are
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = client.get("/api/v1/users/me/")
    # Then the API answers with their email and role
    assert response.status_code == 200
    assert response.json()["email"] == rep.email
    assert response.json()["role"] == "sales_rep"


def test_me_without_token_is_401_in_the_error_shape():
    response = APIClient().get("/api/v1/users/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_garbage_bearer_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 401
    assert "error" in response.json()


def test_refresh_rotates_and_the_old_refresh_token_is_refused_afterwards(rep):
    # Given a refresh token
    old_refresh = _obtain(rep.email, PASSWORD).json()["refresh"]
    client = APIClient()
    # When it is used once
    first = client.post("/api/v1/auth/token/refresh/", {"refresh": old_refresh}, format="json")
    # Then a new access and a new refresh token come back
    assert first.status_code == 200
    assert first.json()["refresh"] != old_refresh
    assert first.json()["access"]
    # And the old refresh token is blacklisted: using it again is refused
    again = client.post("/api/v1/auth/token/refresh/", {"refresh": old_refresh}, format="json")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "token_not_valid"
    # While the new one still works
    newer = client.post("/api/v1/auth/token/refresh/", {"refresh": first.json()["refresh"]}, format="json")
    assert newer.status_code == 200


def test_access_token_lasts_eight_hours(rep):
    access = _obtain(rep.email, PASSWORD).json()["access"]
    claims = jwt.decode(access, options={"verify_signature": False})
    assert timedelta(seconds=claims["exp"] - claims["iat"]) == timedelta(hours=8)


def test_browser_session_lasts_eight_hours(rep):
    # Given a rep signed in through the sign-in page
    client = Client()
    response = client.post("/login/", {"username": rep.email, "password": PASSWORD})
    assert response.status_code == 302
    # Then the session expires eight hours later
    assert client.session.get_expiry_age() == 8 * 3600
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
