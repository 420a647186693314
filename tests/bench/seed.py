"""Fill PostgreSQL with benchmark-scale data through COPY.

The data is internally consistent: geographic territories by country and
state with members, leads and accounts placed in the territory their address
matches and owned by one of its members, opportunities on those accounts with
stage histories, activities spread over two years, quotas for four quarters.

Run by tests/bench/run_bench.py (`make bench`) through Django's shell:

    python manage.py shell -c "from tests.bench.seed import seed; seed(leads=100_000)"

It lives with the benchmarks, not in the kernel, because it writes every app's
tables. Columns not filled here take each field's default (COPY needs a value
for each column), so a field added later does not break the seed.
"""

import json
import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from activities.models import Activity
from leads.models import Lead
from opportunities.models import Account, Opportunity, StageHistory
from quotas.models import Quota
from salesapp.crypto import blind_index, encrypt
from salesapp.models import User
from salesapp.roles import Role
from territories.models import Territory, TerritoryMember, TerritoryModel, TerritoryUserGrant

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


def seed(*, leads: int = 1_000_000, opportunities: int | None = None, accounts: int | None = None,
         activities: int | None = None, users: int | None = None, territories: int | None = None,
         random_seed: int = 42) -> None:
    """Fill the PostgreSQL database at DATABASE_URL; the other sizes scale from `leads` unless given."""
    if connection.vendor != "postgresql":
        raise RuntimeError("the benchmark seed fills PostgreSQL: set DATABASE_URL")
    scale = leads / 1_000_000
    sizes = {
        "leads": leads,
        "opportunities": opportunities or int(250_000 * scale),
        "accounts": accounts or max(100, int(100_000 * scale)),
        "activities": activities if activities is not None else int(2_000_000 * scale),
        "users": users or max(20, int(500 * min(1, scale * 2))),
        "territories": territories or 200,
    }
    Seeder(sizes, random_seed).run()


class Seeder:
    """Writes the benchmark rows, table by table, keeping the ids it needs to link them."""

    def __init__(self, sizes: dict, random_seed: int):
        self.sizes = sizes
        self.rng = random.Random(random_seed)
        self.now = datetime.now(UTC)
        self.started = time.perf_counter()

    def run(self) -> None:
        print(f"bench seed sizes: {self.sizes}", flush=True)
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
        print(f"[{elapsed:7.1f}s] {what}" + (f": {n:,} rows" if n is not None else ""), flush=True)

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
        # Members: each territory gets 1-3 reps, holding it through a guardian grant (as territory_member_add does).
        ct = ContentType.objects.get_for_model(Territory)
        access = Permission.objects.get(content_type=ct, codename="access_territory")
        member_rows, grant_rows = [], []
        for t in created:
            reps = self.rng.sample(self.reps, k=min(len(self.reps), self.rng.randint(1, 3)))
            self.members[t.id] = reps
            for uid in reps:
                member_rows.append(TerritoryMember(territory_id=t.id, user_id=uid, daily_capacity=self.rng.choice([None, 50])))
                grant_rows.append(TerritoryUserGrant(permission=access, content_object_id=t.id, user_id=uid))
        TerritoryMember.objects.bulk_create(member_rows, batch_size=2000, ignore_conflicts=True)
        TerritoryUserGrant.objects.bulk_create(grant_rows, batch_size=2000, ignore_conflicts=True)
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
        n = self.sizes["leads"]
        first = _next_id(Lead)

        def rows():
            for i in range(n):
                lid = first + i
                country, state, industry, territory, owner = self._place()
                first_name, last_name = self.rng.choice(FIRST), self.rng.choice(LAST)
                company = f"{self.rng.choice(WORDS)} {lid % 50_000}"
                email = f"{first_name.lower()}.{lid}@{company.split(maxsplit=1)[0].lower()}{lid % 50_000}.example"
                phone = f"+1555{lid:07d}"[-12:]
                # COPY writes the columns as given: personal data goes in encrypted, as the app stores it.
                yield {
                    "id": lid, "source": self.rng.choice(SOURCES), "status": self.rng.choice(STATUSES),
                    "first_name": first_name, "last_name": last_name, "email": encrypt(email),
                    "email_blind_index": blind_index("email", email), "phone": encrypt(phone),
                    "phone_blind_index": blind_index("phone", phone),
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
        if n == 0:
            return
        types = ["email", "call", "meeting", "demo", "task"]

        def rows():
            for _ in range(n):
                oid, owner, _stage, account_id = self.rng.choice(self.opportunities)
                at = self.now - timedelta(minutes=self.rng.randint(1, 730 * 24 * 60))
                yield {"type": self.rng.choice(types), "subject": "Bench activity", "user_id": owner,
                       "created_by_id": owner, "opportunity_id": oid, "account_id": account_id,
                       "occurred_at": at, "created_at": at, "updated_at": at, "completed_at": at}

        self._batched(Copier(Activity), rows(), n, "activities")
        _reset_sequence(Activity)

    # --- quotas for four quarters ---------------------------------------------------
    def _quotas(self):
        year = self.now.year
        rows = []
        for q in range(1, 5):
            start = date(year, 3 * q - 2, 1)
            end = (date(year, 3 * q + 1, 1) if q < 4 else date(year + 1, 1, 1)) - timedelta(days=1)
            for uid in self.reps + self.managers:
                rows.append({"user_id": uid, "period": f"Q{q}_{year}", "period_kind": "quarter",
                             "quota_amount": Decimal(500_000), "status": "published",
                             "quota_type": "revenue", "start_date": start, "end_date": end,
                             "created_at": self.now, "updated_at": self.now})
        Copier(Quota).write(rows)
        _reset_sequence(Quota)
        self._progress("quotas", len(rows))
