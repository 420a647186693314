"""Scores follow events; the panel, the dashboard and the models page show what users need."""

import pytest
from django.urls import reverse

from intelligence.services import scores_refresh
from tests.intelligence.factories import ContactFactory, OpportunityFactory, days_ago, log_activity

pytestmark = pytest.mark.django_db


def test_logging_an_activity_refreshes_the_deal_score(api, admin_user, rep, django_capture_on_commit_callbacks):
    # Given a quiet deal scored by the rules (no activity pulls it down)
    deal = OpportunityFactory(owner=rep, stage_id="proposal", created_at=days_ago(50))
    scores_refresh(kind="deal", ids=[deal.pk])
    client = api.as_user(rep)
    before = client.get(f"/api/v1/opportunities/{deal.pk}/score/").json()
    assert [f["points"] for f in before["factors"] if f["factor"] == "days_since_activity"] == [-10]
    # When a call is logged (the activity.logged event runs through the Celery consumer)
    with django_capture_on_commit_callbacks(execute=True):
        log_activity(admin_user, when=days_ago(0.1), type="call", opportunity=deal)
    # Then the deal's score moved up and the recent call now pushes it up, on the API and on the deal page
    after = client.get(f"/api/v1/opportunities/{deal.pk}/score/").json()
    assert after["score"] > before["score"]
    assert [f["points"] for f in after["factors"] if f["factor"] == "days_since_activity"] == [5]
    assert client.get(f"/api/v1/opportunities/{deal.pk}/").json()["deal_score"] == after["score"]


def test_panel_shows_score_model_reasons_and_advice(client, admin_user, rep):
    deal = OpportunityFactory(owner=rep, next_step="", created_at=days_ago(40))
    deal.contacts.add(ContactFactory(account=deal.account))
    log_activity(admin_user, when=days_ago(33), opportunity=deal)
    scores_refresh(kind="deal", ids=[deal.pk])
    client.force_login(rep)
    html = client.get(reverse("intelligence:panel", args=["opportunity", deal.pk])).content.decode()
    assert "Deal score" in html and "Rules v1" in html and "no activity for 33 days" in html
    assert "Schedule a follow-up" in html and "No activity for 33 days" in html
    assert "Accept" in html and "Dismiss" in html


def test_panel_accept_from_the_page_creates_the_task(client, admin_user, rep):
    from intelligence.models import Recommendation

    deal = OpportunityFactory(owner=rep, next_step="")
    log_activity(admin_user, when=days_ago(1), opportunity=deal)
    client.force_login(rep)
    client.get(reverse("intelligence:panel", args=["opportunity", deal.pk]))
    rec = Recommendation.objects.get(opportunity=deal, code="no_next_step")
    html = client.post(reverse("intelligence:recommendation-decide", args=[rec.pk, "accept"])).content.decode()
    assert "Task created." in html
    rec.refresh_from_db()
    assert rec.status == "accepted" and rec.task_id


def test_panel_for_a_deal_the_user_may_not_see_is_404(client, rep, other_rep):
    deal = OpportunityFactory(owner=other_rep)
    client.force_login(rep)
    assert client.get(reverse("intelligence:panel", args=["opportunity", deal.pk])).status_code == 404


def test_read_only_user_sees_advice_without_buttons(client, viewer, rep, admin_user):
    deal = OpportunityFactory(owner=rep, next_step="")
    from django.contrib.contenttypes.models import ContentType

    from salesapp.models import RecordShare

    RecordShare.objects.create(content_type=ContentType.objects.get_for_model(deal), object_id=str(deal.pk), user=viewer)
    client.force_login(viewer)
    html = client.get(reverse("intelligence:panel", args=["opportunity", deal.pk])).content.decode()
    assert "Set a next step" in html and "Accept" not in html


def test_dashboard_renders_charts_from_the_reports(client, manager, rep):
    OpportunityFactory(owner=rep, stage_id="closed_won", actual_close_date=days_ago(3).date())
    client.force_login(manager)
    resp = client.get(reverse("intelligence:analytics") + "?group_by=team")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "vendor/chartjs/chart.umd.min.js" in html and 'id="chart-win_rate"' in html and "analytics-data" in html


def test_models_page_lists_versions_and_only_trainers_get_the_button(client, admin_user, rep):
    client.force_login(rep)
    assert "Train deal model" not in client.get(reverse("intelligence:models")).content.decode()
    assert client.post(reverse("intelligence:models"), {"kind": "deal"}).status_code == 403
    client.force_login(admin_user)
    assert "Train deal model" in client.get(reverse("intelligence:models")).content.decode()
    resp = client.post(reverse("intelligence:models"), {"kind": "deal"}, follow=True)
    assert "Not enough deal outcomes" in resp.content.decode()
