"""Quota pages: the attainment dashboard and the planning tree (inline editing, allocation dialog)."""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from quotas import selectors, services
from quotas.forms import AllocationForm, QuotaCellForm
from quotas.models import Quota
from salesapp.access import CHANGE
from salesapp.guards import has_permission, perm_required
from salesapp.models import User
from salesapp.periods import current_quarter, parse_period, period_choices
from salesapp.roles import Role
from salesapp.selectors import user_get, user_list
from territories.selectors import territory_get

DIMENSIONS = ("people", "territories")


def _period(request):
    try:
        return parse_period(request.GET.get("period") or request.POST.get("period") or current_quarter().key)
    except ValidationError:
        return current_quarter()


def _quota_type(request) -> str:
    value = request.GET.get("quota_type") or request.POST.get("quota_type")
    return value if value in Quota.Type.values else Quota.Type.REVENUE


def _focus_user(request) -> User:
    """Whose attainment the dashboard shows: ?user=, else the signed-in user (an admin with no reports:
    the first manager with a team, as there is nothing of their own to show)."""
    user = request.user
    wanted = request.GET.get("user")
    if wanted:
        if not wanted.isdigit():
            raise Http404("No such user.")
        return user_get(user=user, pk=int(wanted))
    if user.role == Role.ADMIN and not User.objects.filter(manager=user).exists():
        manager = user_list(user=user).filter(role=Role.SALES_MANAGER, is_active=True, reports__isnull=False)
        return manager.distinct().order_by("pk").first() or user
    return user


@perm_required("quota:read")
def dashboard(request):
    """Progress per rep and for the team, and attainment through the period."""
    period = _period(request)
    quota_type = _quota_type(request)
    focus = _focus_user(request)
    mine = selectors.quota_attainment(user=request.user, user_id=focus.pk, period=period.key)["quotas"]
    team = {t: selectors.quota_rollup(user=request.user, period=period.key, user_id=focus.pk, quota_type=t)
            for t in Quota.Type.values}
    reps = []
    for index, child in enumerate(team[Quota.Type.REVENUE]["children"]):
        reps.append({"id": child["id"], "name": child["name"],
                     "by_type": [(t, team[t]["children"][index]) for t in Quota.Type.values]})
    series = selectors.attainment_series(user=request.user, period=period.key, user_id=focus.pk,
                                         quota_type=quota_type)
    territory_quotas = list(selectors.quota_list(user=request.user).filter(
        period=period.key, territory__isnull=False).order_by("territory__name", "quota_type")[:50])
    context = {
        "period": period, "periods": period_choices(), "quota_type": quota_type, "types": Quota.Type.choices,
        "focus": focus, "mine": mine, "team": team[Quota.Type.REVENUE], "reps": reps,
        "has_reports": bool(reps), "series": series, "territory_quotas": territory_quotas,
        "type_label": dict(Quota.Type.choices)[quota_type],
        "may_set": has_permission(request.user, services.SET_PERMISSION),
        "manager": user_list(user=request.user).filter(pk=focus.manager_id).first() if focus.manager_id else None,
    }
    return render(request, "quotas/dashboard.html", context)


# --- planning ---------------------------------------------------------------------------------


def _plan_context(request) -> dict:
    period = _period(request)
    quota_type = _quota_type(request)
    dimension = request.GET.get("dimension") or request.POST.get("dimension") or "people"
    if dimension not in DIMENSIONS:
        dimension = "people"
    if dimension == "people":
        rows = selectors.plan_user_tree(user=request.user, period=period.key, quota_type=quota_type)
    else:
        rows = selectors.plan_territory_tree(user=request.user, period=period.key, quota_type=quota_type)
    drafts = selectors.quota_list(user=request.user, action=CHANGE).filter(
        period=period.key, quota_type=quota_type, status=Quota.Status.DRAFT).count()
    return {"period": period, "periods": period_choices(), "quota_type": quota_type, "types": Quota.Type.choices,
            "dimension": dimension, "rows": rows, "drafts": drafts,
            "query": f"period={period.key}&quota_type={quota_type}&dimension={dimension}"}


@perm_required(services.SET_PERMISSION)
def plan(request):
    """The hierarchy as a tree table for a period: quotas, what is allocated below, the gap."""
    return render(request, "quotas/plan.html", _plan_context(request))


@perm_required(services.SET_PERMISSION)
def plan_table(request):
    return render(request, "quotas/_plan_table.html", _plan_context(request))


