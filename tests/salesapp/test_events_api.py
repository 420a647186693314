"""The published event stream, for admins and integrations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from salesapp import events
from salesapp.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    """Three events published at known times, oldest first."""
    now = timezone.now()
    rows = []
    for minutes_ago, name, payload in [
        (30, "quota.set", {"quota_id": 1}),
        (20, "lead.created", {"lead_id": 5}),
        (10, "quota.set", {"quota_id": 2}),
    ]:
        event = events.publish(name, payload)
        OutboxEvent.objects.filter(pk=event.pk).update(created_at=now - timedelta(minutes=minutes_ago))
        rows.append(OutboxEvent.objects.get(pk=event.pk))
    return rows


def test_admin_reads_events_newest_first_with_id_name_payload_and_time(bearer, admin_user, published):
    response = bearer(admin_user).get("/api/v1/events/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [str(e.id) for e in reversed(published)]
    first = results[0]
    assert (first["name"], first["payload"]) == ("quota.set", {"quota_id": 2})
    assert first["created_at"].startswith(published[2].created_at.isoformat()[:19])


def test_events_filter_by_name(bearer, admin_user, published):
    response = bearer(admin_user).get("/api/v1/events/", {"name": "quota.set"})
    assert [r["payload"]["quota_id"] for r in response.json()["results"]] == [2, 1]


def test_events_filter_by_since(bearer, admin_user, published):
    since = (published[1].created_at - timedelta(seconds=1)).isoformat()
    response = bearer(admin_user).get("/api/v1/events/", {"since": since})
    assert [r["name"] for r in response.json()["results"]] == ["quota.set", "lead.created"]


def test_events_page_with_a_cursor(bearer, admin_user, published):
    client = bearer(admin_user)
    first = client.get("/api/v1/events/", {"page_size": 2}).json()
    assert len(first["results"]) == 2
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [str(published[0].id)]


def test_a_bad_since_names_the_field(bearer, admin_user):
    response = bearer(admin_user).get("/api/v1/events/", {"since": "yesterday-ish"})
    assert response.status_code == 400
    assert "since" in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["manager", "rep", "viewer"])
def test_non_admins_may_not_read_events(request, bearer, who, published):
    response = bearer(request.getfixturevalue(who)).get("/api/v1/events/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
