"""CSV import kinds `accounts`, `contacts` and `opportunities` for the kernel's import runner.

Rows are validated first (every bad cell reported with its row and column) and written
through the services, so imported deals get their stage history and events. Admins may
carry original dates: `created_at`, and `actual_close_date` for closed deals.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from opportunities import selectors
from opportunities.models import Account, Contact, LossReason, Opportunity, Stage
from opportunities.selectors import open_stage_keys
from opportunities.services import accounts, contacts, deals
from salesapp.access import VIEW
from salesapp.imports import PENDING, RowError, RowErrors, parse_date_cell, parse_datetime_cell, register_import_kind
from salesapp.imports import ImportColumn as Column
from salesapp.imports import ImportKind as Kind
from salesapp.imports import register_reference as reference
from salesapp.normalize import domain_of, normalize_company, normalize_email


def _decimal(row, column, *, minimum=Decimal(0)):
    value = row.get(column, "")
    if not value:
        return None
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise RowError(column, f"{value!r} is not a number")
    if minimum is not None and number < minimum:
        raise RowError(column, "must not be negative")
    return number


def _int(row, column, *, low=0, high=None):
    value = row.get(column, "")
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise RowError(column, f"{value!r} is not a whole number")
    if number < low or (high is not None and number > high):
        raise RowError(column, f"must be between {low} and {high}" if high is not None else "must not be negative")
    return number


def _collect(fns):
    """Run each cell parser, gathering every bad cell of the row before raising."""
    out, errors = {}, []
    for name, fn in fns.items():
        try:
            out[name] = fn()
        except RowError as exc:
            errors.append(exc)
    if errors:
        raise RowErrors(errors)
    return out


def register_import_kinds() -> None:
    """Register the three kinds with the kernel's import registry (`salesapp.imports`)."""

    def visible_account(ctx, name, column="account"):
        key = normalize_company(name)
        accounts = ctx.cache.setdefault("accounts", {})
        if key not in accounts:
            qs = Account.objects.restrict(ctx.actor, VIEW)
            accounts[key] = (qs.filter(normalized_name=key).order_by("id").first()
                             or qs.filter(website_domain=domain_of(name)).order_by("id").first())
        if accounts[key] is None:
            raise RowError(column, f"no account named {name!r} that you may see")
        return accounts[key]

    def account_ref(ctx, row):
        """The account a row names by `account_external_id` or `account_name` (PENDING: an earlier file brings it)."""
        pk = ctx.ref("account_external_id", row.get("account_external_id", "")) or ctx.ref(
            "account_name", row.get("account_name", ""))
        if pk is None:
            raise RowError("account_name", "name the account (account_name or account_external_id)")
        return pk if pk is PENDING else Account.objects.get(pk=pk)

    reference("account_external_id", label="account", what="external id",
              resolve=lambda values, actor: selectors.account_ids_by_external_id(values, user=actor))
    reference("account_name", label="account", what="name or domain",
              resolve=lambda values, actor: selectors.account_ids_by_name(values, user=actor))
    reference("contact_external_id", label="contact", what="external id",
              resolve=lambda values, actor: selectors.contact_ids_by_external_id(values, user=actor))
    reference("contact_email", label="contact", what="email", normalize=normalize_email,
              resolve=lambda values, actor: {e: c.pk for e, c in contacts.contacts_by_email(
                  values, queryset=Contact.objects.restrict(actor, VIEW)).items()})
    reference("opportunity_external_id", label="deal", what="external id",
              resolve=lambda values, actor: selectors.opportunity_ids_by_external_id(values, user=actor))

    # --- accounts ---------------------------------------------------------------------------------
    def account_validate(row, ctx):
        ctx.claim("account_external_id", row["external_id"], "external_id")
        ctx.claim("account", normalize_company(row["name"]), "name")
        ctx.claim("domain", domain_of(row["website_domain"]), "website_domain")
        cleaned = _collect({
            "employee_count": lambda: _int(row, "employee_count"),
            "annual_revenue": lambda: _decimal(row, "annual_revenue"),
            "owner": lambda: ctx.owner(row["owner_email"]),
            "created_at": lambda: parse_datetime_cell(row["created_at"], "created_at", past_only=True),
            "parent": lambda: visible_account(ctx, row["parent_name"], "parent_name") if row["parent_name"] else None,
        })
        country = row["billing_country"].upper()
        if country and len(country) != 2:
            raise RowError("billing_country", "use the two-letter ISO country code")
        return {**cleaned, "external_id": row["external_id"], "name": row["name"],
                "website_domain": row["website_domain"], "industry": row["industry"],
                "billing_country": country, "billing_state": row["billing_state"],
                "billing_postal_code": row["billing_postal_code"]}

    def account_write(rows, ctx):
        created = updated = 0
        for data in rows:
            existing = (Account.objects.filter(external_id=data["external_id"]).first() if data["external_id"]
                        else None) or accounts.account_find_match(website_domain=data["website_domain"],
                                                                  company_name=data["name"])
            created_at = data.pop("created_at")
            if existing is not None:
                fields = {k: v for k, v in data.items() if v not in (None, "") and k != "external_id"
                          and getattr(existing, k) != v}
                if fields:
                    accounts.account_update(actor=ctx.actor, account=existing, **fields)
                updated += 1
            else:
                accounts.account_create(actor=ctx.actor, created_at=created_at, **data)
                created += 1
        return created, updated

    register_import_kind(Kind(
        name="accounts", label="Accounts", permission="lead:import",
        columns=[
            Column("external_id", help="its id in the system it comes from"),
            Column("name", required=True), Column("website_domain"), Column("industry"), Column("employee_count"),
            Column("annual_revenue"), Column("billing_country", help="two-letter ISO code"), Column("billing_state"),
            Column("billing_postal_code"), Column("owner_email"), Column("parent_name"),
            Column("created_at", admin_only=True, help="original creation time"),
        ],
        validate_row=account_validate, write_rows=account_write, order=20, file_names=("account",),
        provides={"account_external_id": "external_id", "account_name": "name"},
    ))

    # --- contacts ---------------------------------------------------------------------------------
    def contact_validate(row, ctx):
        email = normalize_email(row["email"])
        ctx.claim("contact_email", email, "email")
        ctx.claim("contact_external_id", row["external_id"], "external_id")
        if email and "@" not in email:
            raise RowError("email", f"{row['email']!r} is not an email address")
        if row["buying_role"] and row["buying_role"] not in Contact.BuyingRole.values:
            raise RowError("buying_role", f"unknown buying role; use one of {', '.join(Contact.BuyingRole.values)}")
        cleaned = _collect({
            "account": lambda: account_ref(ctx, row),
            "owner": lambda: ctx.owner(row["owner_email"]),
            "created_at": lambda: parse_datetime_cell(row["created_at"], "created_at", past_only=True),
        })
        return {**cleaned, "external_id": row["external_id"], "first_name": row["first_name"],
                "last_name": row["last_name"], "email": email,
                "phone": row["phone"], "title": row["title"], "buying_role": row["buying_role"]}

    def contact_write(rows, ctx):
        created = updated = 0
        for data in rows:
            existing = (Contact.objects.filter(external_id=data["external_id"]).first() if data["external_id"]
                        else None) or (contacts.contact_find_match(email=data["email"]) if data["email"] else None)
            if existing is not None:
                fields = {k: v for k, v in data.items() if v not in (None, "")
                          and k not in ("external_id", "created_at") and getattr(existing, k) != v}
                if fields:
                    contacts.contact_update(actor=ctx.actor, contact=existing, **fields)
                updated += 1
            else:
                contacts.contact_create(actor=ctx.actor, **data)
                created += 1
        return created, updated

    register_import_kind(Kind(
        name="contacts", label="Contacts", permission="lead:import",
        columns=[
            Column("external_id", help="its id in the system it comes from"),
            Column("account_name", help="or account_external_id"), Column("account_external_id"),
            Column("first_name"), Column("last_name", required=True),
            Column("email"), Column("phone"), Column("title"), Column("buying_role"), Column("owner_email"),
            Column("created_at", admin_only=True, help="original creation time"),
        ],
        validate_row=contact_validate, write_rows=contact_write, order=30, file_names=("contact",),
        provides={"contact_external_id": "external_id", "contact_email": "email"},
    ))

    # --- opportunities ----------------------------------------------------------------------------
    def opportunity_validate(row, ctx):
        stages = ctx.cache.setdefault("stages", {s.key: s for s in Stage.objects.all()})
        first_open = min((s for s in stages.values() if not s.is_closed), key=lambda s: s.order)
        stage_key = (row["stage"] or first_open.key).strip().lower().replace(" ", "_")
        if stage_key not in stages:
            raise RowError("stage", f"unknown stage; use one of {', '.join(stages)}")
        ctx.claim("opportunity_external_id", row["external_id"], "external_id")
        cleaned = _collect({
            "account": lambda: account_ref(ctx, row),
            "lead_id": lambda: ctx.ref("lead_external_id", row["lead_external_id"]) or ctx.ref(
                "lead_email", row["lead_email"]),
            "contact_id": lambda: ctx.ref("contact_external_id", row["contact_external_id"]) or ctx.ref(
                "contact_email", row["contact_email"]),
            "stage_changed_at": lambda: parse_datetime_cell(row["stage_changed_at"], "stage_changed_at",
                                                            past_only=True),
            "owner": lambda: ctx.owner(row["owner_email"]),
            "amount": lambda: _decimal(row, "amount"),
            "probability": lambda: _int(row, "probability", high=100),
            "expected_close_date": lambda: parse_date_cell(row["expected_close_date"], "expected_close_date"),
            "actual_close_date": lambda: parse_date_cell(row["actual_close_date"], "actual_close_date"),
            "created_at": lambda: parse_datetime_cell(row["created_at"], "created_at", past_only=True),
        })
        stage = stages[stage_key]
        loss_reason = None
        if stage.is_won and not cleaned["amount"]:
            raise RowError("amount", "a won deal needs an amount")
        if stage.is_closed and not stage.is_won:
            if not row["loss_reason"]:
                raise RowError("loss_reason", "a lost deal needs a loss reason")
            loss_reason = LossReason.objects.filter(name__iexact=row["loss_reason"], is_active=True).first()
            if loss_reason is None:
                raise RowError("loss_reason", f"unknown loss reason {row['loss_reason']!r}")
        if cleaned["actual_close_date"] and not stage.is_closed:
            raise RowError("actual_close_date", "only closed deals have a close date")
        category = row["forecast_category"]
        if category and category not in Opportunity.ForecastCategory.values:
            raise RowError("forecast_category", f"unknown category; use one of "
                                                f"{', '.join(Opportunity.ForecastCategory.values)}")
        return {**cleaned, "external_id": row["external_id"], "name": row["name"], "stage": stage,
                "loss_reason": loss_reason,
                "close_reason": row["close_reason"], "next_step": row["next_step"], "source": row["source"],
                "forecast_category": category}

    def opportunity_write(rows, ctx):
        # A closed deal is opened in the last open stage, then closed with its outcome and date.
        open_keys = open_stage_keys()
        created = updated = 0
        for data in rows:
            stage = data["stage"]
            existing = Opportunity.objects.filter(external_id=data["external_id"]).first() if data["external_id"] \
                else None
            if existing is not None:
                fields = {k: data[k] for k in ("name", "amount", "expected_close_date", "next_step")
                          if data[k] not in (None, "") and getattr(existing, k) != data[k]}
                if fields and not existing.stage.is_closed:
                    deals.opportunity_update(actor=ctx.actor, opportunity=existing, **fields)
                updated += 1
                continue
            contact = Contact.objects.get(pk=data["contact_id"]) if data["contact_id"] else None
            opp = deals.opportunity_create(
                external_id=data["external_id"], lead_id=data["lead_id"],
                contacts=[contact] if contact is not None and contact.account_id == data["account"].pk else [],
                actor=ctx.actor, account=data["account"], name=data["name"], owner=data["owner"] or ctx.actor,
                amount=data["amount"], expected_close_date=data["expected_close_date"],
                stage=open_keys[-1] if stage.is_closed else stage.key, source=data["source"],
                next_step=data["next_step"], probability=None if stage.is_closed else data["probability"],
                forecast_category="" if stage.is_closed else data["forecast_category"],
                created_at=data["created_at"],
            )
            if stage.is_closed:
                deals.opportunity_close(
                    actor=ctx.actor, opportunity=opp, outcome="won" if stage.is_won else "lost",
                    reason=data["loss_reason"] if not stage.is_won else (data["close_reason"] or None),
                    note=data["close_reason"], close_date=data["actual_close_date"],
                )
            created += 1
        return created, updated

    register_import_kind(Kind(
        name="opportunities", label="Opportunities", permission="lead:import",
        columns=[
            Column("external_id", help="its id in the system it comes from; the same id updates the deal"),
            Column("name", required=True), Column("account_name", help="or account_external_id"),
            Column("account_external_id"), Column("lead_external_id", help="the lead it was converted from"),
            Column("lead_email", help="or the lead's email"), Column("contact_external_id"), Column("contact_email"),
            Column("owner_email"),
            Column("stage", help="a stage key: discovery ... closed_won, closed_lost"), Column("amount"),
            Column("expected_close_date"), Column("probability"), Column("forecast_category"),
            Column("loss_reason", help="for closed_lost"), Column("close_reason"), Column("next_step"),
            Column("source"),
            Column("actual_close_date", admin_only=True, help="original close date of a closed deal"),
            Column("created_at", admin_only=True, help="original creation time"),
            Column("stage_changed_at", admin_only=True, help="when it entered its stage"),
        ],
        validate_row=opportunity_validate, write_rows=opportunity_write, order=50,
        file_names=("deals", "deal", "opportunity"), provides={"opportunity_external_id": "external_id"},
    ))

    # --- stage history ----------------------------------------------------------------------------
    def stage_history_validate(row, ctx):
        stages = ctx.cache.setdefault("stages", {s.key: s for s in Stage.objects.all()})
        key = row["stage"].strip().lower().replace(" ", "_")
        if key not in stages:
            raise RowError("stage", f"unknown stage; use one of {', '.join(stages)}")
        cleaned = _collect({
            "opportunity_id": lambda: ctx.ref("opportunity_external_id", row["opportunity_external_id"]),
            "entered_at": lambda: parse_datetime_cell(row["entered_at"], "entered_at", past_only=True),
        })
        return {**cleaned, "stage": key}

    def stage_history_write(rows, ctx):
        return deals.stage_history_import(actor=ctx.actor, rows=rows)

    register_import_kind(Kind(
        name="stage_history", label="Deal stage history", permission="lead:import",
        columns=[Column("opportunity_external_id", required=True), Column("stage", required=True),
                 Column("entered_at", required=True, admin_only=True, help="when the deal entered the stage")],
        validate_row=stage_history_validate, write_rows=stage_history_write, order=60,
        file_names=("stage_changes", "stages"),
    ))
