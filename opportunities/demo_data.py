"""Demo accounts, contacts, ~30 deals across stages and owners, closed deals in past periods,
forecast submissions, an adjustment and a few weeks of snapshots.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from opportunities.models import ForecastSnapshot, Opportunity, StageHistory
from opportunities.periods import previous_quarter, quarter_of, week_start
from opportunities.selectors import forecast_rollup, open_stage_keys
from opportunities.services import accounts, contacts, deals, forecasts
from territories import selectors as territory_selectors
from territories import services as territory_services

ACCOUNTS = [
    # name, domain, industry, employees, revenue, country, state, postal
    ("Northwind Traders Inc.", "northwind.example", "technology", 1200, 250_000_000, "US", "CA", "94105"),
    ("Contoso Ltd", "contoso.example", "manufacturing", 5400, 900_000_000, "US", "NY", "10001"),
    ("Fabrikam GmbH", "fabrikam.example", "manufacturing", 800, 120_000_000, "DE", "BY", "80331"),
    ("Tailspin Toys", "tailspin.example", "retail", 150, 30_000_000, "US", "WA", "98101"),
    ("Wide World Importers", "wideworld.example", "logistics", 2300, 410_000_000, "GB", "", "EC1A"),
    ("Adventure Works", "adventure-works.example", "retail", 640, 85_000_000, "CA", "ON", "M5H"),
    ("Litware Inc", "litware.example", "technology", 95, 12_000_000, "US", "TX", "73301"),
    ("Proseware, Inc.", "proseware.example", "technology", 3100, 600_000_000, "US", "CA", "94043"),
    ("Woodgrove Bank", "woodgrove.example", "financial services", 15000, 4_000_000_000, "US", "NY", "10005"),
    ("Blue Yonder Airlines", "blueyonder.example", "transportation", 7000, 1_500_000_000, "FR", "", "75001"),
]
FIRST = ["Alex", "Sam", "Priya", "Jonas", "Mei", "Carlos", "Fatima", "Ola", "Noah", "Ines", "Kenji", "Laura"]
LAST = ["Keller", "Okafor", "Nguyen", "Schmidt", "Rossi", "Haddad", "Berg", "Silva", "Kowalski", "Tanaka"]
ROLES = ["decision_maker", "economic_buyer", "champion", "influencer", "technical_buyer", "user"]
PRODUCTS = ["Platform", "Expansion", "Renewal", "Analytics add-on", "Pilot", "Enterprise licence"]


def _spread_history(opp: Opportunity, start) -> None:
    """Give the deal's stage history realistic times between `start` and its last change."""
    rows = list(StageHistory.objects.filter(opportunity=opp).order_by("changed_at", "id"))
    end = opp.actual_close_date and timezone.make_aware(
        timezone.datetime.combine(opp.actual_close_date, timezone.datetime.min.time()).replace(hour=12))
    end = min(end or timezone.now(), timezone.now())
    if end <= start:
        start = end - timedelta(days=len(rows) * 5)
    step = (end - start) / max(len(rows) - 1, 1)
    previous = None
    for i, row in enumerate(rows):
        row.changed_at = start + step * i
        row.days_in_previous_stage = (
            Decimal((row.changed_at - previous).total_seconds() / 86400).quantize(Decimal("0.01")) if previous else None
        )
        previous = row.changed_at
    StageHistory.objects.bulk_update(rows, ["changed_at", "days_in_previous_stage"])
    Opportunity.objects.filter(pk=opp.pk).update(created_at=start, stage_changed_at=previous)


def _share_with_viewer(admin, viewer) -> None:
    """The read-only demo user holds North America (read only), so their pages have deals to show."""
    north_america = territory_selectors.territory_list(user=admin).filter(name="North America").first()
    if north_america is not None:
        territory_services.territory_grant_add(actor=admin, territory=north_america, user=viewer)


