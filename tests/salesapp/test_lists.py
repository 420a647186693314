"""Lists people work in: sort by column both ways, counts, default views that hide closed records, saved views."""

from decimal import Decimal

import pytest
from django.urls import reverse

from opportunities.services import deals
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


@pytest.fixture
def many(rep):
    """Thirty of each kind of record, the rep's: a page's queries must not grow with its rows."""
    from leads import services as lead_services
    from opportunities.services import contacts

    for n in range(30):
        deal = OpportunityFactory(name=f"Deal {n}", owner=rep, amount=Decimal(n * 100))
        contacts.contact_create(actor=rep, account=deal.account, last_name=f"Person {n}")
        lead_services.lead_create(actor=rep, email=f"l{n}@x{n}.example", last_name=f"Lead {n}", assigned_to=rep)
    return rep


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/leads/", "/opportunities/", "/contacts/", "/accounts/"])
def test_each_list_page_runs_a_constant_number_of_queries(client, many, url, django_assert_max_num_queries):
    # Given a rep with a saved view and thirty records of each kind
    SavedView.objects.create(user=many, list_key="deals", name="Mine", query="ordering=-amount")
    client.force_login(many)
    # When she opens the list with every column shown, sorted
    with django_assert_max_num_queries(16):
        response = client.get(url, {"ordering": "created_at"})
    # Then it shows every row
    assert response.status_code == 200
    assert len(response.context["list"]) == 30
    assert response.context["list"].count.value == 30


@pytest.mark.django_db
def test_default_views_hide_closed_records_until_asked(client, rep):
    from leads import services as lead_services

    # Given an open lead and an unqualified one, an open deal and a lost one
    open_lead = lead_services.lead_create(actor=rep, email="open@a.example", last_name="Open", assigned_to=rep)
    closed = lead_services.lead_create(actor=rep, email="gone@b.example", last_name="Gone", assigned_to=rep)
    lead_services.lead_transition(actor=rep, lead=closed, to_status="contacted")
    lead_services.lead_transition(actor=rep, lead=closed, to_status="unqualified")
    OpportunityFactory(name="Live", owner=rep)
    deals.opportunity_close(actor=rep, opportunity=OpportunityFactory(name="Won", owner=rep), outcome="won",
                            amount=Decimal("1000"))
    client.force_login(rep)
    # When she opens the lists, she sees the open ones and is told so
    leads = client.get("/leads/")
    deal_page = client.get("/opportunities/")
    assert [lead.pk for lead in leads.context["list"]] == [open_lead.pk]
    assert _names(deal_page) == ["Live"]
    assert "Open deals only" in deal_page.content.decode()
    # And "show all" shows the closed ones too
    assert {lead.pk for lead in client.get("/leads/", {"is_open": ""}).context["list"]} == {open_lead.pk, closed.pk}
    assert sorted(_names(client.get("/opportunities/", {"is_open": ""}))) == ["Live", "Won"]


@pytest.mark.django_db
def test_a_saved_view_keeps_filters_and_sort_and_is_the_owners_only(client, rep, other_rep):
    client.force_login(rep)
    response = client.post("/views/", {"list_key": "deals", "name": "Big first", "query": "ordering=-amount&page=3",
                                       "next": "/opportunities/"})
    view = SavedView.objects.get(user=rep)
    assert view.query == "ordering=-amount"
    assert response["Location"] == f"/opportunities/?ordering=-amount&view={view.pk}"
    assert "Big first" in client.get("/opportunities/").content.decode()
    # Another rep neither sees nor deletes it
    client.force_login(other_rep)
    assert "Big first" not in client.get("/opportunities/").content.decode()
    assert client.post(f"/views/{view.pk}/delete/", {"next": "/opportunities/"}).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.django_db
def test_counts_above_the_limit_are_estimates(client, rep, settings):
    # Given a count limit of 5 and 7 open deals
    settings.LIST_EXACT_COUNT_LIMIT = 5
    for n in range(7):
        OpportunityFactory(name=f"Deal {n}", owner=rep)
    client.force_login(rep)
    response = client.get("/opportunities/")
    # Then the page says "about", with at least the limit
    count = response.context["list"].count
    assert count.estimated and count.value >= 5
    assert "about" in response.content.decode()


