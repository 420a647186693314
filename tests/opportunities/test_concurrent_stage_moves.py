"""Sixteen clients moving deals' stages at once on PostgreSQL: no deadlock, no error, every history intact.

Each client is a thread with its own database connection that PATCHes deals through the API, as a
browser or an integration would. Half the moves hit a handful of shared deals (the same rows, in every
stage), the other half each client's own deals. Consumers run in process after each commit (Celery is
eager in tests), so their writes contend too. SQLite has no row locks to get wrong: the test is for
PostgreSQL (CI's first pass).
"""

import random
import threading

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from opportunities.models import Opportunity, Stage, StageHistory
from salesapp.models import OutboxEvent
from tests.opportunities.factories import OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="row-lock contention needs PostgreSQL (DATABASE_URL)")

CLIENTS = 16
MOVES_PER_CLIENT = 12
SHARED_DEALS = 3
OPEN_STAGES = ["discovery", "qualification", "proposal", "negotiation"]


def _client_run(user, shared, own, *, seed, start, outcomes):
    rng = random.Random(seed)
    client = APIClient()
    client.force_authenticate(user=user)
    start.wait()
    for i in range(MOVES_PER_CLIENT):
        deal = rng.choice(shared) if i % 2 == 0 else rng.choice(own)
        stage = rng.choice(OPEN_STAGES)
        try:
            response = client.patch(f"/api/v1/opportunities/{deal}/", {"stage": stage}, format="json")
            outcomes.append((deal, stage, response.status_code, response.content[:300]))
        except Exception as exc:  # a request that raised (a 500): the test's finding, reported below
            outcomes.append((deal, stage, "raised", repr(exc)[:300]))
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_sixteen_clients_move_the_same_and_different_deals_without_deadlock_or_error():
    # Given a manager, four reps of the team and deals: a few shared by all clients, two of each client's own
    manager = UserFactory(role="sales_manager")
    reps = [UserFactory(role="sales_rep", manager=manager) for _ in range(4)]
    shared = [OpportunityFactory(owner=reps[i % 4]).pk for i in range(SHARED_DEALS)]
    own = [[OpportunityFactory(owner=reps[c % 4]).pk for _ in range(2)] for c in range(CLIENTS)]
    # (every client acts as the manager, who may change each of the team's deals)
    start = threading.Barrier(CLIENTS)
    outcomes: list = []

    # When sixteen clients move stages at once
    threads = [
        threading.Thread(target=_client_run, args=(manager, shared, own[c]),
                         kwargs={"seed": c, "start": start, "outcomes": outcomes})
        for c in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a client hung"

    # Then every request answered 200: no deadlock, no lock timeout, no error
    failures = [o for o in outcomes if o[2] != 200]
    assert failures == []
    assert len(outcomes) == CLIENTS * MOVES_PER_CLIENT
    # And no consumer of the stage-change events failed (they ran after each commit, concurrently)
    assert list(OutboxEvent.objects.exclude(last_error="").values_list("name", "last_error")) == []

    # And each deal's history is one unbroken chain ending at its stage, with one event per move
    defaults = dict(Stage.objects.values_list("key", "default_probability"))
    for deal in Opportunity.objects.filter(pk__in=shared + [d for pair in own for d in pair]):
        chain = list(StageHistory.objects.filter(opportunity=deal).order_by("id").values_list(
            "from_stage", "to_stage", "changed_at"))
        assert chain[0][:2] == ("", "discovery")
        for before, after in zip(chain, chain[1:], strict=False):
            assert after[0] == before[1] != after[1], f"deal {deal.pk}: {before} then {after}"
            assert after[2] >= before[2]
        assert chain[-1][1] == deal.stage_id
        assert deal.stage_changed_at == chain[-1][2]
        assert deal.probability == defaults[deal.stage_id]
        moved = OutboxEvent.objects.filter(name="opportunity.stage_changed", payload__opportunity_id=deal.pk)
        assert moved.count() == len(chain) - 1
    # And the shared deals really were contended: each was moved by several clients
    moves_of_shared = sum(1 for deal, *_ in outcomes if deal in shared)
    assert moves_of_shared == CLIENTS * MOVES_PER_CLIENT // 2
