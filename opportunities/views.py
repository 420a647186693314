"""UI pages: accounts, contacts, opportunities, the pipeline board and the forecast.

Thin: forms validate, selectors read through `restrict()`, services write.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opportunities import selectors
from opportunities.filtersets import AccountFilterSet, ContactFilterSet, OpportunityFilterSet
from opportunities.forms import AccountForm, CloseForm, ContactForm, OpportunityForm, SubmissionForm, owner_choices
from opportunities.models import Account, Contact, Opportunity
from opportunities.periods import parse_period, period_choices, quarter_of
from opportunities.services import accounts, contacts, deals, forecasts
from salesapp import access_log
from salesapp import fields as field_policy
from salesapp.access import CHANGE, can_write
from salesapp.assignment import assignable_users
from salesapp.exports import csv_export
from salesapp.guards import has_permission, perm_required, require_permission
from salesapp.lists import Column, list_context
from salesapp.models import User
from salesapp.roles import Role
from territories.selectors import territory_list


def _style_filters(filterset) -> None:
    for field in filterset.form.fields.values():
        css = "form-select" if hasattr(field, "choices") else "form-control"
        field.widget.attrs.setdefault("class", css)


def _form_errors(form, exc: ValidationError) -> None:
    """Put a service's field errors on the form's fields (or on the form when it has no such field).

    Services name relations as the API does (`owner_id`); the form field is `owner`.
    """
    for field, errors in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
        name = next((f for f in (field, (field or "").removesuffix("_id")) if f in form.fields), None)
        for error in errors:
            form.add_error(name, error)


def _panels(kind: str, pk: int) -> dict:
    """URLs of the activities timeline and intelligence panels the page loads with htmx."""
    return {"timeline_url": f"{reverse('activities:timeline-panel')}?kind={kind}&id={pk}",
            "intelligence_url": reverse("intelligence:panel", kwargs={"kind": kind, "pk": pk})}


# --- accounts --------------------------------------------------------------------------------------

ACCOUNT_COLUMNS = [
    Column("name", "Name", sort="name"), Column("domain", "Domain"), Column("industry", "Industry", sort="industry"),
    Column("employees", "Employees", end=True), Column("revenue", "Revenue", sort="annual_revenue", end=True),
    Column("country", "Country", sort="billing_country"), Column("owner", "Owner"), Column("territory", "Territory"),
    Column("created", "Created", sort="created_at", default=False),
]


@perm_required("opportunity:read")
def account_list_view(request):
    """Accounts the user may see, by name unless asked otherwise."""
    account_page, filterset = list_context(
        request, key="accounts", filterset_class=AccountFilterSet, queryset=selectors.account_list(
            user=request.user).select_related("owner", "territory"), columns=ACCOUNT_COLUMNS, default_ordering="name")
    _style_filters(filterset)
    access_log.record_search(request, Account, [a.pk for a in account_page])
    return render(request, "opportunities/account_list.html", {
        "filter": filterset, "list": account_page, "can_write": can_write(request.user)})


@perm_required("opportunity:read")
def account_detail_view(request, pk):
    """An account, its contacts and the deals on it the user may see. Whoever reads the account only
    through one of its deals gets no edit buttons: they may not change it or its contacts.
    """
    account = selectors.account_get(user=request.user, pk=pk)
    access_log.record_detail(request, account)
    account_contacts = selectors.contact_list(user=request.user).filter(account=account).order_by("last_name")
    opps = selectors.opportunity_list(user=request.user).filter(account=account).order_by("-created_at")
    return render(request, "opportunities/account_detail.html", {
        "account": account, "contacts": account_contacts, "opportunities": opps,
        "can_write": can_write(request.user),
        "can_change": selectors.account_may_change(user=request.user, account=account),
        "subsidiaries": selectors.account_list(user=request.user).filter(parent=account),
        **_panels("account", account.pk),
    })


@perm_required("opportunity:write")
def account_form_view(request, pk=None):
    account = selectors.account_get(user=request.user, pk=pk, action=CHANGE) if pk else None
    visible = selectors.account_list(user=request.user)
    if account:
        visible = visible.exclude(pk=account.pk)
    form = AccountForm(request.POST or None, instance=account, user=request.user, visible_accounts=visible,
                       initial=None if account else {"owner": request.user})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "allow_duplicate"}
        data = {k: ("" if v is None and k in ("website_domain", "industry", "billing_country", "billing_state",
                                                "billing_postal_code") else v) for k, v in data.items()}
        try:
            if account is None:
                match = accounts.account_find_match(website_domain=data["website_domain"], company_name=data["name"])
                if match is not None and not form.cleaned_data.get("allow_duplicate"):
                    raise ValidationError({"name": [f"A similar account exists: {match.name} (#{match.pk}). "
                                                    "Tick the box below to create it anyway."]})
                account = accounts.account_create(actor=request.user, **data)
                messages.success(request, f"Account {account.name} created.")
            else:
                accounts.account_update(actor=request.user, account=account, **data)
                messages.success(request, "Account saved.")
            return redirect("opportunities:account-detail", pk=account.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    return render(request, "opportunities/form.html", {
        "form": form, "title": f"Edit {account.name}" if account else "New account",
        "cancel": reverse("opportunities:account-detail", args=[account.pk]) if account else reverse(
            "opportunities:account-list")})


CONTACT_COLUMNS = [
    Column("name", "Name", sort="last_name"), Column("account", "Account"), Column("title", "Title", sort="title"),
    Column("role", "Buying role"), Column("email", "Email", sort="email"), Column("phone", "Phone"),
    Column("owner", "Owner"), Column("created", "Created", sort="created_at", default=False),
]


@perm_required("opportunity:read")
def contact_list_view(request):
    """Contacts at the accounts the user may see, sorted by name unless asked otherwise."""
    contact_page, filterset = list_context(
        request, key="contacts", filterset_class=ContactFilterSet, queryset=selectors.contact_list(user=request.user),
        columns=CONTACT_COLUMNS, default_ordering="last_name")
    access_log.record_search(request, Contact, [c.pk for c in contact_page])
    return render(request, "opportunities/contact_list.html", {
        "filter": filterset, "list": contact_page, "can_write": can_write(request.user), "params": request.GET,
        "roles": Contact.BuyingRole.choices})


@perm_required("opportunity:read")
def contact_detail_view(request, pk):
    """A contact: who they are, their account, the deals they take part in that the user may see, their timeline."""
    contact = selectors.contact_get(user=request.user, pk=pk)
    access_log.record_detail(request, contact)
    return render(request, "opportunities/contact_detail.html", {
        "contact": contact, "opportunities": selectors.opportunity_list(user=request.user).filter(
            contacts=contact).order_by("stage__is_closed", "expected_close_date", "id"),
        "can_change": can_write(request.user) and selectors.account_may_change(user=request.user,
                                                                                account=contact.account),
        "timeline_url": f"{reverse('activities:timeline-panel')}?kind=contact&id={contact.pk}",
    })


@perm_required("opportunity:write")
def contact_form_view(request, account_pk=None, pk=None):
    """Add or edit a contact. A new contact's account comes from the account page, or is picked here among the
    accounts the user may change."""
    contact = selectors.contact_get(user=request.user, pk=pk, action=CHANGE) if pk else None
    account = contact.account if contact else (
        selectors.account_get(user=request.user, pk=account_pk, action=CHANGE) if account_pk else None)
    form = ContactForm(request.POST or None, instance=contact, user=request.user,
                       accounts=None if account else selectors.account_list(user=request.user, action=CHANGE))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "allow_duplicate"}
        account = data.pop("account", None) or account
        if data["owner"] is None:
            del data["owner"]  # no pick: the account's owner for a new contact, the current one otherwise
        try:
            if contact is None:
                match = contacts.contact_find_match(account=account, email=data["email"], phone=data["phone"])
                if match is not None and not form.cleaned_data.get("allow_duplicate"):
                    raise ValidationError({"email": [f"A similar contact exists: {match} at "
                                                     f"{match.account}. Tick the box to create it anyway."]})
                contact = contacts.contact_create(actor=request.user, account=account, **data)
                messages.success(request, f"Contact {contact} added.")
            else:
                contacts.contact_update(actor=request.user, contact=contact, **data)
                messages.success(request, "Contact saved.")
            return redirect("opportunities:contact-detail", pk=contact.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    cancel = (reverse("opportunities:contact-detail", args=[contact.pk]) if contact else
              reverse("opportunities:account-detail", args=[account.pk]) if account else
              reverse("opportunities:contact-list"))
    return render(request, "opportunities/form.html", {
        "form": form, "cancel": cancel,
        "title": f"Edit {contact}" if contact else f"New contact at {account.name}" if account else "New contact"})


# --- opportunities ---------------------------------------------------------------------------------

DEAL_COLUMNS = [
    Column("name", "Name", sort="name"), Column("account", "Account"), Column("stage", "Stage"),
    Column("amount", "Amount", sort="amount", end=True), Column("margin", "Margin", end=True),
    Column("probability", "Prob.", sort="probability", end=True), Column("category", "Category"),
    Column("close", "Close date", sort="expected_close_date"), Column("owner", "Owner"),
    Column("score", "Score", end=True), Column("created", "Created", sort="created_at", default=False),
]


def _deal_columns(user) -> list[Column]:
    """The deal list's columns without the fields the field policy hides from the user (absent, not blank)."""
    hidden = field_policy.hidden(user, Opportunity)
    return [c for c in DEAL_COLUMNS if c.key not in hidden]


