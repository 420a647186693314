"""Lean writes: creating a lead and moving a deal, through the API with a bearer token, in few statements.

The request does the write's own work (validate, route, score, the record, its history, the
outbox row, the audit entry); consumers run in the worker. A warm process is measured: the
second request of a user, as in production (the first fills the permission and reach caches).
"""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from leads.models import Lead
from opportunities.models import Opportunity, StageHistory
from salesapp.models import OutboxEvent
from tests.opportunities.factories import OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


def _bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def _lead(n: int) -> dict:
    return {"first_name": "Ann", "last_name": f"Lee {n}", "email": f"ann{n}@acme{n}.example", "company": f"Acme {n}",
            "country": "US", "state": "CA", "industry": "technology", "source": "web"}


def test_creating_a_lead_takes_at_most_12_queries(django_assert_max_num_queries):
    manager = UserFactory(role="sales_manager")
    client = _bearer(manager)
    assert client.post("/api/v1/leads/", _lead(0), format="json").status_code == 201

    with django_assert_max_num_queries(12):
        response = client.post("/api/v1/leads/", _lead(1), format="json")

    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.email == "ann1@acme1.example"
    assert OutboxEvent.objects.filter(name="lead.created", payload__lead_id=lead.pk).exists()


def _put_body(client, deal, **changes) -> dict:
    """What a client PUTs back: the record as a GET answered it, with its changes (as the bench does)."""
    body = client.get(f"/api/v1/opportunities/{deal.pk}/").json()
    body = {k: v for k, v in body.items() if not isinstance(v, (dict, list)) or k == "contact_ids"}
    return {**body, **changes}


def test_moving_a_deal_with_a_put_takes_at_most_8_queries(django_assert_max_num_queries):
    rep = UserFactory(role="sales_rep")
    deals = [OpportunityFactory(owner=rep) for _ in range(2)]
    client = _bearer(rep)
    first = _put_body(client, deals[0], stage="qualification")
    assert client.put(f"/api/v1/opportunities/{deals[0].pk}/", first, format="json").status_code == 200
    body = _put_body(client, deals[1], stage="qualification", next_step="Send the proposal")

    # Counted inside the test's transaction, which adds a savepoint pair around the service's own.
    with django_assert_max_num_queries(8 + 2):
        response = client.put(f"/api/v1/opportunities/{deals[1].pk}/", body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "qualification"
    assert Opportunity.objects.get(pk=deals[1].pk).next_step == "Send the proposal"
    assert StageHistory.objects.filter(opportunity=deals[1], to_stage="qualification").exists()
    assert OutboxEvent.objects.filter(name="opportunity.stage_changed", payload__opportunity_id=deals[1].pk).exists()
