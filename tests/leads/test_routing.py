"""Routing: territory from the matcher, owner by policy, capacity, inactive users, default queue."""

import pytest

from leads import services
from leads.models import Lead, LeadRoutingConfig
from salesapp.models import OutboxEvent
from tests.leads.factories import LeadFactory, make_territory

CA = {"country": "US", "state": "CA", "postal_code": "94105", "industry": "technology"}


def _new(manager, n=0, **extra):
    data = {"email": f"buyer{n}@corp{n}.example", "first_name": "Pat", "last_name": f"Buyer{n}", **CA, **extra}
    return services.lead_create(actor=manager, **data)


@pytest.mark.django_db
def test_new_lead_in_a_territory_goes_to_a_member_and_the_reason_names_territory_and_rules(manager, jane, raj):
    make_territory("US West Tech", members=[jane, raj], countries=["US"], states=["CA", "WA"], industry="technology")
    lead = _new(manager)
    assert lead.territory.name == "US West Tech"
    assert lead.assigned_to in (jane, raj)
    assert "US West Tech" in lead.assignment_reason
    assert "state CA" in lead.assignment_reason
    assert "round-robin" in lead.assignment_reason
    event = OutboxEvent.objects.get(name="lead.assigned")
    assert event.payload == {"lead_id": lead.pk, "assigned_to": lead.assigned_to_id, "territory_id": lead.territory_id,
                             "reason": lead.assignment_reason, "queue": ""}


@pytest.mark.django_db
def test_round_robin_takes_turns_and_names_the_previous_owner(manager, jane, raj, lena):
    make_territory("West", members=[jane, raj, lena], states=["CA"])
    owners = [_new(manager, n) for n in range(4)]
    assert [lead.assigned_to for lead in owners] == [jane, raj, lena, jane]
    assert "next after Jane West" in owners[1].assignment_reason
    assert "next after Lena North" in owners[3].assignment_reason


@pytest.mark.django_db
def test_least_open_picks_the_member_with_fewest_open_leads(manager, jane, raj):
    make_territory("West", members=[jane, raj], states=["CA"], policy="least_open")
    LeadFactory.create_batch(3, assigned_to=jane, status="new")
    LeadFactory(assigned_to=raj, status="contacted")
    LeadFactory.create_batch(5, assigned_to=raj, status="unqualified")  # closed: not counted
    lead = _new(manager)
    assert lead.assigned_to == raj
    assert "least open leads: Raj East had 1 open" in lead.assignment_reason


@pytest.mark.django_db
def test_fixed_owner_always_gets_the_lead(manager, jane, raj):
    make_territory("West", members=[jane, raj], states=["CA"], policy="fixed_owner", owner=raj)
    leads = [_new(manager, n) for n in range(3)]
    assert {lead.assigned_to for lead in leads} == {raj}
    assert "fixed owner Raj East" in leads[0].assignment_reason


@pytest.mark.django_db
def test_member_at_daily_capacity_is_skipped(manager, jane, raj):
    make_territory("West", members=[jane, raj], states=["CA"], capacities={jane.pk: 1})
    first, second, third = (_new(manager, n) for n in range(3))
    assert (first.assigned_to, second.assigned_to, third.assigned_to) == (jane, raj, raj)
    assert "Jane West (daily capacity 1 reached)" in third.assignment_reason


@pytest.mark.django_db
def test_inactive_members_never_get_leads(manager, jane, raj):
    make_territory("West", members=[jane, raj], states=["CA"])
    jane.is_active = False
    jane.save()
    leads = [_new(manager, n) for n in range(3)]
    assert {lead.assigned_to for lead in leads} == {raj}


@pytest.mark.django_db
def test_inactive_fixed_owner_sends_the_lead_to_the_default_queue(manager, jane):
    make_territory("West", members=[jane], states=["CA"], policy="fixed_owner", owner=jane)
    jane.is_active = False
    jane.save()
    lead = _new(manager)
    assert lead.assigned_to is None
    assert lead.queue == "Unassigned leads"
    assert "Jane West (inactive)" in lead.assignment_reason


@pytest.mark.django_db
def test_everyone_at_capacity_goes_to_the_default_queue(manager, jane):
    make_territory("West", members=[jane], states=["CA"], capacities={jane.pk: 1})
    LeadRoutingConfig.objects.create(queue_name="Inside sales queue", default_owner=manager)
    _new(manager, 1)
    lead = _new(manager, 2)
    assert lead.assigned_to == manager
    assert lead.territory.name == "West"
    assert "default queue Inside sales queue" in lead.assignment_reason


@pytest.mark.django_db
def test_lead_matching_no_territory_goes_to_the_configured_default_queue(manager, raj):
    make_territory("West", members=[raj], states=["CA"])
    LeadRoutingConfig.objects.create(queue_name="Inbound triage", default_owner=manager)
    lead = _new(manager, state="NY", postal_code="10001")
    assert lead.territory is None
    assert lead.assigned_to == manager
    assert lead.queue == "Inbound triage"
    assert lead.assignment_reason.startswith("no territory matches")


@pytest.mark.django_db
def test_reassign_by_hand_and_route_again_through_the_api(manager, jane, raj, api):
    make_territory("West", members=[jane], states=["CA"])
    lead = _new(manager)
    client = api.as_user(manager)
    body = client.post(f"/api/v1/leads/{lead.pk}/assign/", {"assigned_to": raj.pk, "note": "speaks German"}).json()
    assert body["assigned_to"] == raj.pk
    assert body["assignment_reason"] == f"assigned by {manager.get_full_name()}: speaks German"
    body = client.post(f"/api/v1/leads/{lead.pk}/assign/", {"route": True}).json()
    assert body["assigned_to"] == jane.pk and "West" in body["assignment_reason"]
    assert Lead.objects.get(pk=lead.pk).history.filter(kind="assigned").count() == 3


@pytest.mark.django_db
def test_realignment_provider_offers_open_leads_and_moves_them(manager, jane):
    from leads.realignment import LeadRealignment

    west = make_territory("West", members=[jane], states=["CA"])
    east = make_territory("East", states=["NY"])
    open_lead = _new(manager, 1)
    LeadFactory(status="unqualified", state="CA", territory=west)
    provider = LeadRealignment()
    batches = list(provider.iter_candidates(batch_size=10))
    assert [[(pk, attrs["state"], tid) for pk, attrs, tid in b] for b in batches] == [[(open_lead.pk, "CA", west.pk)]]
    assert provider.apply_moves([(open_lead.pk, east.pk)], manager) == 1
    open_lead.refresh_from_db()
    assert open_lead.territory == east and open_lead.assigned_to == jane
    assert open_lead.history.filter(detail="territory realignment").exists()
