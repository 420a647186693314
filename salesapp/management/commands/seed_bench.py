"""Fill PostgreSQL with benchmark-scale data through COPY.

The data is internally consistent: geographic territories by country and
state with members, leads and accounts placed in the territory their address
matches and owned by one of its members, opportunities on those accounts with
stage histories, activities spread over two years, quotas for four quarters.

Models are looked up through the app registry, so the kernel imports no app;
columns not filled here take each field's default, so a field added later does
not break the seed.
"""

import json
import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models

from salesapp.roles import Role

US_STATES = [
    "CA", "WA", "OR", "NV", "AZ", "UT", "CO", "TX", "NY", "NJ", "MA", "PA", "IL", "OH", "MI", "GA", "FL", "NC",
    "VA", "MN", "WI", "MO", "TN", "IN", "MD",
]
COUNTRIES = ["US", "CA", "GB", "DE", "FR", "NL", "SE", "ES", "IT", "AU", "JP", "BR"]
INDUSTRIES = ["technology", "finance", "healthcare", "manufacturing", "retail", "education", "energy", "media"]
SOURCES = ["web", "referral", "event", "outbound", "partner", "ads"]
STATUSES = ["new"] * 40 + ["contacted"] * 25 + ["qualified"] * 15 + ["unqualified"] * 15 + ["converted"] * 5
OPEN_STAGES = [("discovery", 10), ("qualification", 20), ("proposal", 50), ("negotiation", 75)]
FIRST = ["Ana", "Ben", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Mo", "Nia"]
LAST = ["Smith", "Garcia", "Kim", "Müller", "Rossi", "Nguyen", "Okafor", "Silva", "Khan", "Berg", "Lopez"]
TITLES = ["VP Sales", "CTO", "Head of IT", "Engineer", "Director of Ops", "CFO", "Analyst", "Manager"]
WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell"]


class Copier:
    """Writes rows of a model with COPY; unset columns take the field default."""

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]
        self.defaults = {}
        for f in self.fields:
            value = f.get_default() if f.has_default() else None
            if isinstance(f, models.JSONField):
                value = json.dumps(value if value is not None else None)
            self.defaults[f.column] = value
        self.columns = [f.column for f in self.fields]

    def write(self, rows):
        table = self.model._meta.db_table
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row.get(c, self.defaults[c]) for c in self.columns])


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')
        return cursor.fetchone()[0]


def _reset_sequence(model) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))"
        )


def _model_with_table(app_label, name):
    """The model, if it exists and its table has been migrated."""
    try:
        model = apps.get_model(app_label, name)
    except LookupError:
        return None
    return model if model._meta.db_table in connection.introspection.table_names() else None