def _holder(request, kind: str, holder_id: int):
    """The person or territory of a plan cell, as the user may see them (404 otherwise)."""
    if kind == "user":
        return {"user": user_get(user=request.user, pk=holder_id)}
    if kind == "territory":
        return {"territory": territory_get(user=request.user, pk=holder_id)}
    raise Http404("No such holder.")


@perm_required(services.SET_PERMISSION)
@require_http_methods(["GET", "POST"])
def plan_cell(request, kind: str, holder_id: int):
    """GET: the amount as an input. POST: set the quota, then the whole table (parents' gaps move too)."""
    holder = _holder(request, kind, holder_id)
    period = _period(request)
    quota_type = _quota_type(request)
    lookup = {f"{k}_id": v.pk for k, v in holder.items()}
    existing = selectors.quota_list(user=request.user).filter(period=period.key, quota_type=quota_type,
                                                              **lookup).first()
    context = {"kind": kind, "holder_id": holder_id, "period": period, "quota_type": quota_type,
               "dimension": request.GET.get("dimension") or request.POST.get("dimension") or "people"}
    if request.method == "GET":
        form = QuotaCellForm(initial={"quota_amount": existing.quota_amount if existing else None})
        return render(request, "quotas/_plan_cell.html", {**context, "form": form})
    form = QuotaCellForm(request.POST)
    if form.is_valid():
        try:
            services.quota_set(actor=request.user, period=period.key, quota_type=quota_type,
                               quota_amount=form.cleaned_data["quota_amount"], **holder)
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                form.add_error("quota_amount" if field_name not in form.fields else field_name, messages)
        except PermissionDenied as exc:
            form.add_error("quota_amount", str(exc))
    if form.errors:
        response = render(request, "quotas/_plan_cell.html", {**context, "form": form})
        response["HX-Retarget"] = f"#cell-{kind}-{holder_id}"
        response["HX-Reswap"] = "innerHTML"
        return response
    return plan_table(request)


@perm_required(services.SET_PERMISSION)
@require_http_methods(["POST"])
def plan_publish(request):
    """Publish this period's drafts the manager may change."""
    period = _period(request)
    drafts = selectors.quota_list(user=request.user, action=CHANGE).filter(
        period=period.key, quota_type=_quota_type(request), status=Quota.Status.DRAFT)
    services.quotas_publish(actor=request.user, quotas=list(drafts))
    return plan_table(request)


@perm_required(services.SET_PERMISSION)
@require_http_methods(["GET", "POST"])
def allocate(request, pk: int):
    """The allocation dialog: choose a method, preview the split and the gap, allocate."""
    quota = selectors.quota_get(user=request.user, pk=pk, action=CHANGE)
    children = services.allocation_children(quota, actor=request.user)
    current = {}
    if children:
        kind = children[0][0]
        ids = [h.pk for _, h in children]
        for q in selectors.quota_list(user=request.user).filter(period=quota.period, quota_type=quota.quota_type,
                                                                **{f"{kind}_id__in": ids}):
            current[(kind, q.user_id or q.territory_id)] = q.quota_amount
    form = AllocationForm(request.POST or None, children=children, current=current)
    plan_result = None
    done = False
    if request.method == "POST" and form.is_valid():
        method = form.cleaned_data["method"]
        amounts = form.amounts() if method == services.MANUAL else None
        try:
            if "preview" in request.POST:
                plan_result = services.allocation_plan(actor=request.user, quota=quota, method=method,
                                                       amounts=amounts)
            else:
                plan_result = services.quota_allocate(actor=request.user, quota=quota, method=method,
                                                      amounts=amounts)
                done = True
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                form.add_error("method" if field_name not in form.fields else field_name, messages)
    planned = {r.holder_id: r for r in plan_result.rows} if plan_result else {}
    child_rows = [
        {"holder": holder, "field": form[name], "current": current.get((children[0][0], holder.pk)),
         "planned": planned.get(holder.pk)}
        for name, holder in form.child_fields
    ]
    response = render(request, "quotas/_allocate.html", {
        "quota": quota, "form": form, "plan": plan_result, "done": done, "children": children,
        "child_rows": child_rows,
        "summary": services.allocation_summary(quota, actor=request.user) if children else None,
        "action": reverse("quotas:allocate", args=[quota.pk]),
    })
    if done:
        response["HX-Trigger"] = json.dumps({"quotasChanged": {"quota": quota.pk}})
    return response

