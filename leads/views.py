"""Lead pages: list with filters and bulk actions, detail with actions, forms, export."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from leads import selectors, services, workflow
from leads.dedup import find_duplicates
from leads.filtersets import LeadFilter
from leads.forms import AssignForm, ConvertForm, LeadCreateForm, LeadForm, MergeForm
from leads.models import Lead
from salesapp import access_log
from salesapp.access import CHANGE
from salesapp.assignment import assignable_users
from salesapp.exports import csv_export
from salesapp.guards import has_permission, perm_required
from salesapp.lists import Column, list_context
from territories.selectors import territory_list

LEAD_COLUMNS = [
    Column("name", "Name", sort="last_name"), Column("company", "Company", sort="company"),
    Column("status", "Status", sort="status"), Column("score", "Score", sort="score", end=True),
    Column("owner", "Owner"), Column("territory", "Territory"), Column("source", "Source"),
    Column("created", "Created", sort="created_at"),
    Column("last_activity", "Last activity", sort="last_activity_at", default=False),
]


def _options(pairs, selected) -> str:
    return format_html_join("", '<option value="{}"{}>{}</option>', (
        # Security review 2026-12-02 (bandit B308): a constant attribute; the values and labels are escaped by format_html_join.
        (value, mark_safe(" selected") if str(value) == str(selected) else "", label) for value, label in pairs))  # nosec B308


def _errors_into(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _territories_for(user):
    """The active plan's territories the user may filter by."""
    return list(territory_list(user=user, active_plan=True).values("id", "name")[:500])


def _where(lead: Lead) -> str:
    """Who works the lead now, in words: its owner, its queue, or both."""
    owner = (lead.assigned_to.get_full_name() or lead.assigned_to.email) if lead.assigned_to else ""
    if owner and lead.queue:
        return f"{owner} (queue {lead.queue})"
    if lead.queue:
        return f"the queue {lead.queue}"
    return owner or "nobody yet"


def _land(request, lead: Lead, done: str):
    """After saving: the lead's page, or, when it went where the user can no longer see it, the list saying where."""
    if selectors.lead_list(user=request.user).filter(pk=lead.pk).exists():
        messages.success(request, f"{done} {lead.assignment_reason}")
        return redirect("leads:detail", pk=lead.pk)
    messages.info(request, f"{done} It went to {_where(lead)}, so you no longer see it. Why: {lead.assignment_reason}")
    return redirect("leads:list")


@perm_required("lead:read")
def lead_list(request):
    """Leads the user may see, newest first; converted and unqualified ones only when the filters ask."""
    base = selectors.lead_list(user=request.user).select_related(
        "assigned_to", "territory", "converted_opportunity__stage").only(
        "id", "first_name", "last_name", "email", "company", "status", "score", "score_model", "source", "created_at",
        "last_activity_at", "assigned_to__first_name", "assigned_to__last_name", "assigned_to__email",
        "territory__name", "queue",
        # a converted lead shows its deal's state instead of a score
        "converted_opportunity__stage__is_closed", "converted_opportunity__stage__is_won")
    page, filterset = list_context(request, key="leads", filterset_class=LeadFilter, queryset=base,
                                   columns=LEAD_COLUMNS, default_ordering="-created_at", defaults={"is_open": "true"})
    access_log.record_search(request, Lead, [lead.pk for lead in page])
    owners = [(u["id"], f"{u['first_name']} {u['last_name']}".strip() or u["email"])
              for u in assignable_users(request.user).values("id", "first_name", "last_name", "email")]
    territories = [(t["id"], t["name"]) for t in _territories_for(request.user)]
    return render(request, "leads/list.html", {
        "list": page, "filter": filterset, "query": page.query, "statuses": Lead.Status.choices,
        # Options are built here: a template loop over hundreds of users costs more than the whole page query.
        "owner_filter_options": _options(owners, request.GET.get("assigned_to")),
        "owner_options": _options(owners, None),
        "territory_options": _options(territories, request.GET.get("territory_id")),
        "can_write": has_permission(request.user, "lead:write"),
        "can_import": has_permission(request.user, "lead:import"),
        "selected_status": request.GET.getlist("status"),
    })


@perm_required("lead:write")
@require_POST
def lead_bulk(request):
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    leads = list(selectors.lead_list(user=request.user, action=CHANGE).filter(pk__in=ids))
    back = reverse("leads:list") + ("?" + request.POST["query"] if request.POST.get("query") else "")
    if not leads:
        messages.warning(request, "Select at least one lead you may change.")
        return redirect(back)
    action = request.POST.get("action", "")
    try:
        if action == "assign":
            owner = assignable_users(request.user).filter(pk=request.POST.get("owner") or 0).first()
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


@perm_required("lead:read")
def lead_export(request):
    base = selectors.lead_list(user=request.user)
    qs = LeadFilter(request.GET, queryset=base, user=request.user).qs.order_by("-id")
    return csv_export(request, queryset=qs, columns=selectors.EXPORT_COLUMNS, filename="leads.csv")


