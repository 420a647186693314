"""Per-user throttling: past the per-minute limit the API answers 429."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_request_past_the_limit_is_429_in_the_error_shape(limit_of_three, api, rep, other_rep):
    client = api.as_user(rep)
    # Given three requests within the minute
    assert [client.get("/api/v1/users/me/").status_code for _ in range(3)] == [200, 200, 200]
    # When the rep sends a fourth
    response = client.get("/api/v1/users/me/")
    # Then it is refused with 429 and a hint when to retry
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert response.json()["error"]["fields"] == {}
    assert int(response["Retry-After"]) <= 60
    # And another user is not affected
    assert api.as_user(other_rep).get("/api/v1/users/me/").status_code == 200

