"""Territory pages: the tree, a territory, its form, matching, realignment preview and progress."""

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from salesapp.access import CHANGE, DELETE
from salesapp.guards import has_permission, perm_required
from salesapp.models import User
from territories import realignment, selectors, services
from territories.engine import RULE_FIELDS, rules_in_words
from territories.forms import CloneForm, GrantForm, MatchForm, MemberForm, RuleForm, TerritoryForm
from territories.matching import territory_match
from territories.models import RealignmentJob, TerritoryMember, TerritoryModel

PLAN = "territory:assign"


def _can_assign(request) -> bool:
    return has_permission(request.user, PLAN)


@perm_required("territory:read")
def tree_view(request):
    """The hierarchy of a territory model with owners, rules in words, members and record counts."""
    models = list(selectors.territory_model_list(user=request.user).order_by("-state", "-created_at"))
    model = None
    if request.GET.get("model"):
        model = next((m for m in models if str(m.pk) == request.GET["model"]), None)
        if model is None:
            raise Http404
    model = model or next((m for m in models if m.state == TerritoryModel.State.ACTIVE), None)
    rows = selectors.territory_tree(user=request.user, model=model) if model else []
    jobs = (selectors.realignment_job_list(user=request.user).filter(model=model).order_by("-id")[:5]
            if model else [])
    return render(request, "territories/tree.html", {
        "models": models, "model": model, "rows": rows, "jobs": jobs, "can_assign": _can_assign(request),
        "clone_form": CloneForm(initial={"name": f"{model.name} (re-plan)" if model else ""}),
    })


@perm_required("territory:read")
def territory_detail(request, pk: int):
    territory = selectors.territory_get(user=request.user, pk=pk)
    return render(request, "territories/detail.html", _detail_context(request, territory))


def _detail_context(request, territory, member_form=None, grant_form=None) -> dict:
    return {
        "territory": territory,
        "ancestors": selectors.territory_ancestors(territory),
        "children": selectors.territory_list(user=request.user).filter(parent=territory).order_by("name"),
        "rules": rules_in_words({f: getattr(territory, f) for f in RULE_FIELDS}),
        "members": (members := selectors.territory_members(territory)),
        "member_ids": {m.user_id for m in members},
        "grants": selectors.territory_grants(territory),
        "counts": selectors.record_counts([territory.pk], user=request.user)[territory.pk],
        "can_assign": _can_assign(request) and territory.model.state != TerritoryModel.State.ARCHIVED,
        "member_form": member_form or MemberForm(actor=request.user),
        "grant_form": grant_form or GrantForm(),
    }


@perm_required(PLAN)
def territory_form(request, pk: int | None = None):
    """Create or edit a territory. "Preview impact" plans the realignment without saving."""
    instance = selectors.territory_get(user=request.user, pk=pk, action=CHANGE) if pk else None
    if instance is not None and instance.model.state == TerritoryModel.State.ARCHIVED:
        raise PermissionDenied
    if instance is not None:
        model = instance.model
    else:
        model_id = request.POST.get("model") or request.GET.get("model")
        model = (selectors.territory_model_get(user=request.user, pk=model_id, action=CHANGE) if model_id
                 else services.territory_model_default())
    form = TerritoryForm(request.POST or None, actor=request.user, model=model, instance=instance)
    if instance is None and request.method == "GET" and request.GET.get("parent"):
        form.initial["parent"] = request.GET["parent"]
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            if instance is not None and "preview" in request.POST:
                change = {"territory_id": instance.pk, **data}
                change["parent"] = data["parent"].pk if data["parent"] else None
                change["owner"] = data["owner"].pk if data["owner"] else None
                job = realignment.realignment_preview_start(actor=request.user, model=model, rule_changes=[change])
                messages.info(request, "Nothing is saved yet: check the moves and apply them to save the rules.")
                return redirect("territories:job", pk=job.pk)
            if instance is None:
                territory = services.territory_create(actor=request.user, model=model, **data)
                messages.success(request, f"Territory {territory.name} created.")
            else:
                territory = services.territory_update(actor=request.user, territory=instance, **data)
                messages.success(request, f"Territory {territory.name} saved. Existing records keep their "
                                          "territory until you run a realignment.")
            return redirect("territories:detail", pk=territory.pk)
        except ValidationError as e:
            form.add_service_errors(e)
    return render(request, "territories/form.html", {"form": form, "territory": instance, "model": model})


