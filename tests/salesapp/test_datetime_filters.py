"""Date-time filters take any ISO 8601 offset and compare in UTC; a time the database cannot hold is a 400."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/accounts/", "/api/v1/contacts/", "/api/v1/opportunities/", "/api/v1/leads/"])
def test_an_offset_postgresql_refuses_is_compared_in_utc(api, path):
    # ISO 8601 allows offsets up to ±23:59; PostgreSQL only ±15:59.
    assert api.get(path, {"created_before": "0272-06-20T01:14:50-23:38"}).status_code == 200


@pytest.mark.django_db
def test_a_time_before_the_year_1_in_utc_names_the_parameter(api):
    response = api.get("/api/v1/accounts/", {"created_after": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400
    assert "created_after" in response.json()["error"]["fields"]
