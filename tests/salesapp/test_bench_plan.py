"""The bench plan's rows do what their names say: the search row searches, the list row lists, the create row creates."""

import pytest

from leads.models import Lead
from tests.bench import plan
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_the_search_row_finds_only_the_leads_matching_its_term(rep, api):
    LeadFactory(company="Globex Corporation", assigned_to=rep)
    LeadFactory(company="Initech", assigned_to=rep)

    response = api.as_user(rep).get(plan.lead_search_path("Globex"))

    assert response.status_code == 200
    assert [row["company"] for row in response.json()["results"]] == ["Globex Corporation"]


def test_the_list_row_lists_new_leads_only(rep, api):
    LeadFactory(company="Fresh", assigned_to=rep, status="new")
    LeadFactory(company="Called", assigned_to=rep, status="contacted")

    response = api.as_user(rep).get(plan.LEADS_LIST_PATH)

    assert [row["company"] for row in response.json()["results"]] == ["Fresh"]


def test_the_create_row_creates_a_lead_each_time(rep, api):
    for i in range(2):
        response = api.as_user(rep).post(plan.LEADS_PATH, plan.lead_create_body(i), format="json")
        assert response.status_code == 201, response.content

    assert Lead.objects.count() == 2