class Command(BaseCommand):
    help = "Fill PostgreSQL with benchmark data (COPY); sizes scale from --leads."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--opportunities", type=int, default=None)
        parser.add_argument("--accounts", type=int, default=None)
        parser.add_argument("--activities", type=int, default=None)
        parser.add_argument("--users", type=int, default=None)
        parser.add_argument("--territories", type=int, default=None)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, **o):
        if connection.vendor != "postgresql":
            raise CommandError("seed_bench fills PostgreSQL: set DATABASE_URL")
        scale = o["leads"] / 1_000_000
        self.sizes = {
            "leads": o["leads"],
            "opportunities": o["opportunities"] or int(250_000 * scale),
            "accounts": o["accounts"] or max(100, int(100_000 * scale)),
            "activities": o["activities"] if o["activities"] is not None else int(2_000_000 * scale),
            "users": o["users"] or max(20, int(500 * min(1, scale * 2))),
            "territories": o["territories"] or 200,
        }
        self.rng = random.Random(o["seed"])
        self.now = datetime.now(UTC)
        self.started = time.perf_counter()
        self.stdout.write(f"seed_bench sizes: {self.sizes}")
        self._users()
        self._territories()
        self._accounts()
        self._opportunities()
        self._leads()
        self._activities()
        self._quotas()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self._progress("done")

    def _progress(self, what, n=None):
        elapsed = time.perf_counter() - self.started
        self.stdout.write(f"[{elapsed:7.1f}s] {what}" + (f": {n:,} rows" if n is not None else ""))
        self.stdout.flush()

    def _batched(self, copier, generator, total, label, batch=100_000):
        done = 0
        buf = []
        for row in generator:
            buf.append(row)
            if len(buf) >= batch:
                copier.write(buf)
                done += len(buf)
                buf = []
                self._progress(f"{label} {done:,}/{total:,}")
        if buf:
            copier.write(buf)
            done += len(buf)
        self._progress(label, done)

    # --- users: managers with teams of reps -------------------------------------
    def _users(self):
        User = apps.get_model("salesapp", "User")
        Group = apps.get_model("auth", "Group")
        password = make_password("bench-pass-123")
        n = self.sizes["users"]
        first_id = _next_id(User)
        n_managers = max(2, n // 10)
        rows = []
        self.managers, self.reps = [], []
        for i in range(n):
            uid = first_id + i
            if i == 0:
                role, manager = Role.ADMIN, None
            elif i <= n_managers:
                role, manager = Role.SALES_MANAGER, None
                self.managers.append(uid)
            else:
                role = Role.SALES_REP
                manager = self.managers[(i - n_managers - 1) % len(self.managers)]
                self.reps.append(uid)
            rows.append({
                "id": uid, "email": f"bench{uid}@bench.example", "password": password, "role": role.value,
                "manager_id": manager, "first_name": self.rng.choice(FIRST), "last_name": self.rng.choice(LAST),
                "is_active": True, "is_staff": role == Role.ADMIN, "is_superuser": role == Role.ADMIN,
                "date_joined": self.now,
            })
        Copier(User).write(rows)
        _reset_sequence(User)
        groups = dict(Group.objects.values_list("name", "id"))
        through = User.groups.through
        through.objects.bulk_create(
            [through(user_id=r["id"], group_id=groups[r["role"]]) for r in rows if r["role"] in groups], batch_size=5000
        )
        self.admin_id = first_id
        self._progress("users", n)

    # --- territories: regions > countries > US states ------------------------------
    def _territories(self):
        TerritoryModel = apps.get_model("territories", "TerritoryModel")
        Territory = apps.get_model("territories", "Territory")
        Member = apps.get_model("territories", "TerritoryMember")
        active = TerritoryModel.objects.filter(state="active").first() or TerritoryModel.objects.create(
            name="Bench plan", state="active", activated_at=self.now
        )
        self.territory_by_geo = {}
        self.members = {}
        created = []
        na = Territory.objects.create(model=active, name="Bench North America", countries=["US", "CA"], priority=1)
        emea = Territory.objects.create(model=active, name="Bench Rest of World", countries=COUNTRIES[2:], priority=1)
        created += [na, emea]
        for country in COUNTRIES:
            parent = na if country in ("US", "CA") else emea
            t = Territory.objects.create(model=active, name=f"Bench {country}", parent=parent, countries=[country])
            created.append(t)
            self.territory_by_geo[(country, "")] = t.id
        us = self.territory_by_geo[("US", "")]
        budget = self.sizes["territories"] - len(created)
        for state in US_STATES:
            if budget <= 0:
                break
            t = Territory.objects.create(model=active, name=f"Bench US {state}", parent_id=us, states=[state])
            created.append(t)
            self.territory_by_geo[("US", state)] = t.id
            budget -= 1
        i = 0
        while budget > 0:  # industry overlays under US states, to reach the requested count
            state = US_STATES[i % len(US_STATES)]
            parent = self.territory_by_geo.get(("US", state), us)
            industry = INDUSTRIES[(i // len(US_STATES)) % len(INDUSTRIES)]
            t = Territory.objects.create(
                model=active, name=f"Bench US {state} {industry} {i}", parent_id=parent, type="industry",
                industry=industry, priority=i % 3,
            )
            created.append(t)
            self.territory_by_geo.setdefault(("US", state, industry), t.id)
            budget -= 1
            i += 1
        # Members: each territory gets 1-3 reps; access grants through guardian rows.
        ContentType = apps.get_model("contenttypes", "ContentType")
        Permission = apps.get_model("auth", "Permission")
        UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
        ct = ContentType.objects.get_for_model(Territory)
        access = Permission.objects.get(content_type=ct, codename="access_territory")
        member_rows, grant_rows = [], []
        for t in created:
            reps = self.rng.sample(self.reps, k=min(len(self.reps), self.rng.randint(1, 3)))
            self.members[t.id] = reps
            for uid in reps:
                member_rows.append(Member(territory_id=t.id, user_id=uid, daily_capacity=self.rng.choice([None, 50])))
                grant_rows.append(UserObjectPermission(permission=access, content_type=ct, object_pk=str(t.id), user_id=uid))
        Member.objects.bulk_create(member_rows, batch_size=2000, ignore_conflicts=True)
        UserObjectPermission.objects.bulk_create(grant_rows, batch_size=2000, ignore_conflicts=True)
        self._progress("territories", len(created))

    def _place(self):
        """A random address and the territory that matches it."""
        country = self.rng.choice(COUNTRIES[:2] * 4 + COUNTRIES)
        state = self.rng.choice(US_STATES) if country == "US" else ""
        industry = self.rng.choice(INDUSTRIES)
        territory = (
            self.territory_by_geo.get((country, state, industry))
            or self.territory_by_geo.get((country, state))
            or self.territory_by_geo[(country, "")]
        )
        owner = self.rng.choice(self.members.get(territory) or self.reps)
        return country, state, industry, territory, owner

    # --- accounts -------------------------------------------------------------
    def _accounts(self):
        Account = apps.get_model("opportunities", "Account")
        n = self.sizes["accounts"]
        first = _next_id(Account)
        self.accounts = []

        def rows():
            for i in range(n):
                country, state, industry, territory, owner = self._place()
                name = f"{self.rng.choice(WORDS)} {industry.title()} {first + i}"
                self.accounts.append((first + i, territory, owner))
                yield {
                    "id": first + i, "name": name, "normalized_name": name.lower(), "website_domain": f"acct{first + i}.example",
                    "industry": industry, "employee_count": self.rng.randint(5, 20000),
                    "annual_revenue": Decimal(self.rng.randint(1, 5000) * 100_000), "billing_country": country,
                    "billing_state": state, "billing_postal_code": f"{self.rng.randint(10000, 99999)}",
                    "owner_id": owner, "territory_id": territory,
                    "created_at": self.now - timedelta(days=self.rng.randint(30, 900)), "updated_at": self.now,
                }

        self._batched(Copier(Account), rows(), n, "accounts")
        _reset_sequence(Account)

    # --- opportunities with stage histories --------------------------------------
    def _opportunities(self):
        Opportunity = apps.get_model("opportunities", "Opportunity")
        StageHistory = apps.get_model("opportunities", "StageHistory")
        n = self.sizes["opportunities"]
        first = _next_id(Opportunity)
        history = []
        self.opportunities = []
        today = self.now.date()

        def rows():
            for i in range(n):
                oid = first + i
                account_id, territory, owner = self.rng.choice(self.accounts)
                created = self.now - timedelta(days=self.rng.randint(1, 720))
                roll = self.rng.random()
                amount = Decimal(self.rng.randint(5, 500) * 1000)
                close = (created + timedelta(days=self.rng.randint(20, 180))).date()
                if roll < 0.25:
                    stage, prob, actual, category = "closed_won", 100, min(close, today), "closed"
                elif roll < 0.45:
                    stage, prob, actual, category = "closed_lost", 0, min(close, today), "omitted"
                else:
                    stage, prob = self.rng.choice(OPEN_STAGES)
                    actual = None
                    category = "commit" if prob >= 75 else "best_case" if prob >= 50 else "pipeline"
                    if close < today and self.rng.random() < 0.7:
                        close = today + timedelta(days=self.rng.randint(1, 120))
                self.opportunities.append((oid, owner, stage, account_id))
                path = ["discovery"]
                for s, _ in OPEN_STAGES[1:]:
                    if stage == s or (stage.startswith("closed") and self.rng.random() < 0.5):
                        path.append(s)
                    if stage == s:
                        break
                if stage.startswith("closed"):
                    path.append(stage)
                at = created
                for frm, to in zip([""] + path[:-1], path, strict=True):
                    step = timedelta(days=self.rng.randint(1, 30))
                    history.append({
                        "opportunity_id": oid, "from_stage": frm, "to_stage": to, "changed_by_id": owner,
                        "changed_at": at, "days_in_previous_stage": Decimal(step.days) if frm else None, "note": "",
                    })
                    at += step
                yield {
                    "id": oid, "name": f"Deal {oid}", "account_id": account_id, "stage": stage, "probability": prob,
                    "probability_is_manual": False, "amount": amount, "expected_close_date": close,
                    "actual_close_date": actual, "owner_id": owner, "territory_id": territory,
                    "forecast_category": category, "forecast_category_is_manual": False,
                    "source": self.rng.choice(SOURCES), "stage_changed_at": at, "created_at": created,
                    "updated_at": self.now, "deal_score": self.rng.randint(1, 99),
                    "close_reason": "", "next_step": self.rng.choice(["", "Send proposal", "Demo"]),
                }

        self._batched(Copier(Opportunity), rows(), n, "opportunities")
        _reset_sequence(Opportunity)
        self._batched(Copier(StageHistory), iter(history), len(history), "stage history")
        _reset_sequence(StageHistory)

    # --- leads ------------------------------------------------------------------
    def _leads(self):
        Lead = apps.get_model("leads", "Lead")
        n = self.sizes["leads"]
        first = _next_id(Lead)

        def rows():
            for i in range(n):
                lid = first + i
                country, state, industry, territory, owner = self._place()
                first_name, last_name = self.rng.choice(FIRST), self.rng.choice(LAST)
                company = f"{self.rng.choice(WORDS)} {lid % 50_000}"
                email = f"{first_name.lower()}.{lid}@{company.split(maxsplit=1)[0].lower()}{lid % 50_000}.example"
                yield {
                    "id": lid, "source": self.rng.choice(SOURCES), "status": self.rng.choice(STATUSES),
                    "first_name": first_name, "last_name": last_name, "email": email, "normalized_email": email,
                    "phone": f"+1555{lid:07d}"[-12:], "normalized_phone": f"1555{lid:07d}"[-11:],
                    "company": company, "normalized_company": company.lower(), "title": self.rng.choice(TITLES),
                    "industry": industry, "employee_count": self.rng.randint(1, 10000),
                    "annual_revenue": Decimal(self.rng.randint(1, 1000) * 50_000), "country": country,
                    "state": state, "postal_code": f"{self.rng.randint(10000, 99999)}",
                    "score": self.rng.randint(0, 100), "assigned_to_id": owner, "territory_id": territory,
                    "assignment_reason": "bench seed", "created_at": self.now - timedelta(minutes=n - i),
                    "updated_at": self.now,
                }

        self._batched(Copier(Lead), rows(), n, "leads")
        _reset_sequence(Lead)

    # --- activities (SQL store) ----------------------------------------------------
    def _activities(self):
        n = self.sizes["activities"]
        Activity = _model_with_table("activities", "Activity")
        if Activity is None or n == 0:
            self._progress("activities skipped")
            return
        field_names = {f.name for f in Activity._meta.concrete_fields}
        types = ["email", "call", "meeting", "demo", "task"]

        def rows():
            for _ in range(n):
                oid, owner, _stage, account_id = self.rng.choice(self.opportunities)
                at = self.now - timedelta(minutes=self.rng.randint(1, 730 * 24 * 60))
                row = {"type": self.rng.choice(types), "subject": "Bench activity", "user_id": owner,
                       "created_by_id": owner, "opportunity_id": oid, "account_id": account_id,
                       "occurred_at": at, "created_at": at, "updated_at": at, "completed_at": at}
                yield {k: v for k, v in row.items() if k.removesuffix("_id") in field_names or k in field_names}

        self._batched(Copier(Activity), rows(), n, "activities")
        _reset_sequence(Activity)

    # --- quotas for four quarters ---------------------------------------------------
    def _quotas(self):
        Quota = _model_with_table("quotas", "Quota")
        if Quota is None:
            self._progress("quotas skipped")
            return
        year = self.now.year
        names = {f.name for f in Quota._meta.concrete_fields}
        rows = []
        for q in range(1, 5):
            start = date(year, 3 * q - 2, 1)
            end = (date(year, 3 * q + 1, 1) if q < 4 else date(year + 1, 1, 1)) - timedelta(days=1)
            for uid in self.reps + self.managers:
                row = {"user_id": uid, "period": f"Q{q}_{year}", "period_kind": "quarter",
                       "quota_amount": Decimal(500_000), "status": "published",
                       "quota_type": "revenue", "start_date": start, "end_date": end,
                       "created_at": self.now, "updated_at": self.now}
                rows.append({k: v for k, v in row.items() if k.removesuffix("_id") in names or k in names})
        Copier(Quota).write(rows)
        _reset_sequence(Quota)
        self._progress("quotas", len(rows))
