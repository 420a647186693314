"""The admin's territory rule editor: rules are fields (not JSON), with a live count of what they match."""

import pytest

from territories.models import Territory
from tests.leads.factories import LeadFactory
from tests.salesapp.factories import PicklistValueFactory
from tests.territories.factories import TerritoryFactory


@pytest.mark.django_db
def test_the_rule_editor_is_fields_and_saves_lists(admin_user, client):
    # Given a territory for California technology accounts
    PicklistValueFactory(kind="industry", value="technology")
    west = TerritoryFactory(name="US West", countries=["US"], states=["CA", "WA"], industry="technology")
    client.force_login(admin_user)
    # When the admin opens it
    page = client.get(f"/admin/territories/territory/{west.pk}/change/").content.decode()
    # Then countries are picked from the ISO list, states and industry shown as people write them
    assert '<select name="countries"' in page and '<option value="US" selected>United States</option>' in page
    assert 'value="CA, WA"' in page and '["CA", "WA"]' not in page
    assert '<option value="technology" selected>' in page
    assert 'data-testid="rule-matches"' in page
    # And saving a changed list stores it as a list
    form = {"model": west.model_id, "name": "US West", "type": west.type, "priority": 0, "is_active": "on",
            "routing_policy": west.routing_policy, "countries": ["US", "CA"], "states": "CA, OR", "zip_codes": "941*",
            "industry": "technology",
            "members-TOTAL_FORMS": 0, "members-INITIAL_FORMS": 0}
    response = client.post(f"/admin/territories/territory/{west.pk}/change/", form)
    assert response.status_code == 302
    west = Territory.objects.get(pk=west.pk)
    assert (west.countries, west.states, west.zip_codes) == (["US", "CA"], ["CA", "OR"], ["941*"])


@pytest.mark.django_db
def test_the_live_count_says_how_many_records_the_rules_match(admin_user, rep, client):
    # Given open leads in California, Washington and Germany
    for state, country in (("CA", "US"), ("CA", "US"), ("WA", "US"), ("", "DE")):
        LeadFactory(assigned_to=rep, country=country, state=state)
    client.force_login(admin_user)
    # When the rules being edited ask for US and California
    page = client.get("/territories/rules/matches/", {"countries": ["US"], "states": "CA"}).content.decode()
    # Then the count says two leads
    assert "matches 2</strong> leads" in page
    # And a bad bound is named instead of counted
    page = client.get("/territories/rules/matches/", {"min_employee_count": "-3"}).content.decode()
    assert "min_employee_count" in page


@pytest.mark.django_db
def test_reps_may_not_ask_for_the_count(rep, client):
    client.force_login(rep)
    assert client.get("/territories/rules/matches/").status_code == 403
