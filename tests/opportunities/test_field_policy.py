"""Field-level security on deals: margin and cost are seen and set only by the roles the admin allows.

By default those are admins and sales managers; for everyone else the fields are absent (not null)
from the API's answers and lists, exports, pages, forms and analytics, and a write answers 403
naming the field.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from opportunities.models import Opportunity
from opportunities.services import deals
from salesapp import fields
from salesapp.models import User
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep, manager):
    opp = OpportunityFactory(owner=rep, amount=20000)
    return deals.opportunity_update(actor=manager, opportunity=opp, margin=Decimal("32.50"), cost=Decimal("13500"))


def test_a_rep_gets_no_margin_key_and_a_manager_does(api, rep, manager, deal):
    as_rep = api.as_user(rep).get(f"/api/v1/opportunities/{deal.pk}/")
    assert as_rep.status_code == 200
    assert "margin" not in as_rep.json() and "cost" not in as_rep.json()

    as_manager = api.as_user(manager).get(f"/api/v1/opportunities/{deal.pk}/")
    assert (as_manager.json()["margin"], as_manager.json()["cost"]) == ("32.50", "13500.00")


def test_list_rows_carry_margin_only_for_allowed_roles(api, rep, manager, deal):
    rep_row = api.as_user(rep).get("/api/v1/opportunities/").json()["results"][0]
    manager_row = api.as_user(manager).get("/api/v1/opportunities/").json()["results"][0]

    assert "margin" not in rep_row and "cost" not in rep_row
    assert manager_row["margin"] == "32.50"


def test_a_reps_write_of_margin_answers_403_naming_it_and_changes_nothing(api, rep, deal):
    response = api.as_user(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"margin": "90", "name": "Renamed"},
                                      format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "field_forbidden"
    assert "margin" in response.json()["error"]["message"]
    assert list(response.json()["error"]["fields"]) == ["margin"]
    deal.refresh_from_db()
    assert (deal.margin, deal.name) == (Decimal("32.50"), deal.name)
    assert deal.name != "Renamed"


def test_a_manager_sets_margin_and_cost(api, manager, deal):
    response = api.as_user(manager).patch(f"/api/v1/opportunities/{deal.pk}/", {"margin": "12.5", "cost": "100"},
                                          format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["margin"], response.json()["cost"]) == ("12.50", "100.00")


def test_the_service_refuses_a_rep_naming_the_field(rep, deal):
    with pytest.raises(fields.FieldPermissionDenied) as refused:
        deals.opportunity_update(actor=rep, opportunity=deal, cost=Decimal("1"))
    assert refused.value.field == "cost"


def test_the_admin_changes_the_policy_in_the_role_groups(api, rep, manager, deal):
    # Given the admin takes reading margins away from managers and gives it to reps (admin console: Groups)
    read_margin = Permission.objects.get(codename=fields.codename(Opportunity, "margin", fields.READ))
    Group.objects.get(name="sales_manager").permissions.remove(read_margin)
    Group.objects.get(name="sales_rep").permissions.add(read_margin)

    # Then the next requests (which load their user afresh) follow it
    manager, rep = User.objects.get(pk=manager.pk), User.objects.get(pk=rep.pk)
    assert "margin" not in api.as_user(manager).get(f"/api/v1/opportunities/{deal.pk}/").json()
    as_rep = api.as_user(rep).get(f"/api/v1/opportunities/{deal.pk}/").json()
    assert as_rep["margin"] == "32.50" and "cost" not in as_rep
    # and reading is not writing
    assert api.as_user(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"margin": "1"},
                                  format="json").status_code == 403


def test_the_export_leaves_the_columns_out_for_a_rep(client, rep, manager, deal):
    client.force_login(rep)
    rep_header = next(csv.reader(io.StringIO(b"".join(client.get("/opportunities/export/").streaming_content)
                                             .decode("utf-8-sig"))))
    client.force_login(manager)
    manager_rows = list(csv.DictReader(io.StringIO(b"".join(client.get("/opportunities/export/").streaming_content)
                                                   .decode("utf-8-sig"))))

    assert "margin" not in rep_header and "cost" not in rep_header and "amount" in rep_header
    assert manager_rows[0]["margin"] == "32.50"


def test_pages_and_forms_show_margin_only_to_allowed_roles(client, rep, manager, deal):
    client.force_login(rep)
    assert "Margin" not in client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert "Margin" not in client.get("/opportunities/").content.decode()
    assert 'name="margin"' not in client.get(f"/opportunities/{deal.pk}/edit/").content.decode()

    client.force_login(manager)
    assert "32.50%" in client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert "Margin" in client.get("/opportunities/").content.decode()
    assert 'name="margin"' in client.get(f"/opportunities/{deal.pk}/edit/").content.decode()


def test_on_target_earnings_are_absent_for_a_rep(api, admin_user, rep, manager):
    api.as_user(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"on_target_earnings": "120000"}, format="json")

    assert "on_target_earnings" not in api.as_user(rep).get("/api/v1/users/me/").json()
    assert api.as_user(manager).get(f"/api/v1/users/{rep.pk}/").json()["on_target_earnings"] == "120000.00"


def test_the_schema_documents_the_restricted_fields_as_optional(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    opportunity = schema["components"]["schemas"]["Opportunity"]

    assert {"margin", "cost"} <= set(opportunity["properties"])
    assert not {"margin", "cost"} & set(opportunity.get("required", []))


def test_analytics_show_the_average_margin_only_to_allowed_roles(api, rep, manager, deal):
    deals.opportunity_close(actor=manager, opportunity=deal, outcome="won")

    rep_rows = api.as_user(rep).get("/api/v1/analytics/deal_size/").json()["rows"]
    manager_rows = api.as_user(manager).get("/api/v1/analytics/deal_size/").json()["rows"]

    assert rep_rows and "average_margin" not in rep_rows[0]
    assert manager_rows[0]["average_margin"] == 32.5


def test_the_admin_console_offers_the_field_permissions_on_each_role(client, admin_user):
    client.force_login(admin_user)
    group = Group.objects.get(name="read_only")

    page = client.get(f"/admin/auth/group/{group.pk}/change/").content.decode()

    assert "Read deal margin" in page and "Change deal cost" in page and "Read compensation" in page
