"""Web-to-lead: public submissions, origin checks, honeypot and per-IP rate limit."""

import pytest

from leads.models import Lead, WebToLeadForm

URL = "/api/v1/web-to-lead/pricing/"
GOOD = {"email": "visitor@prospect.example", "first_name": "Vi", "last_name": "Sitor", "company": "Prospect"}


@pytest.fixture
def form(db):
    return WebToLeadForm.objects.create(name="Pricing", key="pricing", source="web: pricing page",
                                        allowed_origins="https://www.example.com\n", rate_limit_per_hour=3)


@pytest.mark.django_db
def test_submission_from_an_allowed_origin_becomes_a_lead(client, form):
    response = client.post(URL, GOOD, HTTP_ORIGIN="https://www.example.com")
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == "https://www.example.com"
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.status) == ("visitor@prospect.example", "web: pricing page", "new")


@pytest.mark.django_db
def test_other_origins_are_refused(client, form):
    assert client.post(URL, GOOD, HTTP_ORIGIN="https://evil.example").status_code == 403
    assert client.post(URL, GOOD).status_code == 403  # no Origin at all
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_filled_honeypot_looks_accepted_but_writes_nothing(client, form):
    response = client.post(URL, {**GOOD, "nickname": "buy cheap pills"}, HTTP_ORIGIN="https://www.example.com")
    assert response.status_code == 201
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_per_ip_rate_limit(client, form):
    for n in range(3):
        data = {**GOOD, "email": f"v{n}@prospect.example"}
        assert client.post(URL, data, HTTP_ORIGIN="https://www.example.com", REMOTE_ADDR="10.0.0.1").status_code == 201
    blocked = client.post(URL, {**GOOD, "email": "v9@prospect.example"}, HTTP_ORIGIN="https://www.example.com",
                          REMOTE_ADDR="10.0.0.1")
    assert blocked.status_code == 429
    other_ip = client.post(URL, {**GOOD, "email": "w@prospect.example"}, HTTP_ORIGIN="https://www.example.com",
                           REMOTE_ADDR="10.0.0.2")
    assert other_ip.status_code == 201
    assert Lead.objects.count() == 4


@pytest.mark.django_db
def test_bad_fields_are_named_and_unknown_or_inactive_forms_answer_404(client, form):
    response = client.post(URL, {"email": "nope"}, HTTP_ORIGIN="https://www.example.com")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]
    assert client.post("/api/v1/web-to-lead/unknown/", GOOD).status_code == 404
    form.is_active = False
    form.save()
    assert client.post(URL, GOOD, HTTP_ORIGIN="https://www.example.com").status_code == 404


@pytest.mark.django_db
def test_form_with_no_origins_listed_accepts_any(client):
    WebToLeadForm.objects.create(name="Open", key="open", source="web")
    assert client.post("/api/v1/web-to-lead/open/", GOOD).status_code == 201


@pytest.mark.django_db
def test_forged_forwarded_for_does_not_dodge_the_rate_limit(client, form):
    codes = [
        client.post(URL, {**GOOD, "email": f"f{n}@prospect.example"}, HTTP_ORIGIN="https://www.example.com",
                    REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(4)
    ]
    assert codes == [201, 201, 201, 429]