@perm_required("opportunity:read")
def opportunity_list_view(request):
    """Deals the user may see: open ones unless the filters say otherwise, sorted by close date by default."""
    deal_list, filterset = list_context(
        request, key="deals", filterset_class=OpportunityFilterSet, queryset=selectors.opportunity_list(
            user=request.user), columns=_deal_columns(request.user), default_ordering="expected_close_date",
        defaults={"is_open": "true"})
    access_log.record_search(request, Opportunity, [o.pk for o in deal_list])
    return render(request, "opportunities/opportunity_list.html", {
        "filter": filterset, "list": deal_list, "can_write": can_write(request.user),
        "stages": selectors.open_stages(), "all_stages": selectors.stage_list(),
        "categories": Opportunity.ForecastCategory.choices, "periods": period_choices(),
        "users": assignable_users(request.user) if request.user.role != Role.READ_ONLY else [],
        "params": request.GET, "query_prefix": f"{deal_list.query}&" if deal_list.query else ""})


@perm_required("opportunity:read")
def opportunity_export_view(request):
    """The filtered deal list as CSV."""
    qs = OpportunityFilterSet(request.GET, queryset=selectors.opportunity_list(user=request.user)).qs.order_by("-id")
    return csv_export(request, queryset=qs, columns=selectors.EXPORT_COLUMNS, filename="opportunities.csv")


