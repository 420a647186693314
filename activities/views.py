"""Pages: My tasks, the timeline panel other apps' pages load with htmx, quick logging, the calendar feed."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from activities import calendar, links, selectors, services, timeline
from activities.filtersets import TIMELINE_TYPES, ActivityFilter, TimelineFilter, parse
from activities.forms import TABS, form_for
from activities.models import Activity, ActivityType
from salesapp.guards import has_permission, perm_required
from salesapp.lists import saved_views
from salesapp.models import User

PANEL_PAGE = 20
# The page of a linked record (named by the app that owns it). Contacts are shown on their account's page.
RECORD_URLS = {
    "lead": "leads:detail",
    "opportunity": "opportunities:detail",
    "account": "opportunities:account-detail",
    "contact": "opportunities:contact-detail",
}

ACTIVITY_PAGE = 50


def record_url(kind: str, record_id) -> str:
    """The page of a linked record."""
    return reverse(RECORD_URLS[kind], args=[record_id])


def _writer(user) -> bool:
    return has_permission(user, "activity:write")


ICONS = {"call": "telephone", "email": "envelope", "meeting": "people", "demo": "display", "task": "check2-square"}


LINK_ORDER = ("opportunity", "lead", "contact", "account")


def _decorate(entries, *, user):
    """Icons, open state and the records each entry is linked to, by name (one query per kind for the page)."""
    refs = [(kind, entry.refs[f"{kind}_id"]) for entry in entries for kind in LINK_ORDER if entry.refs.get(f"{kind}_id")]
    names = links.record_names(user=user, refs=refs)
    for entry in entries:
        entry.icon = ICONS.get(entry.kind, "clock-history") if entry.type == "activity" else "arrow-right-circle"
        entry.is_open = bool(entry.activity and entry.activity.get("completed_at") is None)
        entry.links = [
            {"kind": kind, "id": pk, "name": names[(kind, int(pk))], "url": record_url(kind, pk)}
            for kind in LINK_ORDER if (pk := entry.refs.get(f"{kind}_id")) and (kind, int(pk)) in names
        ]
    return entries


def _panel_context(request, kind, record_id, *, types=None, cursor=None, form=None, active="call", notice=""):
    page = timeline.timeline(user=request.user, kind=kind, record_id=record_id, types=types, cursor=cursor,
                             limit=PANEL_PAGE)
    writer = _writer(request.user) and kind != "user"
    tab_forms = []
    if writer:
        for tab, label, icon in TABS:
            bound = form if (form is not None and tab == active) else form_for(tab, actor=request.user)
            tab_forms.append((tab, label, icon, bound))
    query = f"kind={kind}&id={record_id}" + "".join(f"&type={t}" for t in (types or []))
    return {
        "kind": kind, "record_id": record_id, "entries": _decorate(page.entries, user=request.user),
        "next_cursor": page.next_cursor,
        "types": types or [], "type_choices": TIMELINE_TYPES, "tab_forms": tab_forms, "active": active,
        "writer": writer, "notice": notice, "query": query, "now": timezone.now(),
    }


@perm_required("activity:read")
@require_GET
def timeline_panel(request):
    """The timeline of ?kind=&id= (lead, opportunity, account, user) as an htmx partial."""
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


@perm_required("activity:read")
def timeline_page(request, kind, record_id):
    """A full page around one timeline (a user's, or a record's)."""
    subject = timeline.timeline_subject(user=request.user, kind=kind, record_id=record_id)
    return render(request, "activities/timeline_page.html", {
        "subject": subject, "kind": kind, "record_id": record_id, "record_url": record_url(kind, record_id)
        if kind != "user" else "",
    })


@perm_required("activity:write")
@require_POST
def log_activity(request):
    """Quick-log a call, email, meeting/demo or task on ?kind=&id=; answers the refreshed panel."""
    kind, record_id = request.GET.get("kind", ""), request.GET.get("id", "")
    if kind not in links.KINDS:
        raise Http404("No such record")
    timeline.timeline_subject(user=request.user, kind=kind, record_id=record_id)
    active = request.POST.get("tab") or "call"
    if active not in dict((t, 1) for t, _, _ in TABS):
        active = "call"
    form = form_for(active, request.POST, actor=request.user)
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


@perm_required("activity:write")
@require_POST
def complete_activity(request, activity_id):
    """Mark an activity done; answers the task row (My tasks) or the refreshed timeline panel."""
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
        return render(request, "activities/_task_row.html", {"task": _task_views([doc], user=request.user)[0], "error": error, "done": not error,
                                                                 "writer": _writer(request.user)})
    if error:
        messages.error(request, error)
    nxt = request.POST.get("next") or reverse("activities:my-tasks")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = reverse("activities:my-tasks")
    return redirect(nxt)


def _task_views(docs: list[dict], *, user) -> list[dict]:
    """Tasks with the record each is about, by name and link (one query per kind for the list)."""
    primary = [links.primary_link(doc) for doc in docs]
    names = links.record_names(user=user, refs=[link for link in primary if link])
    views = []
    for doc, link in zip(docs, primary, strict=True):
        name = names.get((link[0], int(link[1]))) if link else None
        views.append({**doc, "link_kind": link[0] if name else "", "link_name": name or "",
                      "link_url": record_url(*link) if name else ""})
    return views


@perm_required("activity:read")
def my_tasks(request):
    """My open tasks (overdue, due today, upcoming), my meetings, and my calendar feed link."""
    groups = selectors.my_tasks(user=request.user)
    feed_url = ""
    if request.user.calendar_token:
        feed_url = request.build_absolute_uri(reverse("activities:calendar-feed", args=[request.user.calendar_token]))
    sections = [
        ("overdue", "Overdue", "danger"), ("today", "Due today", "warning"), ("upcoming", "Upcoming", "primary"),
        ("no_due_date", "No due date", "secondary"),
    ]
    return render(request, "activities/my_tasks.html", {
        "sections": [(key, label, colour, _task_views(groups[key], user=request.user)) for key, label, colour in sections],
        "meetings": _task_views(groups["meetings"], user=request.user),
        "open_count": sum(len(groups[k]) for k, _, _ in sections),
        "feed_url": feed_url, "writer": _writer(request.user), "now": timezone.now(),
        "soon": timezone.now() + timedelta(hours=1),
    })


@perm_required("activity:read")
@require_POST
def calendar_rotate(request):
    """Make a new secret feed URL; the old one stops working at once."""
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
    if not has_permission(user, "activity:read"):
        return None
    groups = selectors.my_tasks(user=user, limit=200)
    if not (groups["overdue"] or groups["today"]):
        return None
    return {
        "title": "My tasks",
        "template": "activities/_home_panel.html",
        "context": {"overdue": len(groups["overdue"]), "today": _task_views(groups["today"][:5], user=user),
                    "today_count": len(groups["today"])},
        "order": 20,
    }


@perm_required("activity:read")
def activity_list_view(request):
    """Activities the user may see, newest first, "load more" by cursor; open ones unless the filters say
    otherwise. Activities may live in MongoDB, so the list pages by cursor and counts nothing."""
    params = request.GET.copy()
    defaulted = not any(name in params for name in ActivityFilter.base_filters)
    if defaulted:
        params["status"] = selectors.STATUS_OPEN
    filterset = ActivityFilter(params, queryset=Activity.objects.none())
    filters = filterset.form.cleaned_data if filterset.is_valid() else {}
    docs, next_cursor = selectors.activity_list(user=request.user, filters=filters,
                                                cursor=request.GET.get("cursor") or None, limit=ACTIVITY_PAGE)
    rows = _task_views(docs, user=request.user)
    saved, current = saved_views(request, "activities")
    query = request.GET.copy()
    for name in ("cursor", "view"):
        query.pop(name, None)
    return render(request, "activities/activity_list.html", {
        "rows": rows, "filter": filterset, "params": request.GET, "types": ActivityType.choices,
        "next_href": "?" + urlencode({**query.dict(), "cursor": next_cursor}) if next_cursor else "",
        "list": {"key": "activities", "query": query.urlencode(), "saved_views": saved, "current_view": current},
        "defaulted": defaulted, "show_all_href": "?" + urlencode({**query.dict(), "status": ""}),
    })
