"""The activities API and timeline API, as reps, managers, viewers and admins use them."""

from datetime import UTC, datetime, timedelta

import pytest

from activities import services
from salesapp.models import OutboxEvent
from tests.activities.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_logging_a_call_on_a_deal_puts_it_first_on_the_deal_and_account_timelines(
    backend, api, rep, django_capture_on_commit_callbacks
):
    # Given a deal with an older email on its account
    deal = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep))
    services.activity_log(actor=rep, type="email", account_id=deal.account_id, completed_at=T0, subject="Hello")
    client = api.as_user(rep)
    # When the rep logs a call on the deal through the API (after-commit receivers run, as in production)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"type": "call", "subject": "Negotiation call", "opportunity_id": deal.pk,
                                     "duration_minutes": 30, "outcome": "connected"}, format="json")
    assert response.status_code == 201, response.json()
    call = response.json()
    assert call["account_id"] == deal.account_id and call["status"] == "done"
    # Then it is first on both timelines
    for param in (f"opportunity={deal.pk}", f"account={deal.account_id}"):
        page = client.get(f"/api/v1/timeline/?{param}").json()
        assert page["results"][0]["activity"]["id"] == call["id"]
        assert page["results"][0]["title"] == "Negotiation call"
    # and activity.logged carries what the deal's last_activity_at needs
    event = OutboxEvent.objects.get(name="activity.logged", payload__activity_id=call["id"])
    assert event.payload["opportunity_id"] == deal.pk and event.payload["occurred_at"]
    # and the opportunities app, reacting to it, moved the deal's and account's last_activity_at
    if "activity.logged" in _receivers_of("opportunities"):
        deal.refresh_from_db()
        deal.account.refresh_from_db()
        assert deal.last_activity_at.isoformat() == call["occurred_at"].replace("Z", "+00:00")
        assert deal.account.last_activity_at == deal.last_activity_at


def _receivers_of(app: str) -> set[str]:
    from salesapp.events import _receivers

    return {name for name, fns in _receivers.items() if any(fn.__module__.startswith(app) for fn in fns)}


def test_manager_lists_the_activities_on_their_reps_deals(backend, api, rep, manager, other_rep):  # noqa: PLR0917
    mine = services.activity_log(actor=rep, type="call", opportunity_id=OpportunityFactory(owner=rep).pk)
    services.activity_log(actor=other_rep, type="call", opportunity_id=OpportunityFactory(owner=other_rep).pk)
    services.activity_log(actor=other_rep, type="task", subject="private")
    listed = api.as_user(manager).get(URL).json()["results"]
    assert [a["id"] for a in listed] == [mine["id"]]


def test_list_and_timeline_queries_do_not_grow_with_the_page(sql_store, api, rep, django_assert_max_num_queries):
    deal = OpportunityFactory(owner=rep)
    for i in range(30):
        services.activity_log(actor=rep, type="call", opportunity_id=deal.pk, completed_at=T0 + timedelta(minutes=i))
    client = api.as_user(rep)
    with django_assert_max_num_queries(12):
        assert len(client.get(f"{URL}?page_size=30").json()["results"]) == 30
    with django_assert_max_num_queries(12):
        assert len(client.get(f"/api/v1/timeline/?opportunity={deal.pk}&page_size=30&type=call").json()["results"]) == 30


def test_rep_who_cannot_see_a_deal_gets_404_for_its_activities_and_timeline(backend, api, rep, other_rep):
    deal = OpportunityFactory(owner=other_rep)
    call = services.activity_log(actor=other_rep, type="call", opportunity_id=deal.pk)
    client = api.as_user(rep)
    assert client.get(f"{URL}{call['id']}/").status_code == 404
    assert client.get(f"/api/v1/timeline/?opportunity={deal.pk}").status_code == 404
    assert client.get(f"{URL}?opportunity={deal.pk}").status_code == 404
    assert client.patch(f"{URL}{call['id']}/", {"subject": "x"}, format="json").status_code == 404
    assert client.post(f"{URL}{call['id']}/complete/").status_code == 404
    assert client.delete(f"{URL}{call['id']}/").status_code == 404
    assert client.get(URL).json()["results"] == []


