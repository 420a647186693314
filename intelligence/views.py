"""Intelligence pages: the score panel (htmx fragment), the analytics dashboard, the models page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from intelligence import selectors, services
from intelligence.analytics import GROUPS, REPORTS
from intelligence.models import Kind
from intelligence.tasks import model_train_task
from salesapp.celery import app as celery_app
from salesapp.guards import has_permission, perm_required, require_permission

# The panel's URL names a record kind; reading it needs the permission to read that kind.
PANEL_KINDS = {"opportunity": (Kind.DEAL, "opportunity:read"), "deal": (Kind.DEAL, "opportunity:read"),
               "lead": (Kind.LEAD, "lead:read")}


def _panel_context(request, kind_name: str, record_id: int) -> dict:
    if kind_name not in PANEL_KINDS:
        raise Http404
    kind, codename = PANEL_KINDS[kind_name]
    require_permission(request.user, codename)
    score = selectors.score_get(user=request.user, kind=kind, record_id=record_id)
    recs = selectors.recommendation_list(user=request.user, kind=kind, record_id=record_id)
    return {
        "kind_name": "opportunity" if kind == Kind.DEAL else "lead", "record_id": record_id, "score": score,
        "ups": [f for f in score["factors"] if f["points"] > 0],
        "downs": [f for f in score["factors"] if f["points"] < 0],
        "recommendations": recs, "can_act": has_permission(request.user, "activity:write"),
    }


@login_required
def panel_view(request, kind: str, pk: int):
    """The score, its model and reasons (or the outcome of a decided record), and ranked advice (an htmx fragment)."""
    return render(request, "intelligence/panel.html", _panel_context(request, kind, pk))


@perm_required("activity:write")
@require_POST
def recommendation_decide_view(request, pk: int, decision: str):
    """Accept (creates the task) or dismiss advice from the panel; answers the refreshed panel."""
    rec = selectors.recommendation_get(user=request.user, pk=pk)
    error = None
    try:
        if decision == "accept":
            services.recommendation_accept(actor=request.user, recommendation=rec)
        elif decision == "dismiss":
            services.recommendation_dismiss(actor=request.user, recommendation=rec)
        else:
            raise Http404
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    kind_name, rid = ("opportunity", rec.opportunity_id) if rec.opportunity_id else ("lead", rec.lead_id)
    ctx = _panel_context(request, kind_name, rid)
    ctx["notice"] = error or ("Task created." if decision == "accept" else "Dismissed; we will not suggest it here again soon.")
    return render(request, "intelligence/panel.html", ctx)


CHARTS = (
    ("win_rate", "Win rate", "win_rate", "bar"),
    ("deal_size", "Average won deal size", "average_amount", "bar"),
    ("cycle_length", "Sales cycle (days, won deals)", "average_days", "bar"),
    ("velocity", "Pipeline velocity (value per day)", "velocity_per_day", "bar"),
    ("time_in_stage", "Average days in stage", "average_days", "bar"),
    ("slippage", "Deals closed after their first expected date", "slipped_share", "bar"),
)


@perm_required("analytics:read")
def analytics_view(request):
    """The analytics dashboard: charts over the deals and leads the user may see (served from the cache)."""
    group_by = request.GET.get("group_by", "rep")
    if group_by not in GROUPS:
        group_by = "rep"
    reports = {name: selectors.analytics_report(user=request.user, report=name, group_by=group_by) for name in REPORTS}
    charts = [
        {"id": f"chart-{name}", "title": title, "type": kind,
         "labels": [str(r["group"]) for r in reports[name]["rows"]],
         "values": [r.get(metric) for r in reports[name]["rows"]], "rows": reports[name]["rows"], "metric": metric}
        for name, title, metric, kind in CHARTS
    ]
    funnel = reports["funnel"]["rows"]
    totals = {k: sum(r[k] for r in funnel) for k in ("leads", "converted", "won")}
    return render(request, "intelligence/analytics.html", {
        "group_by": group_by, "groups": GROUPS, "charts": charts, "funnel": funnel, "funnel_totals": totals,
        "chart_data": [{"id": c["id"], "title": c["title"], "type": c["type"], "labels": c["labels"],
                        "values": c["values"]} for c in charts]
        + [{"id": "chart-funnel", "title": "Lead to deal to won", "type": "bar",
            "labels": ["Leads", "Converted to deals", "Won"], "values": [totals["leads"], totals["converted"], totals["won"]]}],
    })


@perm_required("analytics:read")
def models_view(request):
    """Scoring models: versions, holdout metrics, which one is active; admins can train now."""
    if request.method == "POST":
        require_permission(request.user, "intelligence:train")
        kind = request.POST.get("kind")
        if kind not in Kind.values:
            messages.error(request, "Choose deal or lead.")
        else:
            result = model_train_task.delay(kind, request.user.pk)
            # Trained in process (embedded mode): its decision is known now; a worker's is not (no result store).
            if celery_app.conf.task_always_eager:
                messages.info(request, result.get()["decision"])
            else:
                messages.info(request, f"Training the {kind} model has started.")
        return redirect("intelligence:models")
    models = list(selectors.model_list(user=request.user))
    return render(request, "intelligence/models.html", {
        "models": models, "can_train": has_permission(request.user, "intelligence:train"),
    })