def _url(name: str, pk) -> str:
    """The page of a converted lead's account or deal; "" while the lead has none."""
    return reverse(name, args=[pk]) if pk else ""


@perm_required("lead:read")
def lead_detail(request, pk):
    lead = selectors.lead_get(user=request.user, pk=pk)
    access_log.record_detail(request, lead)
    may_change = selectors.lead_list(user=request.user, action=CHANGE, include_merged=True).filter(pk=pk).exists()
    return render(request, "leads/detail.html", {
        "lead": lead,
        "actions": workflow.actions_for(lead.status) if may_change and not lead.merged_into_id else [],
        "may_change": may_change and not lead.merged_into_id,
        "duplicates": find_duplicates(lead, queryset=selectors.lead_list(user=request.user), exclude_pk=lead.pk),
        "merged_leads": selectors.lead_list(user=request.user, include_merged=True).filter(merged_into=lead),
        "timeline_url": reverse("activities:timeline-panel") + f"?kind=lead&id={lead.pk}",
        "intelligence_url": reverse("intelligence:panel", kwargs={"kind": "lead", "pk": lead.pk}),
        "assign_form": AssignForm(owners=assignable_users(request.user)),
        "opportunity_url": _url("opportunities:detail", lead.converted_opportunity_id),
        "account_url": _url("opportunities:account-detail", lead.converted_account_id),
        "contact_url": _url("opportunities:contact-detail", lead.converted_contact_id),
    })


@perm_required("lead:write")
@require_http_methods(["GET", "POST"])
def lead_create(request):
    """New lead: a rep keeps it unless they tick "route it for me"; the page after saving shows where it went."""
    form = LeadCreateForm(request.POST or None, owners=selectors.lead_owner_choices(user=request.user))
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.lead_fields()
        duplicates = find_duplicates(data, queryset=selectors.lead_list(user=request.user))
        if duplicates and not form.cleaned_data["confirm_duplicate"]:
            form.add_error("confirm_duplicate", "This looks like a lead that already exists. Check below, then tick "
                                                "this box to save anyway.")
        else:
            try:
                lead = services.lead_create(actor=request.user, route=form.cleaned_data["route"], **data)
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                return _land(request, lead, f"Lead {lead} created.")
    return render(request, "leads/form.html", {"form": form, "duplicates": duplicates, "lead": None})


@perm_required("lead:write")
@require_http_methods(["GET", "POST"])
def lead_edit(request, pk):
    lead = _changeable(request, pk)
    form = LeadForm(request.POST or None, owners=selectors.lead_owner_choices(user=request.user, lead=lead),
                    initial=LeadForm.initial_from(lead))
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_update(actor=request.user, lead=lead, **form.lead_fields())
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            return _land(request, lead, "Lead saved.")
    return render(request, "leads/form.html", {"form": form, "duplicates": [], "lead": lead})


def _changeable(request, pk) -> Lead:
    lead = selectors.lead_get(user=request.user, pk=pk)
    if not selectors.lead_list(user=request.user, action=CHANGE).filter(pk=pk).exists():
        raise PermissionDenied
    return lead


@perm_required("lead:write")
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


@perm_required("lead:write")
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
            messages.success(request, format_html(
                'Converted: account <a href="{}">{}</a>, contact <a href="{}">{}</a>, deal <a href="{}">{}</a>.',
                reverse("opportunities:account-detail", args=[lead.converted_account_id]), lead.converted_account.name,
                reverse("opportunities:contact-detail", args=[lead.converted_contact_id]), lead.converted_contact,
                reverse("opportunities:detail", args=[lead.converted_opportunity_id]),
                lead.converted_opportunity.name))
            return redirect("leads:detail", pk=pk)
    return render(request, "leads/convert.html", {"lead": lead, "form": form})


@perm_required("lead:write")
@require_POST
def lead_assign(request, pk):
    lead = _changeable(request, pk)
    form = AssignForm(request.POST, owners=assignable_users(request.user))
    if form.is_valid():
        try:
            if form.cleaned_data["route"]:
                lead = services.lead_route(actor=request.user, lead=lead)
            else:
                lead = services.lead_assign(actor=request.user, lead=lead, owner=form.cleaned_data["assigned_to"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            return _land(request, lead, "Assigned.")
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("leads:detail", pk=pk)


@perm_required("lead:write")
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


@perm_required("lead:read")
def lead_duplicates_check(request):
    """htmx: likely duplicates of what is being typed in the create form."""
    data = {k: request.GET.get(k, "") for k in ("email", "phone", "company", "first_name", "last_name")}
    duplicates = find_duplicates(data, queryset=selectors.lead_list(user=request.user)) if any(data.values()) else []
    return render(request, "leads/_duplicates.html", {"duplicates": duplicates})
