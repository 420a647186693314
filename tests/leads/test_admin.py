"""The admin console changes and deletes leads through the leads services: same rules, audit and events."""

import pytest
from django.forms.models import model_to_dict

from leads import services
from leads.models import Lead
from salesapp.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def _form(lead, **changes):
    data = {k: ("" if v is None else v) for k, v in model_to_dict(lead).items()}
    data.update(changes)
    history = list(lead.history.values_list("pk", flat=True))  # the read-only history inline's management form
    inline = {"history-TOTAL_FORMS": len(history), "history-INITIAL_FORMS": len(history)}
    for i, pk in enumerate(history):
        inline |= {f"history-{i}-id": pk, f"history-{i}-lead": lead.pk}
    return inline | {k: v for k, v in data.items() if k in ("first_name", "last_name", "email", "phone", "company", "title",
                                                  "industry", "employee_count", "annual_revenue", "website",
                                                  "country", "state", "postal_code", "source", "assigned_to",
                                                  "territory", "score_factors")}


def test_a_console_edit_is_a_lead_update_with_its_event(console, admin_user, jane):
    lead = services.lead_create(actor=jane, email="bo@acme.example", company="Acme")
    response = console.post(f"/admin/leads/lead/{lead.pk}/change/", _form(lead, company="Acme Corp"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Lead.objects.get(pk=lead.pk).company == "Acme Corp"
    updated = [e.payload for e in OutboxEvent.objects.filter(name="lead.updated")]
    assert [(p["lead_id"], p["fields"]) for p in updated] == [(lead.pk, ["company"])]


def test_a_console_delete_publishes_lead_deleted(console, jane):
    lead = services.lead_create(actor=jane, email="gone@acme.example")
    response = console.post(f"/admin/leads/lead/{lead.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert [e.payload["lead_id"] for e in OutboxEvent.objects.filter(name="lead.deleted")] == [lead.pk]