def test_validation_errors_name_the_field(backend, api, rep, other_rep):
    client = api.as_user(rep)
    theirs = OpportunityFactory(owner=other_rep)
    cases = [
        ({"type": "fax"}, "type"),
        ({"type": "call", "duration_minutes": -1}, "duration_minutes"),
        ({"type": "meeting", "scheduled_at": "2026-03-02T10:00:00Z", "completed_at": "2026-03-02T09:00:00Z"}, "completed_at"),
        ({"type": "call", "opportunity_id": theirs.pk}, "opportunity_id"),
        ({"type": "call", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ]
    for body, field in cases:
        response = client.post(URL, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["error"]["fields"], response.json()


def test_email_flags_arrive_later_through_the_api(backend, api, rep):
    client = api.as_user(rep)
    email = client.post(URL, {"type": "email", "subject": "Proposal", "description": "Attached."}, format="json").json()
    client.patch(f"{URL}{email['id']}/", {"metadata": {"email_opened": True}}, format="json")
    response = client.patch(f"{URL}{email['id']}/", {"metadata": {"email_clicked": True}}, format="json")
    assert response.status_code == 200
    assert response.json()["metadata"] == {"email_opened": True, "email_clicked": True}


def test_complete_a_meeting_through_the_api(backend, api, rep):
    client = api.as_user(rep)
    meeting = client.post(URL, {"type": "meeting", "subject": "Kick-off", "scheduled_at": "2026-01-05T10:00:00Z",
                                "participants": ["cto@buyer.example"]}, format="json").json()
    assert meeting["status"] == "open"
    response = client.post(f"{URL}{meeting['id']}/complete/", {"outcome": "agreed pilot"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["outcome"] == "agreed pilot"
    assert OutboxEvent.objects.filter(name="activity.completed", payload__activity_id=meeting["id"]).exists()
    again = client.post(f"{URL}{meeting['id']}/complete/")
    assert again.status_code == 400 and "completed_at" in again.json()["error"]["fields"]


def test_list_filters_and_cursor_pages(backend, api, rep):
    for i in range(5):
        services.activity_log(actor=rep, type="call", completed_at=T0 + timedelta(minutes=i))
    services.activity_log(actor=rep, type="task", subject="Open task")
    client = api.as_user(rep)
    first = client.get(f"{URL}?type=call&page_size=3").json()
    assert len(first["results"]) == 3 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert {r["type"] for r in first["results"] + second["results"]} == {"call"}
    assert [r["subject"] for r in client.get(f"{URL}?status=open").json()["results"]] == ["Open task"]
    assert client.get(f"{URL}?type=fax").status_code == 400


def test_timeline_needs_exactly_one_subject_and_filters_by_type(backend, api, rep, manager, other_rep):
    services.activity_log(actor=rep, type="call")
    services.activity_log(actor=rep, type="task", subject="t")
    assert api.as_user(rep).get("/api/v1/timeline/").status_code == 400
    page = api.as_user(manager).get(f"/api/v1/timeline/?user={rep.pk}&type=task").json()
    assert [r["kind"] for r in page["results"]] == ["task"]
    assert api.as_user(other_rep).get(f"/api/v1/timeline/?user={rep.pk}").status_code == 404


def test_who_may_write_and_delete(backend, api, rep, manager, other_rep, viewer, admin_user):  # noqa: PLR0917
    task = services.activity_log(actor=rep, type="task", subject="Mine")
    assert api.as_user(viewer).post(URL, {"type": "call"}, format="json").status_code == 403
    assert api.as_user(viewer).get(f"{URL}{task['id']}/").status_code == 404
    assert api.as_user(other_rep).delete(f"{URL}{task['id']}/").status_code == 404
    assert api.as_user(manager).get(f"{URL}{task['id']}/").status_code == 200
    assert api.as_user(manager).delete(f"{URL}{task['id']}/").status_code == 204
    task = services.activity_log(actor=rep, type="task", subject="Mine again")
    assert api.as_user(admin_user).delete(f"{URL}{task['id']}/").status_code == 204


def test_admin_may_record_original_timestamps(backend, api, admin_user, rep):
    response = api.as_user(admin_user).post(URL, {
        "type": "call", "user_id": rep.pk, "created_at": "2024-05-01T12:00:00Z", "completed_at": "2024-05-01T12:00:00Z",
    }, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["created_at"].startswith("2024-05-01T12:00:00")
    assert response.json()["user_id"] == rep.pk


def test_rep_may_not_assign_to_someone_outside_their_team(api, sql_store, rep, other_rep, manager):
    response = api.as_user(rep).post(URL, {"type": "task", "user_id": other_rep.pk}, format="json")
    assert response.status_code == 400 and "user_id" in response.json()["error"]["fields"]
    ok = api.as_user(manager).post(URL, {"type": "task", "user_id": rep.pk, "subject": "For you"}, format="json")
    assert ok.status_code == 201