@perm_required(PLAN)
@require_POST
def territory_delete(request, pk: int):
    territory = selectors.territory_get(user=request.user, pk=pk, action=DELETE)
    model_id = territory.model_id
    try:
        services.territory_delete(actor=request.user, territory=territory)
    except ValidationError as e:
        messages.error(request, " ".join(m for ms in e.message_dict.values() for m in ms))
        return redirect("territories:detail", pk=pk)
    messages.success(request, f"Territory {territory.name} deleted.")
    return redirect(f"{reverse('territories:tree')}?model={model_id}")


def _members_partial(request, territory, member_form=None, grant_form=None, status=200):
    return render(request, "territories/_people.html",
                  _detail_context(request, territory, member_form, grant_form), status=status)


@perm_required(PLAN)
@require_POST
def member_add(request, pk: int):
    territory = selectors.territory_get(user=request.user, pk=pk, action=CHANGE)
    form = MemberForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            services.territory_member_add(actor=request.user, territory=territory, **form.cleaned_data)
            form = None
        except ValidationError as e:
            for field, msgs in e.message_dict.items():
                form.add_error(field if field in form.fields else None, msgs)
    return _members_partial(request, territory, member_form=form)


@perm_required(PLAN)
@require_POST
def member_remove(request, pk: int, user_id: int):
    territory = selectors.territory_get(user=request.user, pk=pk, action=CHANGE)
    member = get_object_or_404(TerritoryMember, territory=territory, user_id=user_id)
    services.territory_member_remove(actor=request.user, member=member)
    return _members_partial(request, territory)


@perm_required(PLAN)
@require_POST
def grant_add(request, pk: int):
    territory = selectors.territory_get(user=request.user, pk=pk, action=CHANGE)
    form = GrantForm(request.POST)
    if form.is_valid():
        services.territory_grant_add(actor=request.user, territory=territory, **form.cleaned_data)
        form = None
    return _members_partial(request, territory, grant_form=form)


@perm_required(PLAN)
@require_POST
def grant_remove(request, pk: int, kind: str, grantee_id: int):
    territory = selectors.territory_get(user=request.user, pk=pk, action=CHANGE)
    if kind == "users":
        services.territory_grant_remove(actor=request.user, territory=territory, user=get_object_or_404(User, pk=grantee_id))
    else:
        services.territory_grant_remove(actor=request.user, territory=territory,
                                        group=get_object_or_404(Group, pk=grantee_id))
    return _members_partial(request, territory)


@perm_required(PLAN)
@require_POST
def model_preview(request, pk: int):
    """Preview realigning records to this model's rules (activation, for a planning model)."""
    model = selectors.territory_model_get(user=request.user, pk=pk, action=CHANGE)
    try:
        job = realignment.realignment_preview_start(actor=request.user, model=model)
    except ValidationError as e:
        messages.error(request, " ".join(m for ms in e.message_dict.values() for m in ms))
        return redirect(f"{reverse('territories:tree')}?model={pk}")
    return redirect("territories:job", pk=job.pk)


@perm_required(PLAN)
@require_POST
def model_clone(request, pk: int):
    source = selectors.territory_model_get(user=request.user, pk=pk)
    form = CloneForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the new plan a name.")
        return redirect(f"{reverse('territories:tree')}?model={pk}")
    model = services.territory_model_clone(actor=request.user, source=source, name=form.cleaned_data["name"])
    messages.success(request, f"Planning model {model.name} created: edit it, then preview its activation.")
    return redirect(f"{reverse('territories:tree')}?model={model.pk}")


