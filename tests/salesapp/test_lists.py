"""Lists people work in: sort by column both ways, counts, default views that hide closed records, saved views."""

from decimal import Decimal

import pytest
from django.urls import reverse

from salesapp.lists import sort_fields
from salesapp.models import SavedView
from tests.opportunities.factories import OpportunityFactory


def _names(response):
    return [o.name for o in response.context["list"]]


@pytest.mark.django_db
def test_deals_sort_by_amount_both_ways_with_id_tiebreak(client, rep):
    # Given three open deals of the rep's, two with the same amount
    for name, amount in [("Beta", "500"), ("Alpha", "900"), ("Gamma", "500")]:
        OpportunityFactory(name=name, owner=rep, amount=Decimal(amount))
    client.force_login(rep)
    # When she sorts by amount, then the other way
    up = client.get(reverse("opportunities:list"), {"ordering": "amount"})
    down = client.get(reverse("opportunities:list"), {"ordering": "-amount"})
    # Then the rows come in amount order, equal amounts in creation (id) order, reversed the other way
    assert _names(up) == ["Beta", "Gamma", "Alpha"]
    assert _names(down) == ["Alpha", "Gamma", "Beta"]
    assert 'aria-sort="ascending"' in up.content.decode()
    assert 'aria-sort="descending"' in down.content.decode()


def test_sort_fields_map_keys_and_refuse_unknown_ones():
    sorts = {"amount": ("amount",), "name": ("name",)}
    assert sort_fields(sorts, "-amount") == ["-amount", "-id"]
    assert sort_fields(sorts, "name,-amount") == ["name", "-amount", "id"]
    assert sort_fields(sorts, "margin") is None


@pytest.mark.django_db
def test_the_api_takes_the_same_ordering_with_cursor_pages(api, rep):
    # Given three deals of the rep's, two with the same amount
    for name, amount in [("Beta", "500"), ("Alpha", "900"), ("Gamma", "500")]:
        OpportunityFactory(name=name, owner=rep, amount=Decimal(amount))
    client = api.as_user(rep)
    # When the API is asked for them by amount, largest first, one per page
    names, url = [], "/api/v1/opportunities/?ordering=-amount&page_size=1"
    while url:
        body = client.get(url).json()
        names += [row["name"] for row in body["results"]]
        url = body["next"]
    # Then they come as on the list page, the tie broken by id (newest first when descending)
    assert names == ["Alpha", "Gamma", "Beta"]
    # And an unknown key is a 400 naming the parameter
    response = client.get("/api/v1/opportunities/?ordering=margin")
    assert response.status_code == 400
    assert "ordering" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_leads_api_orders_by_created_time(api, rep):
    from leads import services as lead_services

    for email in ["a@one.example", "b@two.example"]:
        lead_services.lead_create(actor=rep, email=email, last_name="X", assigned_to=rep)
    rows = api.as_user(rep).get("/api/v1/leads/?ordering=created_at").json()["results"]
    assert [r["email"] for r in rows] == ["a@one.example", "b@two.example"]