@pytest.mark.django_db
def test_timelines_and_tasks_name_the_records_they_link_to(client, rep):
    from datetime import timedelta

    from django.utils import timezone

    from activities import services as activity_services
    from opportunities.services import contacts

    # Given a deal at Harbour Freight with a contact, a call on the deal naming the contact, and a task on the deal
    deal = OpportunityFactory(name="Harbour renewal", owner=rep, account__name="Harbour Freight")
    person = contacts.contact_create(actor=rep, account=deal.account, first_name="Ola", last_name="Berg")
    activity_services.activity_log(actor=rep, type="call", subject="Intro", opportunity_id=deal.pk,
                                   contact_id=person.pk)
    activity_services.activity_log(actor=rep, type="task", subject="Send quote", opportunity_id=deal.pk,
                                   due_at=timezone.now() + timedelta(hours=2))
    client.force_login(rep)
    # When she reads the account's timeline and her tasks
    timeline = client.get("/activities/timeline/", {"kind": "account", "id": deal.account_id}).content.decode()
    tasks = client.get("/activities/tasks/").content.decode()
    # Then they name the deal and the contact, with links, and no ids
    assert f'<a href="/opportunities/{deal.pk}/">Harbour renewal</a>' in timeline
    assert f'<a href="/contacts/{person.pk}/">Ola Berg</a>' in timeline
    assert f'<a href="/opportunities/{deal.pk}/">Harbour renewal</a>' in tasks
    assert "opportunity #" not in timeline + tasks


@pytest.mark.django_db
def test_the_activities_list_shows_open_ones_by_default_naming_their_record(client, rep, django_assert_max_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from activities import services as activity_services

    # Given an open task and a logged (done) call on a deal
    deal = OpportunityFactory(name="Harbour renewal", owner=rep)
    activity_services.activity_log(actor=rep, type="task", subject="Send quote", opportunity_id=deal.pk,
                                   due_at=timezone.now() + timedelta(hours=2))
    activity_services.activity_log(actor=rep, type="call", subject="Intro call", opportunity_id=deal.pk)
    client.force_login(rep)
    # When she opens the activities list
    with django_assert_max_num_queries(12):
        html = client.get("/activities/").content.decode()
    # Then she sees the open task, naming the deal, and not the done call until she asks for all
    assert "Send quote" in html and "Intro call" not in html
    assert f'<a href="/opportunities/{deal.pk}/">Harbour renewal</a>' in html
    assert "Intro call" in client.get("/activities/", {"status": ""}).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "filterset"), [
    ("/api/v1/leads/", "leads.filtersets.LeadFilter"),
    ("/api/v1/opportunities/", "opportunities.filtersets.OpportunityFilterSet"),
    ("/api/v1/contacts/", "opportunities.filtersets.ContactFilterSet"),
    ("/api/v1/accounts/", "opportunities.filtersets.AccountFilterSet"),
])
def test_every_sort_key_pages_through_the_api_both_ways(api, many, path, filterset):
    from django.utils.module_loading import import_string

    client = api.as_user(many)
    for key in import_string(filterset).sorts:
        for ordering in (key, f"-{key}"):
            first = client.get(path, {"ordering": ordering, "page_size": 20})
            assert first.status_code == 200, (ordering, first.content)
            second = client.get(first.json()["next"])
            assert second.status_code == 200, (ordering, second.content)
            ids = [r["id"] for r in first.json()["results"] + second.json()["results"]]
            assert len(ids) == len(set(ids)) == 30, ordering


@pytest.mark.django_db
def test_column_choice_shows_only_the_chosen_columns_and_keeps_them_when_sorting(client, rep):
    OpportunityFactory(name="Alpha", owner=rep, amount=Decimal("10"))
    client.force_login(rep)
    response = client.get("/opportunities/", {"cols": ["name", "amount", "created"]})
    page = response.context["list"]
    assert [h["label"] for h in page.headers] == ["Name", "Amount", "Created"]
    amount = next(h for h in page.headers if h["key"] == "amount")
    assert "cols=name" in amount["href"] and "cols=created" in amount["href"] and "ordering=amount" in amount["href"]
    html = response.content.decode()
    assert "Stage</th>" not in html and '<input type="hidden" name="cols" value="created">' in html


@pytest.mark.django_db
def test_the_margin_column_is_absent_for_those_the_field_policy_hides_it_from(client, rep, manager):
    OpportunityFactory(name="Alpha", owner=rep)
    client.force_login(rep)
    assert "margin" not in {h["key"] for h in client.get("/opportunities/", {"cols": ["name", "margin"]}).context[
        "list"].headers}
    client.force_login(manager)
    assert "margin" in {h["key"] for h in client.get("/opportunities/").context["list"].headers}
