"""Searches across kinds leave a data-access entry naming the user and what was shown."""

import pytest
from rest_framework.test import APIClient

from salesapp.models import DataAccess
from tests.leads.factories import LeadFactory


@pytest.mark.django_db
def test_a_search_through_the_api_is_recorded_with_what_it_showed(rep):
    lead = LeadFactory(assigned_to=rep, first_name="Audrey", last_name="Searchable", company="Audit Works")
    client = APIClient()
    client.force_authenticate(rep)
    response = client.get("/api/v1/search/", {"q": "Searchable"})
    assert response.status_code == 200
    assert [hit["id"] for hit in response.json()["results"]] == [lead.pk]
    entry = DataAccess.objects.get(user=rep, kind="search")
    assert entry.model == "leads.lead" and entry.object_ids == [lead.pk]
    assert entry.filters.get("q") == "Searchable"