def _job_context(job: RealignmentJob, user) -> dict:
    sample = list(job.moves.order_by("id")[:20])
    ids = ({f["from_territory_id"] for f in job.flows} | {f["to_territory_id"] for f in job.flows}
           | {m.from_territory_id for m in sample} | {m.to_territory_id for m in sample})
    territories = {t.pk: t for t in selectors.territory_list(user=user).filter(pk__in=[i for i in ids if i])}

    def label(tid):
        t = territories.get(tid)
        if t is None:
            return "no territory" if tid is None else f"territory #{tid} (deleted, or not one you can see)"
        return t.name if t.model_id == job.model_id else f"{t.name} ({t.model.name})"

    def same(f, t):
        a, b = territories.get(f), territories.get(t)
        return a is not None and b is not None and a.name == b.name

    flows = [{**f, "from": label(f["from_territory_id"]), "to": label(f["to_territory_id"]),
              "same_name": same(f["from_territory_id"], f["to_territory_id"])} for f in job.flows]
    # Real changes first; on activation, records following their territory into the new plan after.
    flows.sort(key=lambda f: (f["same_name"], -f["count"]))
    for m in sample:
        m.from_name, m.to_name = label(m.from_territory_id), label(m.to_territory_id)
        if not selectors.move_labels_shown(user=user):
            m.label = ""
    changes = []
    for change in job.rule_changes:
        t = selectors.territory_list(user=user).filter(pk=change["territory_id"]).first()
        current = {f: getattr(t, f) for f in RULE_FIELDS} if t else dict.fromkeys(RULE_FIELDS)
        row = {**current, **{f: change[f] for f in RULE_FIELDS if f in change}}
        changes.append({"territory": t, "rules": rules_in_words(row)})
    running = job.status in (RealignmentJob.Status.PREVIEWING, RealignmentJob.Status.QUEUED,
                             RealignmentJob.Status.RUNNING)
    return {
        "job": job, "flows": flows, "sample": sample, "changes": changes, "running": running,
        "real_moves": sum(f["count"] for f in flows if not f["same_name"]),
        "following": sum(f["count"] for f in flows if f["same_name"]),
    }


@perm_required(PLAN)
def job_detail(request, pk: int):
    """A realignment preview: what would move, from where to where; the apply button and progress."""
    job = selectors.realignment_job_get(user=request.user, pk=pk)
    ctx = _job_context(job, request.user)
    ctx["can_assign"] = _can_assign(request)
    return render(request, "territories/job.html", ctx)


@perm_required(PLAN)
def job_progress(request, pk: int):
    """The progress bar (htmx polls it while the job runs)."""
    job = selectors.realignment_job_get(user=request.user, pk=pk)
    ctx = _job_context(job, request.user)
    ctx["can_assign"] = _can_assign(request)
    return render(request, "territories/_progress.html", ctx)


@perm_required(PLAN)
@require_POST
def job_apply(request, pk: int):
    job = selectors.realignment_job_get(user=request.user, pk=pk, action=CHANGE)
    try:
        realignment.realignment_apply(actor=request.user, job=job)
    except ValidationError as e:
        messages.error(request, " ".join(m for ms in e.message_dict.values() for m in ms))
    return redirect("territories:job", pk=pk)


@perm_required(PLAN)
@require_POST
def job_cancel(request, pk: int):
    job = selectors.realignment_job_get(user=request.user, pk=pk, action=CHANGE)
    try:
        realignment.realignment_cancel(actor=request.user, job=job)
        messages.info(request, "Preview discarded; nothing changed.")
    except ValidationError as e:
        messages.error(request, " ".join(m for ms in e.message_dict.values() for m in ms))
    return redirect(f"{reverse('territories:tree')}?model={job.model_id}")


@perm_required("territory:read")
def match_view(request):
    """Try the rules: which territory would a record with these attributes land in, and why."""
    form = MatchForm(request.GET or None)
    result = None
    if request.GET and form.is_valid():
        result = territory_match(form.cleaned_data)
    return render(request, "territories/match.html", {"form": form, "result": result})


def my_territories_panel(request):
    """Home panel: the territories the user holds."""
    user = request.user
    if not has_permission(user, "territory:read"):
        return None
    held = list(
        selectors.territories_held_by(user=user).filter(model__state=TerritoryModel.State.ACTIVE, is_active=True)
        .order_by("name")[:8]
    )
    if not held:
        return None
    return {"title": "My territories", "template": "territories/_panel.html", "context": {"territories": held},
            "order": 60}


@perm_required(PLAN)
@require_GET
def rule_matches_view(request):
    """htmx, for the admin's rule editor: how many open records the rules being edited match now."""
    form = RuleForm(request.GET)
    if not form.is_valid():
        return render(request, "territories/_rule_matches.html", {"errors": form.errors})
    return render(request, "territories/_rule_matches.html", {"counts": selectors.rule_match_counts(form.rules())})
