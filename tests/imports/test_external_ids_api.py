"""External ids from the system records were imported from: shown in the API and filterable."""

import pytest

from salesapp.roles import Role
from tests.leads.factories import LeadFactory
from tests.opportunities.factories import OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_leads_and_deals_show_and_filter_by_their_external_id(api):
    admin = UserFactory(role=Role.ADMIN)
    LeadFactory(external_id="LD-1")
    lead = LeadFactory(external_id="LD-2")
    deal = OpportunityFactory(external_id="OPP-1")
    OpportunityFactory()
    client = api.as_user(admin)
    assert [r["id"] for r in client.get("/api/v1/leads/?external_id=LD-2").json()["results"]] == [lead.pk]
    assert client.get(f"/api/v1/leads/{lead.pk}/").json()["external_id"] == "LD-2"
    assert [r["id"] for r in client.get("/api/v1/opportunities/?external_id=OPP-1").json()["results"]] == [deal.pk]
    assert client.get(f"/api/v1/opportunities/{deal.pk}/").json()["external_id"] == "OPP-1"
