"""A generated sales history with a known signal, for demos, tests and benchmarks.

Each deal and lead gets a hidden engagement e in [0, 1]. Engaged deals get
more activities (more meetings), stay in touch until they close, move through
stages faster, push their close date less often and usually win; disengaged
ones go quiet, slip and usually lose. Industry carries no signal and the
source a little; deal size and company size matter only together (a deal that
fits the company's size wins more often), an interaction that a model reading
one field at a time (naive Bayes) cannot see and trees (LightGBM) can.

A development and test tool, not part of the shipped apps: records are
written in bulk with their past timestamps (services stamp "now", which a
history cannot use), without events; activities go in through the activities
app's store. Scores are not written here: train, then refresh the scores,
and the owning apps write them. From a shell, on a development database:

    python -m tests.intelligence.synthetic --deals 400 --leads 200 --train
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

SOURCES = ("web", "referral", "event", "outbound", "partner")
INDUSTRIES = ("Software", "Manufacturing", "Healthcare", "Retail", "Financial services", "Education")
TITLES = ("CEO", "VP Sales", "Director of IT", "Operations Manager", "Analyst", "Head of Marketing", "Engineer")
COUNTRIES = ("US", "GB", "DE", "FR", "CA")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _activities(rng, start, end, e, *, owner_id, rate=None, contact_ids=(), opportunity_id=None, lead_id=None, account_id=None):
    """Activities between start and end at a rate and mix set by engagement."""
    docs = []
    rate = rate or 0.04 + 0.3 * e  # per day
    t = start + timedelta(days=rng.expovariate(rate))
    while t < end:
        r = rng.random()
        typ = "meeting" if r < 0.08 + 0.25 * e else "demo" if r < 0.12 + 0.32 * e else "call" if r < 0.55 else "email"
        docs.append({
            "type": typ, "subject": f"{typ.title()} (history)", "user_id": owner_id, "created_by_id": owner_id,
            "opportunity_id": opportunity_id, "lead_id": lead_id, "account_id": account_id,
            "contact_id": rng.choice(contact_ids) if contact_ids else None,
            "occurred_at": t, "completed_at": t, "scheduled_at": t if typ in ("meeting", "demo") else None,
            "created_at": t, "updated_at": t, "description": "", "outcome": "", "participants": [], "metadata": {},
        })
        t += timedelta(days=rng.expovariate(rate))
    return docs


def generate_history(*, owners, deals: int = 400, leads: int = 200, seed: int = 7, now=None,
                     territories=None) -> dict:
    """Write `deals` deals and `leads` leads with stage, field and activity history; return counts."""
    # Models load once the app registry is ready: main() sets Django up after this module is imported.
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from activities.store import get_store
    from intelligence.sources import pipeline
    from leads.models import Lead
    from opportunities.models import Account, Contact, Opportunity, StageHistory
    from salesapp.crypto import blind_index

    stages = pipeline()
    open_path, last = stages.open, len(stages.open) - 1
    won_stage, lost_stage = min(stages.won), min(stages.lost)
    rng = random.Random(seed)
    now = now or timezone.now()
    owners = list(owners)
    territories = list(territories or [])
    opp_ct = ContentType.objects.get_for_model(Opportunity)
    lead_ct = ContentType.objects.get_for_model(Lead)
    counts = {"deals": 0, "won": 0, "lost": 0, "open": 0, "leads": 0, "activities": 0}

    with transaction.atomic():
        accounts = Account.objects.bulk_create([
            Account(name=f"History Co {seed}-{i}", normalized_name=f"history co {seed}-{i}",
                    industry=rng.choice(INDUSTRIES), employee_count=int(rng.lognormvariate(5, 1.2)) + 5,
                    annual_revenue=Decimal(int(rng.lognormvariate(16, 1.0))), billing_country=rng.choice(COUNTRIES),
                    owner=rng.choice(owners), created_at=now - timedelta(days=600))
            for i in range(max(20, deals // 4))
        ])
        contacts_by_account = {}
        contact_objs = []
        for a in accounts:
            for j in range(4):
                contact_objs.append(Contact(account=a, first_name="Pat", last_name=f"Buyer {a.pk}-{j}",
                                            email=f"buyer{a.pk}-{j}@history.example", owner=a.owner))
        for c in Contact.objects.bulk_create(contact_objs):
            contacts_by_account.setdefault(c.account_id, []).append(c.pk)

        # Leads first: converted ones become deals.
        lead_specs, lead_objs = [], []
        for i in range(leads):
            e = rng.random()
            created = now - timedelta(days=rng.uniform(5, 520))
            decide_after = timedelta(days=rng.uniform(5, 40))
            decided = created + decide_after
            if decided > now:
                status = "contacted" if rng.random() < 0.5 else "new"
            elif rng.random() < _sigmoid(7 * (e - 0.5)):
                status = "converted"
            else:
                status = "unqualified"
            owner = rng.choice(owners)
            lead_specs.append((e, created, decided, status, owner))
            lead_objs.append(Lead(
                source=rng.choice(SOURCES), status=status, first_name="Lee", last_name=f"History {seed}-{i}",
                email=f"lead{seed}-{i}@history.example",
                email_blind_index=blind_index("email", f"lead{seed}-{i}@history.example"),
                company=f"Prospect {i}", title=rng.choice(TITLES), industry=rng.choice(INDUSTRIES),
                employee_count=int(rng.lognormvariate(5, 1.2)) + 5, country=rng.choice(COUNTRIES),
                phone="+1 555 0100" if rng.random() < 0.6 else "", assigned_to=owner, created_at=created,
                converted_at=decided if status == "converted" else None,
                territory=rng.choice(territories) if territories else None,
            ))
        lead_objs = Lead.objects.bulk_create(lead_objs)
        counts["leads"] = len(lead_objs)

        deal_specs = []  # (e, created, owner, lead)
        for lead, (e, _created, decided, status, owner) in zip(lead_objs, lead_specs, strict=True):
            if status == "converted":
                deal_specs.append((min(1.0, max(0.0, 0.8 * e + 0.2 * rng.random())), decided, owner, lead))
        while len(deal_specs) < deals:
            deal_specs.append((rng.random(), now - timedelta(days=rng.uniform(10, 540)), rng.choice(owners), None))

        opps, plans = [], []
        for k, (e, created, owner, lead) in enumerate(deal_specs):
            source = lead.source if lead else rng.choice(SOURCES)
            account = accounts[k % len(accounts)]
            amount = Decimal(int(rng.lognormvariate(10, 0.8)) // 100 * 100 + 1000)
            # Deal size must fit the company: big deals win at big companies, small ones at small
            # companies. Each field alone says nothing (an interaction naive Bayes cannot see).
            fits = (amount >= 23_000) == ((account.employee_count or 0) >= 150)
            p_win = _sigmoid(5 * (e - 0.5) + (2.5 if fits else -2.5)
                             + (0.4 if source == "referral" else 0) - (0.3 if source == "outbound" else 0))
            won = rng.random() < p_win
            last_index = last if won else min(last, int(rng.random() * len(open_path) * (0.4 + 0.6 * e)))
            t = created
            path = []
            for idx in range(last_index + 1):
                t = t + timedelta(days=rng.expovariate(1 / (5 + 22 * (1 - e))) + 1)
                path.append((open_path[idx], t))  # leaves stage idx at t
            close_at = path[-1][1]
            if close_at > now:  # still open: in the first stage it has not left yet
                entered = [s for s, left in path if left <= now]
                stage = open_path[min(len(entered), last)]
                final = None
            else:
                stage = won_stage if won else lost_stage
                final = close_at
            expected = (created + timedelta(days=rng.uniform(30, 80))).date()
            pushes = []
            for _ in range(min(6, int(rng.expovariate(1 / (0.2 + 2.5 * (1 - e)))))):
                end = final or now
                when = created + (end - created) * rng.uniform(0.1, 0.95)
                pushes.append(when)
            pushes.sort()
            dates = [expected]
            for _ in pushes:
                dates.append(dates[-1] + timedelta(days=rng.randint(14, 45)))
            opps.append(Opportunity(
                name=f"History deal {seed}-{k}", account=account, lead_id=lead.pk if lead else None,
                stage_id=stage, probability=stages.probabilities[stage], amount=amount,
                expected_close_date=dates[-1], actual_close_date=final.date() if final else None, owner=owner,
                territory=rng.choice(territories) if territories else None, source=source,
                next_step="Agree next meeting" if rng.random() < 0.35 + 0.3 * e else "",
                forecast_category="closed" if final else "pipeline", created_at=created,
                stage_changed_at=final or ([left for _s, left in path if left <= now] or [created])[-1],
            ))
            plans.append((e, created, path, final, stage, pushes, dates, account, owner, won))
        opps = Opportunity.objects.bulk_create(opps, batch_size=1000)

        history, entries, docs, lead_links, touched = [], [], [], [], []
        for opp, (e, created, path, final, stage, pushes, dates, account, owner, won) in zip(opps, plans, strict=True):
            counts["deals"] += 1
            counts["open" if final is None else ("won" if won else "lost")] += 1
            prev_t = created
            history.append(StageHistory(opportunity=opp, from_stage="", to_stage="discovery", changed_by=owner,
                                        changed_at=created))
            for i, (s, left) in enumerate(path):
                if left > now:
                    break
                to = open_path[i + 1] if i + 1 < len(path) else stage
                if to == s:
                    break
                history.append(StageHistory(opportunity=opp, from_stage=s, to_stage=to, changed_by=owner,
                                            changed_at=left, days_in_previous_stage=Decimal(
                                                round((left - prev_t).total_seconds() / 86400, 2))))
                prev_t = left
            for when, old, new in zip(pushes, dates[:-1], dates[1:], strict=True):
                entries.append(LogEntry(content_type=opp_ct, object_pk=str(opp.pk), object_id=opp.pk,
                                        object_repr=opp.name, action=LogEntry.Action.UPDATE, actor=owner,
                                        changes={"expected_close_date": [str(old), str(new)]}, timestamp=when))
            end = final or now
            quiet_from = created + (end - created) * (0.35 + 0.65 * e) if not won else end
            contacts = contacts_by_account.get(account.pk, [])[: 1 + int(3 * e + rng.random())]
            if contacts:
                opp.contacts.add(*contacts)
            made = _activities(rng, created, min(quiet_from, now), e, owner_id=owner.pk, contact_ids=contacts,
                               opportunity_id=opp.pk, account_id=account.pk)
            if made:
                opp.last_activity_at = made[-1]["occurred_at"]
                touched.append(opp)
            docs += made
            if opp.lead_id:
                lead_links.append((opp.lead_id, opp.pk))
        StageHistory.objects.bulk_create(history, batch_size=2000)
        Opportunity.objects.bulk_update(touched, ["last_activity_at"], batch_size=1000)

        for lead, (e, created, decided, status, owner) in zip(lead_objs, lead_specs, strict=True):
            end = min(decided, now)
            docs += _activities(rng, created, created + (end - created) * (0.3 + 0.7 * e), e, owner_id=owner.pk,
                                lead_id=lead.pk, rate=0.08 + 0.6 * e)
            if status == "unqualified":
                entries.append(LogEntry(content_type=lead_ct, object_pk=str(lead.pk), object_id=lead.pk,
                                        object_repr=str(lead), action=LogEntry.Action.UPDATE, actor=owner,
                                        changes={"status": ["contacted", "unqualified"]}, timestamp=decided))
        for lead_id, opp_id in lead_links:
            Lead.objects.filter(pk=lead_id).update(converted_opportunity_id=opp_id)
        LogEntry.objects.bulk_create(entries, batch_size=2000)
        get_store().insert_many(docs)
        counts["activities"] = len(docs)
    return counts



def generate_null_lead_history(*, owners, leads: int = 2000, seed: int = 11, now=None, plant: bool = False,
                               win_rate: float = 0.4) -> dict:
    """Leads whose outcome is a coin toss, independent of every field and activity, but decided at different
    speeds: won leads convert within days (their deal closes won soon after), lost ones are unqualified weeks
    later, as in real pipelines. Any model that learns something here learned when outcomes arrive, not what
    predicts them. With `plant`, each lead's industry is overwritten at the decision with its outcome (and the
    audit log records the change then): a field written after the decision, which must not help.
    """
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from activities.store import get_store
    from intelligence.sources import pipeline
    from leads.models import Lead
    from opportunities.models import Account, Opportunity, StageHistory
    from salesapp.crypto import blind_index

    stages = pipeline()
    won_stage = min(stages.won)
    rng = random.Random(seed)
    now = now or timezone.now()
    owners = list(owners)
    lead_ct = ContentType.objects.get_for_model(Lead)
    with transaction.atomic():
        account = Account.objects.create(name=f"Null Co {seed}", normalized_name=f"null co {seed}",
                                         created_at=now - timedelta(days=900))
        specs, objs = [], []
        for i in range(leads):
            created = now - timedelta(days=rng.uniform(90, 600))
            won = rng.random() < win_rate
            open_for = timedelta(days=rng.uniform(2, 12) if won else rng.uniform(12, 60))
            decided = created + open_for
            owner = rng.choice(owners)
            industry = rng.choice(INDUSTRIES)
            specs.append((created, decided, won, owner, industry))
            objs.append(Lead(
                source=rng.choice(SOURCES), status="converted" if won else "unqualified", first_name="Nil",
                last_name=f"Null {seed}-{i}", email=f"null{seed}-{i}@history.example",
                email_blind_index=blind_index("email", f"null{seed}-{i}@history.example"), company=f"Nobody {i}",
                title=rng.choice(TITLES), industry=("Won-" if won else "Lost-") + industry if plant else industry,
                employee_count=int(rng.lognormvariate(5, 1.2)) + 5, country=rng.choice(COUNTRIES),
                phone="+1 555 0100" if rng.random() < 0.6 else "", assigned_to=owner, created_at=created,
                converted_at=decided if won else None,
            ))
        objs = Lead.objects.bulk_create(objs)
        deals, entries, docs = [], [], []
        for lead, (created, decided, won, owner, industry) in zip(objs, specs, strict=True):
            t = created + timedelta(days=rng.expovariate(0.3))
            while t < decided:  # the same engagement whatever the outcome
                typ = rng.choice(("call", "email", "email", "meeting"))
                docs.append({"type": typ, "subject": f"{typ} (null history)", "user_id": owner.pk,
                             "created_by_id": owner.pk, "lead_id": lead.pk, "occurred_at": t, "completed_at": t,
                             "created_at": t, "updated_at": t, "description": "", "outcome": "",
                             "participants": [], "metadata": {}})
                t += timedelta(days=rng.expovariate(0.3))
            if won:
                closed = decided + timedelta(days=rng.uniform(3, 20))
                deals.append((lead, Opportunity(
                    name=f"Null deal {seed}-{lead.pk}", account=account, lead_id=lead.pk, stage_id=won_stage,
                    probability=100, amount=Decimal(10000), expected_close_date=closed.date(),
                    actual_close_date=closed.date(), owner=owner, source=lead.source, forecast_category="closed",
                    created_at=decided, stage_changed_at=closed), closed))
            else:
                entries.append(LogEntry(content_type=lead_ct, object_pk=str(lead.pk), object_id=lead.pk,
                                        object_repr=str(lead), action=LogEntry.Action.UPDATE, actor=owner,
                                        changes={"status": ["contacted", "unqualified"]}, timestamp=decided))
            if plant:
                entries.append(LogEntry(content_type=lead_ct, object_pk=str(lead.pk), object_id=lead.pk,
                                        object_repr=str(lead), action=LogEntry.Action.UPDATE, actor=owner,
                                        changes={"industry": [industry, lead.industry]},
                                        timestamp=decided + timedelta(hours=1)))
        opps = Opportunity.objects.bulk_create([o for _, o, _ in deals])
        StageHistory.objects.bulk_create([
            StageHistory(opportunity=o, from_stage="negotiation", to_stage=won_stage, changed_at=closed)
            for o, (_, _, closed) in zip(opps, deals, strict=True)
        ])
        for o, (lead, _, _) in zip(opps, deals, strict=True):
            Lead.objects.filter(pk=lead.pk).update(converted_opportunity_id=o.pk)
        LogEntry.objects.bulk_create(entries, batch_size=2000)
        get_store().insert_many(docs)
    return {"leads": len(objs), "won": len(deals), "activities": len(docs)}


def main() -> None:
    """`python -m tests.intelligence.synthetic`: a generated history in the configured (development) database."""
    import argparse
    import os

    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=400)
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--owners", default="", help="comma-separated owner emails (default: all sales reps)")
    parser.add_argument("--train", action="store_true", help="train the deal and lead models and score everything")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
    django.setup()

    from django.contrib.auth import get_user_model

    from intelligence import services
    from intelligence.tasks import model_train_task

    users = get_user_model().objects
    owners = list(users.filter(email__in=args.owners.split(",")) if args.owners else users.filter(role="sales_rep"))
    if not owners:
        parser.error("No owners: create sales reps first (seed_demo) or pass --owners.")
    print("Generated", generate_history(owners=owners, deals=args.deals, leads=args.leads, seed=args.seed))
    if args.train:
        for kind in ("deal", "lead"):
            result = model_train_task(kind)
            print(f"{kind}: {result['decision']}")
            rows = [(m["algorithm"] + f" v{m['version']}", m) for m in result.get("models", [])]
            rows += [(f"{name} (baseline)", m) for name, m in result.get("baselines", {}).items()]
            for name, m in rows:
                print(f"  {name:24} AUC {m['auc']:.3f}  Brier {m['brier']:.3f}  "
                      f"calibration error {m['calibration_error']:.3f}")
            services.scores_refresh(kind=kind, actor=None)


if __name__ == "__main__":
    main()
