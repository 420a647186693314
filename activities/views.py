"""Pages: My tasks, the timeline panel other apps' pages load with htmx, quick logging, the calendar feed."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from activities import calendar, links, selectors, services, timeline
from activities.filtersets import TIMELINE_TYPES, TimelineFilter, parse
from activities.forms import TABS, form_for
from salesapp.access import can_write
from salesapp.hierarchy import user_subtree_ids
from salesapp.models import User
from salesapp.roles import Role, perm

PANEL_PAGE = 20
# Where a linked record's own page lives, tried in order (the owning apps name them).
RECORD_URLS = {
    "lead": ("leads:detail",),
    "opportunity": ("opportunities:detail",),
    "account": ("opportunities:account-detail",),
    "contact": ("opportunities:contact-detail",),
}


def _need(request, codename: str) -> None:
    if not request.user.has_perm(perm(codename)):
        raise PermissionDenied


def record_url(kind: str, record_id) -> str:
    for name in RECORD_URLS.get(kind, ()):
        try:
            return reverse(name, args=[record_id])
        except NoReverseMatch:
            continue
    if kind not in timeline.TIMELINE_KINDS:
        return ""  # e.g. contacts: no page of their own yet
    return reverse("activities:timeline-page", args=[kind, record_id])


def _assignees(user):
    if user.role == Role.ADMIN:
        return User.objects.filter(is_active=True).exclude(pk=user.pk).order_by("first_name", "email")[:200]
    return User.objects.filter(pk__in=user_subtree_ids(user.pk), is_active=True).exclude(pk=user.pk)[:200]


def _writer(user) -> bool:
    return can_write(user) and user.has_perm(perm("activity:write"))


ICONS = {"call": "telephone", "email": "envelope", "meeting": "people", "demo": "display", "task": "check2-square"}


def _decorate(entries):
    for entry in entries:
        entry.icon = ICONS.get(entry.kind, "clock-history") if entry.type == "activity" else "arrow-right-circle"
        entry.is_open = bool(entry.activity and entry.activity.get("completed_at") is None)
        entry.links = [
            {"kind": kind, "id": entry.refs[f"{kind}_id"], "url": record_url(kind, entry.refs[f"{kind}_id"])}
            for kind in ("opportunity", "lead", "contact", "account") if entry.refs.get(f"{kind}_id")
        ]
    return entries


def _panel_context(request, kind, record_id, *, types=None, cursor=None, form=None, active="call", notice=""):
    page = timeline.timeline(user=request.user, kind=kind, record_id=record_id, types=types, cursor=cursor,
                             limit=PANEL_PAGE)
    writer = _writer(request.user) and kind != "user"
    tab_forms = []
    if writer:
        assignees = _assignees(request.user)
        for tab, label, icon in TABS:
            bound = form if (form is not None and tab == active) else form_for(tab, assignees=assignees)
            tab_forms.append((tab, label, icon, bound))
    query = f"kind={kind}&id={record_id}" + "".join(f"&type={t}" for t in (types or []))
    return {
        "kind": kind, "record_id": record_id, "entries": _decorate(page.entries), "next_cursor": page.next_cursor,
        "types": types or [], "type_choices": TIMELINE_TYPES, "tab_forms": tab_forms, "active": active,
        "writer": writer, "notice": notice, "query": query, "now": timezone.now(),
    }


@login_required
@require_GET
def timeline_panel(request):
    """The timeline of ?kind=&id= (lead, opportunity, account, user) as an htmx partial."""
    _need(request, "activity:read")
    try:
        fs = parse(TimelineFilter, {"type": request.GET.getlist("type")})
        types = fs.form.cleaned_data.get("type") or []
    except ValidationError:
        types = []
    kind, record_id = request.GET.get("kind", ""), request.GET.get("id", "")
    cursor = request.GET.get("cursor") or None
    try:
        context = _panel_context(request, kind, record_id, types=types, cursor=cursor)
    except ValidationError:
        raise Http404("Invalid cursor")
    template = "activities/_timeline_entries.html" if cursor else "activities/_timeline.html"
    return render(request, template, context)


@login_required
def timeline_page(request, kind, record_id):
    """A full page around one timeline (also what a record link falls back to)."""
    _need(request, "activity:read")
    subject = timeline.timeline_subject(user=request.user, kind=kind, record_id=record_id)
    return render(request, "activities/timeline_page.html", {
        "subject": subject, "kind": kind, "record_id": record_id, "record_url": record_url(kind, record_id)
        if kind != "user" else "",
    })


@login_required
@require_POST
def log_activity(request):
    """Quick-log a call, email, meeting/demo or task on ?kind=&id=; answers the refreshed panel."""
    _need(request, "activity:write")
    kind, record_id = request.GET.get("kind", ""), request.GET.get("id", "")
    if kind not in links.KINDS:
        raise Http404("No such record")
    timeline.timeline_subject(user=request.user, kind=kind, record_id=record_id)
    active = request.POST.get("tab") or "call"
    if active not in dict((t, 1) for t, _, _ in TABS):
        active = "call"
    form = form_for(active, request.POST, assignees=_assignees(request.user))
    if form.is_valid():
        try:
            doc = services.activity_log(actor=request.user, **form.service_kwargs(), **{f"{kind}_id": int(record_id)})
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            context = _panel_context(request, kind, record_id, active=active,
                                     notice=f"{doc['type'].title()} logged.")
            return render(request, "activities/_timeline.html", context)
    # htmx swaps 2xx answers only, so the form comes back with its errors and a 200
    context = _panel_context(request, kind, record_id, form=form, active=active)
    return render(request, "activities/_timeline.html", context)


@login_required
@require_POST
def complete_activity(request, activity_id):
    """Mark an activity done; answers the task row (My tasks) or the refreshed timeline panel."""
    _need(request, "activity:write")
    error = ""
    try:
        services.activity_complete(actor=request.user, activity_id=activity_id)
    except ValidationError as exc:
        error = "; ".join(m for ms in exc.message_dict.values() for m in ms)
    kind, record_id = request.GET.get("kind"), request.GET.get("id")
    if kind and record_id:
        return render(request, "activities/_timeline.html",
                      _panel_context(request, kind, record_id, notice=error or "Marked done."))
    doc = selectors.activity_get(user=request.user, activity_id=activity_id)
    if request.headers.get("HX-Request"):
        return render(request, "activities/_task_row.html", {"task": _task_view(doc), "error": error, "done": not error,
                                                                 "writer": _writer(request.user)})
    if error:
        messages.error(request, error)
    nxt = request.POST.get("next") or reverse("activities:my-tasks")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = reverse("activities:my-tasks")
    return redirect(nxt)


def _task_view(doc: dict) -> dict:
    link = links.primary_link(doc)
    return {**doc, "link_kind": link[0] if link else "", "link_url": record_url(*link) if link else ""}


@login_required
def my_tasks(request):
    """My open tasks (overdue, due today, upcoming), my meetings, and my calendar feed link."""
    _need(request, "activity:read")
    groups = selectors.my_tasks(user=request.user)
    feed_url = ""
    if request.user.calendar_token:
        feed_url = request.build_absolute_uri(reverse("activities:calendar-feed", args=[request.user.calendar_token]))
    sections = [
        ("overdue", "Overdue", "danger"), ("today", "Due today", "warning"), ("upcoming", "Upcoming", "primary"),
        ("no_due_date", "No due date", "secondary"),
    ]
    return render(request, "activities/my_tasks.html", {
        "sections": [(key, label, colour, [_task_view(d) for d in groups[key]]) for key, label, colour in sections],
        "meetings": [_task_view(d) for d in groups["meetings"]],
        "open_count": sum(len(groups[k]) for k, _, _ in sections),
        "feed_url": feed_url, "writer": _writer(request.user), "now": timezone.now(),
        "soon": timezone.now() + timedelta(hours=1),
    })


@login_required
@require_POST
def calendar_rotate(request):
    """Make a new secret feed URL; the old one stops working at once."""
    _need(request, "activity:read")
    services.calendar_token_rotate(actor=request.user)
    messages.success(request, "Your calendar feed has a new address; the old one no longer works.")
    return redirect("activities:my-tasks")


@require_GET
def calendar_feed(request, token):
    """The iCalendar feed of a user's meetings and demos; the secret token in the URL is the only credential."""
    if not token or len(token) < 20:
        raise Http404
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None:
        raise Http404
    body = calendar.ics(user=user, events=selectors.calendar_events(user=user), host=request.get_host())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="activities.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def home_panel(request):
    """Home page: my overdue and today's tasks."""
    user = request.user
    if not user.has_perm(perm("activity:read")):
        return None
    groups = selectors.my_tasks(user=user, limit=200)
    if not (groups["overdue"] or groups["today"]):
        return None
    return {
        "title": "My tasks",
        "template": "activities/_home_panel.html",
        "context": {"overdue": len(groups["overdue"]), "today": [_task_view(d) for d in groups["today"][:5]],
                    "today_count": len(groups["today"])},
        "order": 20,
    }