@perm_required("opportunity:read")
def opportunity_detail_view(request, pk):
    opp = selectors.opportunity_get(user=request.user, pk=pk)
    access_log.record_detail(request, opp)
    history = opp.stage_history.select_related("changed_by").order_by("-changed_at", "-id")
    return render(request, "opportunities/opportunity_detail.html", {
        "opp": opp, "history": history, "contacts": opp.contacts.all(), "can_write": can_write(request.user),
        "can_reopen": has_permission(request.user, "opportunity:delete"), "stages": selectors.open_stages(),
        "close_form": CloseForm(), **_panels("opportunity", opp.pk),
    })


@perm_required("opportunity:write")
def opportunity_form_view(request, pk=None):
    opp = selectors.opportunity_get(user=request.user, pk=pk, action=CHANGE) if pk else None
    visible_accounts = selectors.account_list(user=request.user).order_by("name")
    initial = {}
    if opp is None:
        initial = {"owner": request.user}
        if request.GET.get("account"):
            initial["account"] = request.GET["account"]
    form = OpportunityForm(request.POST or None, instance=opp, user=request.user, visible_accounts=visible_accounts,
                           visible_contacts=selectors.contact_list(user=request.user), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        chosen_contacts = list(data.pop("contacts", []) or [])
        if "stage" in data:
            data["stage"] = data["stage"].key
        try:
            if opp is None:
                probability = data.pop("probability")
                opp = deals.opportunity_create(actor=request.user, contacts=chosen_contacts, probability=probability,
                                                  **{k: v for k, v in data.items() if k != "probability"})
                messages.success(request, f"Opportunity {opp.name} created.")
            else:
                if data.get("forecast_category") == (opp.forecast_category if opp.forecast_category_is_manual
                                                      else ""):
                    data.pop("forecast_category", None)
                if data.get("forecast_category") and opp.owner_id != request.user.pk and \
                        request.user.role != Role.ADMIN:
                    data.pop("forecast_category")
                deals.opportunity_update(actor=request.user, opportunity=opp, contacts=chosen_contacts, **data)
                messages.success(request, "Opportunity saved.")
            return redirect("opportunities:detail", pk=opp.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    return render(request, "opportunities/form.html", {
        "form": form, "title": f"Edit {opp.name}" if opp else "New opportunity",
        "cancel": reverse("opportunities:detail", args=[opp.pk]) if opp else reverse("opportunities:list")})


@perm_required("opportunity:write")
@require_POST
def opportunity_stage_view(request, pk):
    """Move a deal to an open stage (detail page select, board drag-and-drop, board select)."""
    opp = selectors.opportunity_get(user=request.user, pk=pk, action=CHANGE)
    error = ""
    try:
        deals.opportunity_update(actor=request.user, opportunity=opp, stage=request.POST.get("stage", ""))
    except ValidationError as exc:
        error = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
    if request.headers.get("HX-Request") and request.POST.get("from") == "board":
        response = board_view(request, partial=True, message=error)
        return response
    if error:
        messages.error(request, error)
    return redirect("opportunities:detail", pk=pk)


@perm_required("opportunity:write")
@require_POST
def opportunity_close_view(request, pk):
    opp = selectors.opportunity_get(user=request.user, pk=pk, action=CHANGE)
    form = CloseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            deals.opportunity_close(actor=request.user, opportunity=opp, outcome=data["outcome"],
                                       reason=data["reason"] if data["outcome"] == "lost" else None,
                                       note=data["note"], amount=data["amount"])
            messages.success(request, f"Closed {'won' if data['outcome'] == 'won' else 'lost'}.")
            return redirect("opportunities:detail", pk=pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    history = opp.stage_history.select_related("changed_by").order_by("-changed_at", "-id")
    return render(request, "opportunities/opportunity_detail.html", {
        "opp": opp, "history": history, "contacts": opp.contacts.all(), "can_write": True,
        "can_reopen": has_permission(request.user, "opportunity:delete"), "stages": selectors.open_stages(),
        "close_form": form, "close_open": True, **_panels("opportunity", opp.pk)}, status=400)


@perm_required("opportunity:delete")
@require_POST
def opportunity_reopen_view(request, pk):
    opp = selectors.opportunity_get(user=request.user, pk=pk, action=CHANGE)
    try:
        deals.opportunity_reopen(actor=request.user, opportunity=opp)
        messages.success(request, "Deal reopened.")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("opportunities:detail", pk=pk)


@perm_required("opportunity:write")
@require_POST
def opportunity_bulk_stage_view(request):
    ids = request.POST.getlist("ids")
    try:
        result = deals.opportunity_bulk_stage(
            actor=request.user, ids=ids, stage=request.POST.get("stage", ""),
            visible=selectors.opportunity_list(user=request.user, action=CHANGE).select_related(None))
        text = f"Moved {len(result['updated'])} deals."
        if result["errors"]:
            text += f" {len(result['errors'])} could not move (closed or not yours)."
        messages.info(request, text)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect(request.POST.get("next") or reverse("opportunities:list"))


# --- pipeline board --------------------------------------------------------------------------------

BOARD_CARDS_PER_COLUMN = 100
BOARD_FILTERS = ("owner", "team", "territory", "close_period")


@perm_required("opportunity:read")
def board_view(request, partial=False, message=""):
    """One column per open stage, filterable by owner, team, territory and close period."""
    params = request.GET if request.method == "GET" else request.POST
    # Only values the deal filters accept count (an owner of "x" is no filter at all).
    chosen = OpportunityFilterSet({k: params.get(k) for k in BOARD_FILTERS if params.get(k)})
    chosen.is_valid()
    filters = {k: str(v) for k, v in chosen.form.cleaned_data.items() if k in BOARD_FILTERS and v not in (None, "")}
    qs = selectors.opportunity_list(user=request.user, filters=filters or None).filter(stage__is_closed=False)
    columns = []
    for stage in selectors.open_stages():
        stage_qs = qs.filter(stage=stage)
        totals = stage_qs.aggregate(n=Count("id"), s=Sum("amount"))
        cards = list(stage_qs.select_related(None).select_related("owner", "account").order_by("expected_close_date", "id")
                     .only("id", "name", "amount", "expected_close_date", "deal_score", "score_model", "probability",
                           "owner__first_name", "owner__last_name", "owner__email", "account__name", "stage_id")
                     [:BOARD_CARDS_PER_COLUMN])
        columns.append({"stage": stage, "cards": cards, "count": totals["n"], "total": totals["s"] or Decimal(0)})
    context = {
        "columns": columns, "stages": selectors.open_stages(), "filters": filters, "message": message,
        "can_write": can_write(request.user), "users": assignable_users(request.user) if request.user.role != Role.READ_ONLY
        else [], "managers": assignable_users(request.user).filter(reports__isnull=False).distinct()
        if request.user.role != Role.READ_ONLY else [], "territories": _territories(request.user),
        "periods": period_choices(), "filter_query": "&".join(f"{k}={v}" for k, v in filters.items()),
        "summary": selectors.pipeline_summary(user=request.user, owner=filters.get("owner"), team=filters.get("team"),
                                              territory=filters.get("territory")),
    }
    template = "opportunities/_board.html" if partial or request.headers.get("HX-Request") else \
        "opportunities/board.html"
    return render(request, template, context)


def _territories(user):
    return list(territory_list(user=user).order_by("name")[:200])


# --- forecast --------------------------------------------------------------------------------------

@perm_required("opportunity:read")
def forecast_view(request):
    """The user's team as rows, categories as columns, adjustments inline, snapshot trend chart."""
    period_name = request.GET.get("period") or quarter_of(date.today()).name
    try:
        period = parse_period(period_name)
    except ValidationError:
        raise Http404("Unknown period")
    user_id = request.GET.get("user")
    if not user_id and request.user.role == Role.ADMIN and not request.user.reports.exists():
        # An admin outside the sales hierarchy starts at the top manager's team.
        top = assignable_users(request.user).filter(manager__isnull=True, reports__isnull=False).first()
        user_id = str(top.pk) if top else None
    rollup = selectors.forecast_rollup(user=request.user, period=period.name,
                                       user_id=int(user_id) if user_id and user_id.isdigit() else None)
    head_id = rollup["user_id"]
    snapshots = list(selectors.forecast_snapshot_list(user=request.user, period=period.name, user_id=head_id,
                                                      scope="team" if rollup["rows"] else "personal"))
    chart = {
        "labels": [s.week_start.isoformat() for s in snapshots],
        "series": {name: [float(getattr(s, name)) for s in snapshots]
                   for name in ("closed_won", "commit", "best_case", "weighted", "adjusted_commit")},
    }
    submission_form = SubmissionForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "submit":
        require_permission(request.user, "opportunity:write")
        if submission_form.is_valid():
            try:
                forecasts.forecast_submit(actor=request.user, period=period.name, **submission_form.cleaned_data)
                messages.success(request, f"Forecast for {period.name} submitted.")
                return redirect(f"{reverse('opportunities:forecast')}?period={period.name}")
            except ValidationError as exc:
                _form_errors(submission_form, exc)
    territory_id = request.GET.get("territory")
    territory_rollup = None
    territories = _territories(request.user)
    if territory_id and territory_id.isdigit() and any(t.pk == int(territory_id) for t in territories):
        territory_rollup = selectors.forecast_territory_rollup(
            user=request.user, period=period.name, territory_id=int(territory_id))
        territory_rollup["name"] = next(str(t) for t in territories if t.pk == int(territory_id))
    return render(request, "opportunities/forecast.html", {
        "territories": territories, "territory_rollup": territory_rollup,
        "rollup": rollup, "period": period, "periods": period_choices(), "chart_json": json.dumps(chart),
        "has_snapshots": bool(snapshots), "accuracy": selectors.forecast_accuracy(user=request.user, period=period.name,
                                                                                  user_id=head_id),
        "submission_form": submission_form, "can_write": can_write(request.user),
        "submissions": selectors.forecast_submission_list(user=request.user, period=period.name)[:20],
        "adjustments": selectors.forecast_adjustment_list(user=request.user, period=period.name)[:20],
        "team_heads": assignable_users(request.user).filter(reports__isnull=False).distinct()
        if request.user.role != Role.READ_ONLY else [],
    })


@perm_required("forecast:adjust")
@require_POST
def forecast_adjust_view(request):
    """Inline adjustment from a forecast row (htmx): answers the updated row."""
    period = request.POST.get("period", "")
    try:
        target = User.objects.get(pk=int(request.POST.get("user", "0")))
        forecasts.forecast_adjust(actor=request.user, user=target, period=period,
                                 category=request.POST.get("category", ""), amount=request.POST.get("amount") or "x",
                                 reason=request.POST.get("reason", ""))
        messages.success(request, f"Adjusted {target}'s {request.POST.get('category', '').replace('_', ' ')}.")
    except (ValidationError, User.DoesNotExist, ValueError) as exc:
        text = "; ".join(getattr(exc, "messages", [str(exc)]))
        messages.error(request, f"Not adjusted: {text}")
    return redirect(f"{reverse('opportunities:forecast')}?period={period}&user={request.POST.get('head', '')}")


# --- home ------------------------------------------------------------------------------------------

def home_pipeline_panel(request):
    """The signed-in user's open pipeline on the home page."""
    user = request.user
    if not has_permission(user, "opportunity:read"):
        return None
    summary = selectors.pipeline_summary(user=user)
    return {"title": "My pipeline", "template": "opportunities/_home_panel.html", "order": 20,
            "context": {"summary": summary}}


# Fields of a deal edited in place on its page (the stage has its own select, closing its own form).
INLINE_FIELDS = {"amount": "Amount", "expected_close_date": "Expected close", "owner": "Owner"}


def _inline_form(request, opp, field: str, data=None) -> forms.Form:
    """A one-field form with the deal form's own field (so the same validation and, for the owner, the
    same choices of the assignment policy)."""
    form = forms.Form(data, auto_id=f"id_inline_%s_{opp.pk}")
    form.fields[field] = copy.deepcopy(OpportunityForm.base_fields[field])
    if field == "owner":
        form.fields[field].queryset = owner_choices(request.user, opp)
    form.fields[field].widget.attrs["class"] = "form-select form-select-sm" if field == "owner" else "form-control form-control-sm"
    form.initial[field] = opp.owner_id if field == "owner" else getattr(opp, field)
    return form


@perm_required("opportunity:write")
def opportunity_field_view(request, pk, field):
    """htmx: edit one field of a deal in place (GET ?edit=1 the form, GET the value, POST saves through
    the deals service and shows the new value, or the form with the service's error)."""
    if field not in INLINE_FIELDS:
        raise Http404("No such field.")
    opp = selectors.opportunity_get(user=request.user, pk=pk, action=CHANGE)
    form, error = None, ""
    if request.method == "POST":
        form = _inline_form(request, opp, field, request.POST)
        if form.is_valid():
            try:
                opp = deals.opportunity_update(actor=request.user, opportunity=opp, **{field: form.cleaned_data[field]})
                form = None
            except ValidationError as exc:
                error = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
    elif request.GET.get("edit"):
        form = _inline_form(request, opp, field)
    return render(request, "opportunities/_inline_field.html", {
        "opp": opp, "field": field, "label": INLINE_FIELDS[field], "form": form, "error": error, "can_write": True,
    })
