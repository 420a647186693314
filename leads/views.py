"""Lead pages: list with filters and bulk actions, detail with actions, forms, export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from leads import selectors, services, workflow
from leads.dedup import find_duplicates
from leads.filtersets import LeadFilter
from leads.forms import AssignForm, ConvertForm, LeadForm, MergeForm
from leads.models import Lead
from salesapp.access import CHANGE, can_write
from salesapp.exports import csv_response
from salesapp.roles import perm

SORTS = {
    "newest": "-id", "oldest": "id", "score": "-score", "score_low": "score", "name": "last_name",
    "company": "company", "status": "status",
}
PAGE_SIZE = 50


class _Page(list):
    """One page of rows without a COUNT(*): counting a million visible leads costs more than the page."""

    def __init__(self, rows, number, has_next):
        super().__init__(rows)
        self.number, self._has_next = number, has_next

    def has_next(self):
        return self._has_next

    def has_previous(self):
        return self.number > 1

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1


def _page(qs, number) -> _Page:
    try:
        number = max(1, int(number or 1))
    except ValueError:
        number = 1
    start = (number - 1) * PAGE_SIZE
    rows = list(qs[start:start + PAGE_SIZE + 1])
    return _Page(rows[:PAGE_SIZE], number, len(rows) > PAGE_SIZE)


def _options(pairs, selected) -> str:
    return format_html_join("", '<option value="{}"{}>{}</option>', (
        (value, mark_safe(" selected") if str(value) == str(selected) else "", label) for value, label in pairs))


def _require(user, codename):
    if not user.has_perm(perm(codename)):
        raise PermissionDenied


def _errors_into(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _territories_for(user):
    """The active plan's territories the user may filter by."""
    from territories.selectors import active_model, territory_list

    model = active_model()
    return list(territory_list(user=user, model_id=model.pk if model else None).values("id", "name")[:500])


@login_required
def lead_list(request):
    _require(request.user, "lead:read")
    base = selectors.lead_list(user=request.user)
    filterset = LeadFilter(request.GET or None, queryset=base)
    qs = filterset.qs if filterset.is_bound else base
    sort = request.GET.get("sort", "newest")
    qs = qs.order_by(SORTS.get(sort, "-id"), "-id").select_related("assigned_to", "territory").only(
        "id", "first_name", "last_name", "email", "company", "status", "score", "source", "created_at",
        "assigned_to__first_name", "assigned_to__last_name", "assigned_to__email", "territory__name", "queue")
    page = _page(qs, request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    owners = [(u["id"], f"{u['first_name']} {u['last_name']}".strip() or u["email"])
              for u in selectors.lead_assignable_users(user=request.user).values("id", "first_name", "last_name", "email")]
    territories = [(t["id"], t["name"]) for t in _territories_for(request.user)]
    return render(request, "leads/list.html", {
        "page": page, "filter": filterset if filterset.is_bound else LeadFilter(queryset=base), "sort": sort,
        "sorts": SORTS, "query": params.urlencode(), "statuses": Lead.Status.choices,
        # Options are built here: a template loop over hundreds of users costs more than the whole page query.
        "owner_filter_options": _options(owners, request.GET.get("assigned_to")),
        "owner_options": _options(owners, None),
        "territory_options": _options(territories, request.GET.get("territory_id")),
        "can_write": can_write(request.user) and request.user.has_perm(perm("lead:write")),
        "can_import": request.user.has_perm(perm("lead:import")),
        "selected_status": request.GET.getlist("status"),
    })


@login_required
@require_POST
def lead_bulk(request):
    _require(request.user, "lead:write")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    leads = list(selectors.lead_list(user=request.user, action=CHANGE).filter(pk__in=ids))
    back = reverse("leads:list") + ("?" + request.POST["query"] if request.POST.get("query") else "")
    if not leads:
        messages.warning(request, "Select at least one lead you may change.")
        return redirect(back)
    action = request.POST.get("action", "")
    try:
        if action == "assign":
            owner = selectors.lead_assignable_users(user=request.user).filter(pk=request.POST.get("owner") or 0).first()
            if owner is None:
                messages.error(request, "Choose the user to assign the leads to.")
                return redirect(back)
            done = services.lead_bulk_assign(actor=request.user, leads=leads, owner=owner)
            messages.success(request, f"{done} leads assigned to {owner}.")
        elif action == "status":
            done, refused = services.lead_bulk_transition(actor=request.user, leads=leads,
                                                          to_status=request.POST.get("to_status", ""))
            messages.success(request, f"{done} leads changed.")
            for line in refused[:10]:
                messages.warning(request, line)
        elif action == "route":
            for lead in leads:
                services.lead_route(actor=request.user, lead=lead)
            messages.success(request, f"{len(leads)} leads routed.")
        else:
            messages.error(request, "Choose a bulk action.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(back)


@login_required
def lead_export(request):
    _require(request.user, "lead:read")
    base = selectors.lead_list(user=request.user)
    qs = LeadFilter(request.GET, queryset=base).qs.order_by("-id")
    return csv_response("leads.csv", selectors.EXPORT_COLUMNS, selectors.lead_export_rows(qs))


def _panel_url(name: str, **query) -> str:
    """A panel URL from another app, by path arguments or query string; "" while that app has none."""
    try:
        return reverse(name, kwargs={"kind": query["kind"], "pk": query["id"]})
    except NoReverseMatch:
        pass
    try:
        url = reverse(name)
    except NoReverseMatch:
        return ""
    return url + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def _url(name: str, pk) -> str:
    if not pk:
        return ""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


@login_required
def lead_detail(request, pk):
    _require(request.user, "lead:read")
    lead = selectors.lead_get(user=request.user, pk=pk)
    may_change = selectors.lead_list(user=request.user, action=CHANGE, include_merged=True).filter(pk=pk).exists()
    return render(request, "leads/detail.html", {
        "lead": lead,
        "actions": workflow.actions_for(lead.status) if may_change and not lead.merged_into_id else [],
        "may_change": may_change and not lead.merged_into_id,
        "history": selectors.lead_history(lead=lead, limit=30),
        "duplicates": find_duplicates(lead, queryset=selectors.lead_list(user=request.user), exclude_pk=lead.pk),
        "merged_leads": selectors.lead_list(user=request.user, include_merged=True).filter(merged_into=lead),
        "timeline_url": _panel_url("activities:timeline-panel", kind="lead", id=lead.pk),
        "intelligence_url": _panel_url("intelligence:panel", kind="lead", id=lead.pk),
        "assign_form": AssignForm(owners=selectors.lead_assignable_users(user=request.user)),
        "merge_form": MergeForm(),
        "opportunity_url": _url("opportunities:detail", lead.converted_opportunity_id),
        "account_url": _url("opportunities:account-detail", lead.converted_account_id),
    })


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request):
    _require(request.user, "lead:write")
    if not can_write(request.user):
        raise PermissionDenied
    owners = selectors.lead_assignable_users(user=request.user)
    form = LeadForm(request.POST or None, owners=owners)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.lead_fields()
        duplicates = find_duplicates(data, queryset=selectors.lead_list(user=request.user))
        if duplicates and not form.cleaned_data["confirm_duplicate"]:
            form.add_error("confirm_duplicate", "This looks like a lead that already exists. Check below, then tick "
                                                "this box to save anyway.")
        else:
            try:
                lead = services.lead_create(actor=request.user, **data)
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, f"Lead {lead} created. {lead.assignment_reason}")
                return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/form.html", {"form": form, "duplicates": duplicates, "lead": None})


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit(request, pk):
    lead = selectors.lead_get(user=request.user, pk=pk)
    if not selectors.lead_list(user=request.user, action=CHANGE).filter(pk=pk).exists():
        raise PermissionDenied
    owners = selectors.lead_assignable_users(user=request.user)
    form = LeadForm(request.POST or None, owners=owners, initial=LeadForm.initial_from(lead))
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_update(actor=request.user, lead=lead, **form.lead_fields())
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, "Lead saved.")
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/form.html", {"form": form, "duplicates": [], "lead": lead})


