"""Demo activities: calls, emails, meetings and tasks on the demo leads, deals and accounts.

Runs after the apps that own those records (order 40) and finds them through
the link registry, so it imports none of them. Where there are no such
records yet, it gives every rep tasks and meetings of their own.
"""

import random
from datetime import timedelta

from django.utils import timezone

from activities import links, services
from salesapp.access import rule_for
from salesapp.demo import register_loader

SUBJECTS = {
    "call": ["Discovery call", "Follow-up call", "Pricing questions", "Check-in with champion", "Budget call"],
    "email": ["Intro and next steps", "Proposal sent", "Case study", "Recap of our call", "Security questionnaire"],
    "meeting": ["Stakeholder meeting", "Technical deep dive", "Procurement review", "Kick-off"],
    "demo": ["Product demo", "Tailored demo for the team"],
    "task": ["Send the proposal", "Prepare the business case", "Book a demo", "Update the mutual plan", "Chase the legal review"],
}
OUTCOMES = ["connected", "left_voicemail", "no_answer", "connected"]


def _owner_id(obj, unowned_to) -> int:
    """The record's owner (the owner field its access rule names), or `unowned_to` for an unowned record."""
    return getattr(obj, f"{rule_for(type(obj)).owner_field}_id") or unowned_to.pk


def _history(actor, rng, now, owner_id, link: dict, *, count: int) -> None:
    for _ in range(count):
        kind = rng.choice(["call", "call", "email", "email", "meeting"])
        when = now - timedelta(days=rng.randint(1, 45), hours=rng.randint(0, 8), minutes=rng.choice([0, 15, 30]))
        common = {"actor": actor, "user_id": owner_id, "subject": rng.choice(SUBJECTS[kind]), "created_at": when, **link}
        if kind == "call":
            services.activity_log(type="call", duration_minutes=rng.choice([5, 15, 25, 40]), outcome=rng.choice(OUTCOMES),
                                  completed_at=when, description="Talked through timeline and decision process.", **common)
        elif kind == "email":
            services.activity_log(type="email", completed_at=when, description="Hi, as discussed please find attached...",
                                  metadata={"email_opened": rng.random() < 0.7, "email_clicked": rng.random() < 0.3}, **common)
        else:
            services.activity_log(type="meeting", scheduled_at=when, completed_at=when + timedelta(minutes=45),
                                  duration_minutes=45, participants=["buyer@customer.example"],
                                  metadata={"meeting_notes": "Agreed on a pilot scope."}, **common)


def _open_work(actor, rng, now, owner_id, link: dict) -> None:
    due = now + timedelta(days=rng.choice([-3, -1, 0, 0, 1, 2, 5, 9]), hours=rng.randint(-2, 4))
    services.activity_log(actor=actor, type="task", user_id=owner_id, subject=rng.choice(SUBJECTS["task"]), due_at=due,
                          created_at=now - timedelta(days=rng.randint(1, 5)), **link)
    if rng.random() < 0.5:
        kind = rng.choice(["meeting", "demo"])
        start = (now + timedelta(days=rng.randint(1, 12))).replace(hour=rng.choice([9, 11, 14, 16]), minute=0, second=0, microsecond=0)
        services.activity_log(actor=actor, type=kind, user_id=owner_id, subject=rng.choice(SUBJECTS[kind]),
                              scheduled_at=start, duration_minutes=rng.choice([30, 45, 60]),
                              participants=["buyer@customer.example", "cto@customer.example"],
                              created_at=now - timedelta(days=1), **link)


def load_demo_activities(users: dict) -> None:
    rng = random.Random(40)
    now = timezone.now()
    admin, reps = users["admin"], users["reps"]
    any_records = False
    for kind, limit, per in (("opportunity", 60, 4), ("lead", 60, 2), ("account", 30, 1)):
        records = list(links.link_for(kind).model.objects.order_by("pk")[:limit])
        any_records = any_records or bool(records)
        for i, obj in enumerate(records):
            owner_id = _owner_id(obj, reps[i % len(reps)])
            _history(admin, rng, now, owner_id, {f"{kind}_id": obj.pk}, count=rng.randint(1, per))
            if kind != "account" and i % 3 == 0:
                _open_work(admin, rng, now, owner_id, {f"{kind}_id": obj.pk})
    for rep in [*reps, users["manager"]]:
        # Everyone has a few tasks of their own: overdue, today, upcoming.
        for offset, subject in ((-2, "Update the forecast notes"), (0, "Plan tomorrow's calls"), (3, "Quarterly account review")):
            services.activity_log(actor=admin, type="task", user_id=rep.pk, subject=subject,
                                  due_at=now + timedelta(days=offset), created_at=now - timedelta(days=4))
        if not any_records:
            _open_work(admin, rng, now, rep.pk, {})


register_loader(40, "activities", load_demo_activities)