def load_demo(users: dict) -> None:
    rng = random.Random(42)
    admin, manager, reps = users["admin"], users["manager"], users["reps"]
    sellers = [*reps, manager]
    today = timezone.localdate()
    this_q, last_q = quarter_of(today), previous_quarter(today)

    made_accounts = []
    for i, (name, domain, industry, emp, rev, country, state, postal) in enumerate(ACCOUNTS):
        owner = sellers[i % len(sellers)]
        account = accounts.account_create(
            actor=admin, name=name, website_domain=domain, industry=industry, employee_count=emp,
            annual_revenue=Decimal(rev), billing_country=country, billing_state=state, billing_postal_code=postal,
            owner=owner,
        )
        made_accounts.append(account)
        for _ in range(2):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            contacts.contact_create(
                actor=admin, account=account, first_name=first, last_name=last,
                email=f"{first}.{last}.{i}@{domain}".lower(), phone=f"+1 555 01{rng.randint(10, 99)}",
                title=rng.choice(["CTO", "VP Sales", "Head of IT", "CFO", "Procurement lead"]),
                buying_role=rng.choice(ROLES),
            )
    accounts.account_update(actor=admin, account=made_accounts[7], parent=made_accounts[0])

    open_keys = open_stage_keys()
    for i in range(30):
        account = made_accounts[i % len(made_accounts)]
        owner = account.owner
        deal_contacts = list(account.contacts.all()[:1])
        amount = Decimal(rng.randrange(8, 160) * 1000)
        kind = "open" if i < 20 else ("won" if i % 2 == 0 else "lost")
        if kind == "open":
            close = this_q.start + timedelta(days=rng.randrange(0, (this_q.end - this_q.start).days + 40))
        else:
            close = last_q.start + timedelta(days=rng.randrange(0, (last_q.end - last_q.start).days))
            if i >= 27:  # a few closed this quarter
                close = min(this_q.start + timedelta(days=rng.randrange(0, 20)), today)
        created = timezone.now() - timedelta(days=rng.randrange(30, 150))
        opp = deals.opportunity_create(
            actor=owner, account=account, owner=owner, name=f"{account.name.split()[0]} {rng.choice(PRODUCTS)}",
            amount=amount, expected_close_date=close, contacts=deal_contacts, source=rng.choice(["inbound", "outbound",
                                                                                             "partner", "event"]),
            next_step=rng.choice(["Send proposal", "Security review", "Pricing call", "Demo for IT", ""]),
        )
        target = open_keys[i % len(open_keys)] if kind == "open" else rng.choice(open_keys[1:])
        for stage in open_keys[1:open_keys.index(target) + 1]:
            deals.opportunity_update(actor=owner, opportunity=opp, stage=stage)
        if kind == "won":
            deals.opportunity_close(actor=owner, opportunity=opp, outcome="won", close_date=close,
                                       note="Signed after pilot")
        elif kind == "lost":
            deals.opportunity_close(actor=owner, opportunity=opp, outcome="lost",
                                       reason=rng.choice(["Price", "Lost to competitor", "No budget", "Timing"]),
                                       close_date=close)
        opp.refresh_from_db()
        _spread_history(opp, created)

    # Calls for last quarter (closed: accuracy shows) and this quarter, from each seller and the manager.
    for period in (last_q, this_q):
        when = timezone.make_aware(timezone.datetime.combine(period.start + timedelta(days=20),
                                                             timezone.datetime.min.time()).replace(hour=10))
        when = min(when, timezone.now())
        for person in sellers:
            figures = forecast_rollup(user=admin, period=period.name, user_id=person.pk)["total"]
            guess = (figures["closed_won"] + figures["commit"]) * Decimal(rng.choice(["0.8", "0.9", "1.1", "1.25"]))
            guess = guess.quantize(Decimal("1000")) if guess else Decimal("25000")
            forecasts.forecast_submit(actor=person, period=period.name, commit=guess,
                                     best_case=guess + figures["best_case"], notes="Demo call",
                                     submitted_at=when)
    forecasts.forecast_adjust(actor=manager, user=reps[0], period=this_q.name, category="commit",
                             amount=Decimal("40000"), reason="Two deals depend on the same budget approval")

    _share_with_viewer(admin, users["viewer"])

    # A few weeks of snapshots for the trend chart: this week's figures, ramped for earlier weeks.
    forecasts.forecast_snapshot_take(today=today, period_names=[this_q.name])
    latest = list(ForecastSnapshot.objects.filter(period=this_q.name))
    for weeks_back in range(1, 6):
        monday = week_start(today) - timedelta(weeks=weeks_back)
        if monday < this_q.start - timedelta(days=7):
            break
        factor = Decimal(1) - Decimal("0.12") * weeks_back
        for snap in latest:
            ForecastSnapshot.objects.get_or_create(
                user_id=snap.user_id, scope=snap.scope, period=snap.period, week_start=monday,
                defaults={f: (getattr(snap, f) * factor).quantize(Decimal("0.01")) for f in (
                    "closed_won", "commit", "best_case", "pipeline", "weighted", "adjusted_commit",
                    "adjusted_best_case")},
            )
