"""One contract, two stores: every test here runs on SQL and on MongoDB (nx-27017)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from activities import selectors, services, timeline
from activities.store import INDEXES
from salesapp.models import OutboxEvent
from tests.activities.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db(transaction=False)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _call(actor, **kw):
    kw.setdefault("subject", "Discovery call")
    return services.activity_log(actor=actor, type="call", duration_minutes=20, outcome="connected", **kw)


def test_logged_call_round_trips_with_integer_id_and_millisecond_times(backend, rep):
    # Given a rep, when they log a call with a microsecond time
    doc = _call(rep, completed_at=T0.replace(microsecond=123456))
    # then the store answers the same document, integer id, time truncated to milliseconds
    got = backend.get(doc["id"])
    assert isinstance(got["id"], int)
    assert got["type"] == "call" and got["duration_minutes"] == 20 and got["outcome"] == "connected"
    assert got["completed_at"] == T0.replace(microsecond=123000)
    assert got["occurred_at"] == got["completed_at"]
    assert got["user_id"] == rep.pk and got["created_by_id"] == rep.pk
    assert got["participants"] == [] and got["metadata"] == {}


def test_both_backends_have_the_timeline_indexes(backend):
    if backend.name == "sql":
        names = set(backend.index_names())
        assert {name for name, _ in INDEXES} - {"activity_user_open"} <= {
            n.replace("_tl_idx", "").replace("activity_opp", "activity_opportunity") for n in names
        } | {"activity_lead_timeline", "activity_opportunity_timeline", "activity_account_timeline",
             "activity_user_timeline", "activity_timeline"}
        from activities.models import Activity

        fields = [tuple(i.fields) for i in Activity._meta.indexes]
        for link in ("lead_id", "opportunity_id", "account_id", "user"):
            assert (link, "-occurred_at", "-id") in fields
    else:
        keys = backend.index_keys()
        for link in ("lead_id", "opportunity_id", "account_id", "user_id"):
            assert [link, "occurred_at", "id"] in keys


def test_find_is_newest_first_with_ties_broken_by_id_and_a_cursor(backend, rep):
    ids = [_call(rep, completed_at=T0 + timedelta(minutes=i // 2))["id"] for i in range(6)]
    docs = backend.find(("eq", "user_id", rep.pk), limit=4)
    assert [d["id"] for d in docs] == [ids[5], ids[4], ids[3], ids[2]]
    from activities.store import before_cursor

    rest = backend.find(("and", [("eq", "user_id", rep.pk), before_cursor(docs[-1]["occurred_at"], docs[-1]["id"])]))
    assert [d["id"] for d in rest] == [ids[1], ids[0]]


def test_conditions_mean_the_same_on_both_backends(backend, rep, manager):
    a = _call(rep, completed_at=T0)
    b = services.activity_log(actor=rep, type="task", subject="Send pricing", due_at=T0 + timedelta(days=1))
    c = services.activity_log(actor=manager, type="email", subject="Intro", completed_at=T0 + timedelta(hours=1))
    ids = lambda cond: sorted(d["id"] for d in backend.find(cond))  # noqa: E731
    assert ids(("null", "completed_at", True)) == [b["id"]]
    assert ids(("null", "completed_at", False)) == sorted([a["id"], c["id"]])
    assert ids(("in", "type", ["call", "email"])) == sorted([a["id"], c["id"]])
    assert ids(("in", "type", [])) == []
    assert ids(("or", [("eq", "type", "task"), ("eq", "user_id", manager.pk)])) == sorted([b["id"], c["id"]])
    assert ids(("and", [("eq", "user_id", rep.pk), ("gte", "occurred_at", T0), ("lt", "occurred_at", T0 + timedelta(hours=1))])) == [a["id"]]
    assert backend.count(("eq", "user_id", rep.pk)) == 2
    assert backend.count_by(("all",), "type") == {"call": 1, "task": 1, "email": 1}


def test_update_and_delete(backend, rep):
    doc = services.activity_log(actor=rep, type="email", subject="Proposal", metadata={"email_opened": False})
    services.activity_update(actor=rep, activity_id=doc["id"], metadata={"email_opened": True})
    services.activity_update(actor=rep, activity_id=doc["id"], metadata={"email_clicked": True})
    assert backend.get(doc["id"])["metadata"] == {"email_opened": True, "email_clicked": True}
    services.activity_delete(actor=rep, activity_id=doc["id"])
    assert backend.get(doc["id"]) is None


def test_validation_refuses_bad_activities_naming_the_field(backend, rep):
    cases = [
        ({"type": "fax"}, "type"),
        ({"type": "call", "duration_minutes": -5}, "duration_minutes"),
        ({"type": "meeting", "scheduled_at": T0, "completed_at": T0 - timedelta(minutes=1)}, "completed_at"),
        ({"type": "demo"}, "scheduled_at"),
        ({"type": "email", "metadata": {"email_opened": "yes"}}, "metadata"),
        ({"type": "call", "created_at": T0}, "created_at"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.activity_log(actor=rep, **kwargs)
        assert field in exc.value.message_dict, kwargs
    assert backend.count() == 0


def test_a_link_to_a_record_the_user_may_not_see_is_refused(backend, rep, other_rep):
    theirs = OpportunityFactory(owner=other_rep)
    with pytest.raises(ValidationError) as exc:
        _call(rep, opportunity_id=theirs.pk)
    assert "may not see" in exc.value.message_dict["opportunity_id"][0]
    with pytest.raises(ValidationError) as exc:
        _call(rep, lead_id=999999)
    assert "lead_id" in exc.value.message_dict
    assert backend.count() == 0


def test_call_on_a_deal_leads_its_and_its_accounts_timeline_and_publishes(backend, rep):
    # Given a deal of the rep on an account with an older activity on a contact
    deal = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep))
    contact = ContactFactory(account=deal.account, owner=rep)
    older = _call(rep, contact_id=contact.pk, completed_at=T0)
    # When the rep logs a call on the deal
    call = _call(rep, opportunity_id=deal.pk, subject="Pricing call")
    # Then it fills in the account and comes first on both timelines
    assert call["account_id"] == deal.account_id
    deal_tl = timeline.timeline(user=rep, kind="opportunity", record_id=deal.pk)
    account_tl = timeline.timeline(user=rep, kind="account", record_id=deal.account_id)
    assert deal_tl.entries[0].title == "Pricing call"
    assert [e.activity["id"] for e in account_tl.entries] == [call["id"], older["id"]]
    # and activity.logged is published with the catalogue's keys
    event = OutboxEvent.objects.filter(name="activity.logged").order_by("-created_at").first()
    assert event.payload["activity_id"] == call["id"]
    assert event.payload["opportunity_id"] == deal.pk and event.payload["account_id"] == deal.account_id


def test_completing_a_task_publishes_completed_once(backend, rep):
    task = services.activity_log(actor=rep, type="task", subject="Follow up", due_at=T0)
    done = services.activity_complete(actor=rep, activity_id=task["id"], outcome="sent")
    assert done["completed_at"] is not None and done["occurred_at"] == done["completed_at"]
    assert OutboxEvent.objects.filter(name="activity.completed", payload__activity_id=task["id"]).count() == 1
    with pytest.raises(ValidationError):
        services.activity_complete(actor=rep, activity_id=task["id"])


def test_rep_who_cannot_see_a_deal_gets_404_for_its_activities_and_timeline(backend, rep, other_rep):
    deal = OpportunityFactory(owner=other_rep, account=AccountFactory(owner=rep))
    call = _call(other_rep, opportunity_id=deal.pk)
    with pytest.raises(Http404):
        selectors.activity_get(user=rep, activity_id=call["id"])
    with pytest.raises(Http404):
        timeline.timeline(user=rep, kind="opportunity", record_id=deal.pk)
    # The rep sees the account, but not the deal's activity on the account's timeline or in lists
    assert timeline.timeline(user=rep, kind="account", record_id=deal.account_id).entries == []
    assert selectors.activity_list(user=rep)[0] == []
    assert [d["id"] for d in selectors.activity_list(user=other_rep)[0]] == [call["id"]]


def test_unlinked_activity_is_visible_to_its_owner_and_their_managers_only(backend, rep, manager, other_rep):
    task = services.activity_log(actor=rep, type="task", subject="Plan week")
    assert selectors.activity_get(user=manager, activity_id=task["id"])["id"] == task["id"]
    with pytest.raises(Http404):
        selectors.activity_get(user=other_rep, activity_id=task["id"])


def test_timeline_pages_with_a_cursor_and_filters_by_type(backend, rep):
    lead = LeadFactory(assigned_to=rep)
    made = [_call(rep, lead_id=lead.pk, completed_at=T0 + timedelta(minutes=i))["id"] for i in range(5)]
    email = services.activity_log(actor=rep, type="email", lead_id=lead.pk, completed_at=T0 + timedelta(hours=2))
    first = timeline.timeline(user=rep, kind="lead", record_id=lead.pk, limit=4)
    second = timeline.timeline(user=rep, kind="lead", record_id=lead.pk, limit=4, cursor=first.next_cursor)
    seen = [e.activity["id"] for e in first.entries + second.entries]
    assert seen == [email["id"], *reversed(made)]
    assert second.next_cursor is None
    calls = timeline.timeline(user=rep, kind="lead", record_id=lead.pk, types=["call"])
    assert {e.kind for e in calls.entries} == {"call"}


def test_history_providers_merge_in_time_order(backend, rep):
    deal = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep))
    _call(rep, opportunity_id=deal.pk, completed_at=T0 + timedelta(hours=1), subject="late")
    _call(rep, opportunity_id=deal.pk, completed_at=T0 - timedelta(hours=1), subject="early")

    def stage_changes(ids, before, limit):
        entries = [timeline.TimelineEntry(time=T0, kind="stage_changed", title="Prospecting → Proposal",
                                          refs={"opportunity_id": ids[0]}, key="stage:1")]
        return [e for e in entries if before is None or e.time <= before][:limit]

    timeline.register_history_provider("opportunity", stage_changes)
    try:
        titles = [e.title for e in timeline.timeline(user=rep, kind="opportunity", record_id=deal.pk).entries]
        account_titles = [e.title for e in timeline.timeline(user=rep, kind="account", record_id=deal.account_id).entries]
        only_history = timeline.timeline(user=rep, kind="opportunity", record_id=deal.pk, types=["history"]).entries
    finally:
        timeline.unregister_history_provider("opportunity", stage_changes)
    assert titles == ["late", "Prospecting → Proposal", "early"]
    assert account_titles == titles
    assert [e.type for e in only_history] == ["history"]


def test_selectors_for_quotas_and_intelligence(backend, rep, manager):
    deal = OpportunityFactory(owner=rep)
    _call(rep, opportunity_id=deal.pk, completed_at=T0)
    task = services.activity_log(actor=rep, type="task", opportunity_id=deal.pk, subject="Send deck")
    services.activity_complete(actor=rep, activity_id=task["id"])
    counts = selectors.activity_counts(user_ids=[rep.pk, manager.pk], start=T0 - timedelta(days=1))
    assert counts == {"call": 1, "task": 1}
    assert selectors.completed_activity_count(user_ids=[rep.pk], start=T0 - timedelta(days=1)) == 2
    assert selectors.completed_activity_count(user_ids=[rep.pk], start=T0 + timedelta(seconds=1)) == 1
    rows = selectors.activities_for(kind="opportunity", ids=[deal.pk])
    assert [r["type"] for r in rows] == ["call", "task"]
    as_of = selectors.activities_for(kind="opportunity", ids=[deal.pk], until=T0 + timedelta(minutes=1))
    assert as_of == []  # both were recorded after that moment (created now)


def test_activity_summary_counts_by_type_and_recent_as_known_then(backend, rep):
    # Given two deals with calls and an email, 20 and 2 days ago, and a lead's call
    now = datetime.now(UTC)
    deal, other = OpportunityFactory(owner=rep), OpportunityFactory(owner=rep)
    _call(rep, opportunity_id=deal.pk, completed_at=now - timedelta(days=20))
    _call(rep, opportunity_id=deal.pk, completed_at=now - timedelta(days=2))
    services.activity_log(actor=rep, type="email", subject="Deck", opportunity_id=other.pk,
                          completed_at=now - timedelta(days=2))
    _call(rep, lead_id=LeadFactory(assigned_to=rep).pk, completed_at=now - timedelta(days=2))
    later = now + timedelta(minutes=1)
    # When intelligence asks for the deals' counts by type and of the last 14 days
    summary = selectors.activity_summary(kind="opportunity", ids=[deal.pk, other.pk], until=later,
                                         types=("call", "email", "meeting"), recent_since=later - timedelta(days=14))
    # Then each deal has its counts, and the lead's call is not among them
    assert summary == {deal.pk: {"counts": {"call": 2}, "recent": 1},
                       other.pk: {"counts": {"email": 1}, "recent": 1}}
    every_deal = selectors.activity_summary(kind="opportunity", ids=None, until=later, types=("call",),
                                            recent_since=later - timedelta(days=14))
    assert every_deal[deal.pk] == {"counts": {"call": 2}, "recent": 1}
    # and before they were logged, nothing counts
    assert selectors.activity_summary(kind="opportunity", ids=[deal.pk], until=now - timedelta(days=1),
                                      types=("call",), recent_since=now - timedelta(days=15)) == {}


def test_my_tasks_groups_overdue_today_and_upcoming(backend, rep):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    overdue = services.activity_log(actor=rep, type="task", subject="old", due_at=now - timedelta(days=2))
    today = services.activity_log(actor=rep, type="task", subject="today", due_at=now + timedelta(hours=3))
    later = services.activity_log(actor=rep, type="task", subject="later", due_at=now + timedelta(days=3))
    groups = selectors.my_tasks(user=rep, now=now)
    assert [d["id"] for d in groups["overdue"]] == [overdue["id"]]
    assert [d["id"] for d in groups["today"]] == [today["id"]]
    assert [d["id"] for d in groups["upcoming"]] == [later["id"]]
