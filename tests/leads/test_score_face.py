"""One score per lead: the page, the list and both APIs show the lead's stored score with the model that made it."""

import re

import pytest
from django.urls import reverse

from leads import services
from salesapp.models import OutboxEvent

pytestmark = pytest.mark.django_db

SCORE = re.compile(r'data-testid="lead-score">(\d+)<.*?data-testid="lead-score-model">([^<]*)<', re.S)


def _shown(client, api, lead) -> set[tuple[int, str]]:
    page = SCORE.search(client.get(reverse("leads:detail", args=[lead.pk])).content.decode())
    listed = SCORE.search(client.get(reverse("leads:list")).content.decode())
    record = api.get(f"/api/v1/leads/{lead.pk}/").json()
    score = api.get(f"/api/v1/leads/{lead.pk}/score/").json()
    return {(int(page[1]), page[2]), (int(listed[1]), listed[2]), (record["score"], record["score_model"]),
            (score["score"], score["model"])}


def test_the_same_score_and_model_show_everywhere_and_move_together(client, api, jane):
    # Given a rep's lead with a small company and no seniority in the title
    lead = services.lead_create(actor=jane, email="bo@smallco.example", first_name="Bo", company="Smallco",
                                industry="retail", employee_count=20, title="Analyst")
    client.force_login(jane)
    api.as_user(jane)
    # Then the page, the list, the lead API and the score API all show one score, made by the rules
    before = _shown(client, api, lead)
    assert len(before) == 1 and next(iter(before))[1] == "Rules v1"

    # When the rep corrects the company size (the rules now give more)
    services.lead_update(actor=jane, lead=lead, employee_count=5000)
    # Then every face shows the new score, and lead.scored said so once
    after = _shown(client, api, lead)
    assert len(after) == 1 and next(iter(after))[0] > next(iter(before))[0]
    assert [e.payload for e in OutboxEvent.objects.filter(name="lead.scored")] == [
        {"lead_id": lead.pk, "score": next(iter(after))[0], "model": "Rules v1"}]
