"""Pages: My tasks, the timeline panel with quick-log forms, the calendar feed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.store import get_store
from tests.activities.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client):
    def as_user(user):
        client.force_login(user)
        return client

    client.as_user = as_user
    return client


def test_my_tasks_shows_overdue_today_and_upcoming(sql_store, browser, rep):
    now = timezone.now()
    services.activity_log(actor=rep, type="task", subject="Chase legal", due_at=now - timedelta(days=2))
    services.activity_log(actor=rep, type="task", subject="Send deck", due_at=now.replace(hour=23, minute=0))
    services.activity_log(actor=rep, type="task", subject="QBR prep", due_at=now + timedelta(days=4))
    services.activity_log(actor=rep, type="demo", subject="Demo for ACME", scheduled_at=now + timedelta(days=1))
    page = browser.as_user(rep).get(reverse("activities:my-tasks"))
    html = page.content.decode()
    assert page.status_code == 200
    overdue, today, upcoming = (html.index(f'data-testid="section-{k}"') for k in ("overdue", "today", "upcoming"))
    assert overdue < html.index("Chase legal") < today < html.index("Send deck") < upcoming < html.index("QBR prep")
    assert "Demo for ACME" in html
    assert "My tasks" in html  # the navigation entry


def test_completing_a_task_from_my_tasks(sql_store, browser, rep):
    task = services.activity_log(actor=rep, type="task", subject="Call back", due_at=timezone.now())
    response = browser.as_user(rep).post(reverse("activities:complete", args=[task["id"]]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "done" in response.content.decode()
    assert get_store().get(task["id"])["completed_at"] is not None


def test_timeline_panel_logs_a_call_without_leaving_the_page(sql_store, browser, rep):
    deal = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep))
    client = browser.as_user(rep)
    panel = client.get(reverse("activities:timeline-panel"), {"kind": "opportunity", "id": deal.pk})
    assert panel.status_code == 200 and "No activity yet." in panel.content.decode()
    url = reverse("activities:log") + f"?kind=opportunity&id={deal.pk}"
    response = client.post(url, {"tab": "call", "type": "call", "subject": "Budget call", "duration_minutes": "15",
                                 "outcome": "connected"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "Call logged." in html and "Budget call" in html
    account_panel = client.get(reverse("activities:timeline-panel"), {"kind": "account", "id": deal.account_id})
    assert "Budget call" in account_panel.content.decode()


def test_quick_form_shows_field_errors(sql_store, browser, rep):
    deal = OpportunityFactory(owner=rep)
    url = reverse("activities:log") + f"?kind=opportunity&id={deal.pk}"
    response = browser.as_user(rep).post(url, {"tab": "call", "type": "call", "duration_minutes": "-3"})
    assert 'data-testid="error-duration_minutes"' in response.content.decode()
    response = browser.as_user(rep).post(url, {"tab": "meeting", "type": "meeting", "subject": "No time"})
    assert 'data-testid="error-scheduled_at"' in response.content.decode()


def test_timeline_panel_is_404_for_a_deal_the_user_may_not_see(sql_store, browser, rep, other_rep):
    deal = OpportunityFactory(owner=other_rep)
    response = browser.as_user(rep).get(reverse("activities:timeline-panel"), {"kind": "opportunity", "id": deal.pk})
    assert response.status_code == 404
    response = browser.as_user(rep).post(reverse("activities:log") + f"?kind=opportunity&id={deal.pk}", {"tab": "call", "type": "call"})
    assert response.status_code == 404


def test_viewer_sees_the_timeline_without_forms(sql_store, browser, viewer, admin_user):
    deal = OpportunityFactory(owner=admin_user)
    services.activity_log(actor=admin_user, type="call", opportunity_id=deal.pk, subject="Seen by admin")
    response = browser.as_user(admin_user).get(reverse("activities:timeline-panel"), {"kind": "opportunity", "id": deal.pk})
    assert "log-form-call" in response.content.decode()
    response = browser.as_user(viewer).get(reverse("activities:my-tasks"))
    assert response.status_code == 200


def test_calendar_feed_has_meetings_and_the_url_rotates(sql_store, browser, client, rep):
    start = timezone.now() + timedelta(days=2)
    services.activity_log(actor=rep, type="meeting", subject="Kick-off, phase 1", scheduled_at=start, duration_minutes=60)
    services.activity_log(actor=rep, type="task", subject="Not in the calendar")
    browser.as_user(rep).post(reverse("activities:calendar-rotate"))
    rep.refresh_from_db()
    old_token = rep.calendar_token
    client.logout()
    feed = client.get(reverse("activities:calendar-feed", args=[old_token]))
    body = feed.content.decode()
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in body and "SUMMARY:Kick-off\\, phase 1" in body and "Not in the calendar" not in body
    assert f"DTSTART:{start.strftime('%Y%m%dT%H%M')}" in body
    browser.as_user(rep).post(reverse("activities:calendar-rotate"))
    client.logout()
    assert client.get(reverse("activities:calendar-feed", args=[old_token])).status_code == 404


def test_admin_console_lists_and_opens_activities(sql_store, browser, admin_user, rep):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    doc = services.activity_log(actor=rep, type="call", subject="Admin can see me")
    client = browser.as_user(admin_user)
    listing = client.get("/admin/activities/activity/")
    assert listing.status_code == 200 and "Admin can see me" in listing.content.decode()
    assert client.get(f"/admin/activities/activity/{doc['id']}/change/").status_code == 200