def _changeable(request, pk) -> Lead:
    lead = selectors.lead_get(user=request.user, pk=pk)
    if not selectors.lead_list(user=request.user, action=CHANGE).filter(pk=pk).exists():
        raise PermissionDenied
    return lead


@login_required
@require_POST
def lead_transition(request, pk, action):
    lead = _changeable(request, pk)
    if action not in workflow.ACTIONS or action == "convert":
        raise Http404
    try:
        services.lead_transition(actor=request.user, lead=lead, to_status=workflow.ACTIONS[action],
                                 note=request.POST.get("note", ""))
        messages.success(request, f"Lead is now {Lead.Status(workflow.ACTIONS[action]).label.lower()}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("leads:detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def lead_convert(request, pk):
    lead = _changeable(request, pk)
    form = ConvertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_convert(actor=request.user, lead=lead, **form.cleaned_data)
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, f"Converted: account #{lead.converted_account_id}, contact "
                                      f"#{lead.converted_contact_id}, opportunity #{lead.converted_opportunity_id}.")
            return redirect("leads:detail", pk=pk)
    return render(request, "leads/convert.html", {"lead": lead, "form": form})


@login_required
@require_POST
def lead_assign(request, pk):
    lead = _changeable(request, pk)
    form = AssignForm(request.POST, owners=selectors.lead_assignable_users(user=request.user))
    if form.is_valid():
        try:
            if form.cleaned_data["route"]:
                lead = services.lead_route(actor=request.user, lead=lead)
            else:
                lead = services.lead_assign(actor=request.user, lead=lead, owner=form.cleaned_data["assigned_to"])
            messages.success(request, f"Assigned: {lead.assignment_reason}")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("leads:detail", pk=pk)


@login_required
@require_POST
def lead_merge(request, pk):
    target = _changeable(request, pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        other = selectors.lead_list(user=request.user, action=CHANGE).filter(pk=form.cleaned_data["other_id"]).first()
        if other is None:
            messages.error(request, "No such lead, or you may not change it.")
        else:
            try:
                services.lead_merge(actor=request.user, target=target, other=other)
                messages.success(request, f"Lead {other.pk} merged into this one.")
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
    return redirect("leads:detail", pk=pk)


@login_required
def lead_duplicates_check(request):
    """htmx: likely duplicates of what is being typed in the create form."""
    data = {k: request.GET.get(k, "") for k in ("email", "phone", "company", "first_name", "last_name")}
    duplicates = find_duplicates(data, queryset=selectors.lead_list(user=request.user)) if any(data.values()) else []
    return render(request, "leads/_duplicates.html", {"duplicates": duplicates})
