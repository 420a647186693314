"""The lead pages as a user sees them: list, filters, bulk actions, detail, forms, import link."""

import pytest

from leads import services
from leads.models import Lead
from tests.leads.factories import LeadFactory, make_territory
from tests.salesapp.factories import PicklistValueFactory


@pytest.mark.django_db
def test_list_shows_visible_leads_with_filters_and_import_link(manager, rep, other_rep, client):
    LeadFactory(assigned_to=rep, first_name="Visible", last_name="One", status="new")
    LeadFactory(assigned_to=other_rep, first_name="Hidden", last_name="Two")
    client.force_login(manager)
    page = client.get("/leads/").content.decode()
    assert "Visible One" in page and "Hidden Two" not in page
    assert "/imports/new/?kind=leads" in page
    assert "Visible One" not in client.get("/leads/?status=contacted").content.decode()


@pytest.mark.django_db
def test_bulk_assign_and_status_change(manager, rep, client):
    leads = LeadFactory.create_batch(3, assigned_to=manager, status="new")
    client.force_login(manager)
    client.post("/leads/bulk/", {"ids": [lead.pk for lead in leads], "action": "assign", "owner": rep.pk})
    assert set(Lead.objects.values_list("assigned_to", flat=True)) == {rep.pk}
    client.post("/leads/bulk/", {"ids": [leads[0].pk], "action": "status", "to_status": "contacted"})
    assert Lead.objects.get(pk=leads[0].pk).status == "contacted"
    response = client.post("/leads/bulk/", {"ids": [leads[1].pk], "action": "status", "to_status": "qualified"},
                           follow=True)
    assert "cannot become qualified" in response.content.decode()


@pytest.mark.django_db
def test_create_form_shows_field_errors_and_warns_about_duplicates(rep, client):
    LeadFactory(email="taken@acme.example", assigned_to=rep, first_name="Tak", last_name="En")
    client.force_login(rep)
    page = client.post("/leads/new/", {"email": "bad", "employee_count": "-1"}).content.decode()
    assert "Enter a valid email address." in page and "Must not be negative." in page
    page = client.post("/leads/new/", {"email": "zz@acme.example", "country": "ZZ"}).content.decode()
    assert "Select a valid choice. ZZ is not one of the available choices." in page
    page = client.post("/leads/new/", {"email": "TAKEN@acme.example"}).content.decode()
    assert "Possible duplicates" in page and "same email" in page
    assert Lead.objects.count() == 1
    response = client.post("/leads/new/", {"email": "TAKEN@acme.example", "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Lead.objects.count() == 2


@pytest.mark.django_db
def test_detail_shows_score_assignment_reason_and_actions(manager, jane, client):
    make_territory("US West Tech", members=[jane], states=["CA"], industry="technology")
    lead = services.lead_create(actor=manager, email="x@y.example", state="CA", country="US", industry="technology")
    client.force_login(jane)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "territory US West Tech: " in page
    assert "round-robin" in page
    assert 'id="intelligence-panel"' in page
    assert f"/leads/{lead.pk}/contact/" in page
    client.post(f"/leads/{lead.pk}/contact/")
    client.post(f"/leads/{lead.pk}/qualify/")
    page = client.get(f"/leads/{lead.pk}/convert/").content.decode()
    assert "Convert" in page
    response = client.post(f"/leads/{lead.pk}/convert/", {"amount": "1000"}, follow=True)
    assert "Converted" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "converted"


@pytest.mark.django_db
def test_invisible_lead_page_is_404_and_viewer_sees_no_actions(rep, other_rep, viewer, client):
    lead = LeadFactory(assigned_to=other_rep)
    client.force_login(rep)
    assert client.get(f"/leads/{lead.pk}/").status_code == 404
    client.force_login(viewer)
    page = client.get("/leads/").content.decode()
    assert "New lead" not in page


@pytest.mark.django_db
def test_edit_form_saves_and_rescores(rep, client):
    PicklistValueFactory(kind="industry", value="technology")
    lead = LeadFactory(assigned_to=rep, email="e@a.example")
    client.force_login(rep)
    response = client.post(f"/leads/{lead.pk}/edit/", {"email": "e@a.example", "industry": "technology",
                                                       "assigned_to": rep.pk})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.score == 20


@pytest.mark.django_db
def test_home_shows_my_open_leads(rep, client):
    LeadFactory(assigned_to=rep, first_name="Hot", last_name="Prospect", score=88, status="new")
    LeadFactory(assigned_to=rep, first_name="Done", last_name="Deal", status="converted")
    client.force_login(rep)
    page = client.get("/").content.decode()
    assert "My open leads" in page and "Hot Prospect" in page and "Done Deal" not in page
    assert "<strong>1</strong> new lead waiting" in page


@pytest.mark.django_db
def test_admin_console_creates_a_web_to_lead_form(admin_user, client):
    from leads.models import WebToLeadForm

    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.post("/admin/leads/webtoleadform/add/", {
        "name": "Demo request", "key": "demo-request", "source": "web: demo request", "is_active": "on",
        "allowed_origins": "https://www.example.com", "honeypot_field": "nickname", "rate_limit_per_hour": "5"})
    assert response.status_code == 302, response.content[:500]
    form = WebToLeadForm.objects.get(key="demo-request")
    assert form.origins == ["https://www.example.com"]
    assert "/api/v1/web-to-lead/demo-request/" in client.get("/admin/leads/webtoleadform/").content.decode()


@pytest.mark.django_db
def test_lead_history_appears_on_the_activities_timeline(manager, jane):
    from activities.timeline import timeline

    make_territory("West", members=[jane], states=["CA"])
    lead = services.lead_create(actor=manager, email="t@a.example", state="CA")
    services.lead_transition(actor=jane, lead=lead, to_status="contacted")
    page = timeline(user=jane, kind="lead", record_id=lead.pk)
    titles = [e.title for e in page.entries]
    assert "Status: new → contacted" in titles
    assert "Assigned to Jane West" in titles and "Lead created" in titles
