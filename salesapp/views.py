"""Kernel pages: home, sign-in, error pages, search."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from salesapp import access_log, home, services
from salesapp.api.search import SearchParamsSerializer
from salesapp.choices import state_choices
from salesapp.guards import has_permission
from salesapp.models import DataAccess, SavedView
from salesapp.oidc import provider_logout_url
from salesapp.search import search_records
from salesapp.search_kinds import search_kinds


def logout_view(request):
    """Sign out (POST). A session begun at the OpenID provider is ended there too (RP-initiated logout):
    the browser goes on to the provider's end-session page, which sends it back to our sign-in page."""
    end_session = provider_logout_url(request)  # read before the session is flushed
    response = auth_views.LogoutView.as_view()(request)
    if end_session and response.status_code == 302:
        return render(request, "registration/provider_logout.html", {"end_session_url": end_session})
    return response


@login_required
def home_view(request):
    return render(request, "salesapp/home.html", {"panels": home.panels_for(request)})


def _api_error(request, status: int, code: str, message: str):
    """API clients get the one JSON error shape even for URLs no view answered."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)
    return None


def error_404(request, exception=None):
    return _api_error(request, 404, "not_found", "Not found.") or render(request, "404.html", status=404)


def error_403(request, exception=None):
    return _api_error(request, 403, "permission_denied", "You do not have permission to perform this action.") or render(
        request, "403.html", status=403
    )


def error_500(request):
    # Rendered without the request's context processors: the failure may be the database.
    return _api_error(request, 500, "server_error", "Something went wrong on our side.") or HttpResponse(
        loader.get_template("500.html").render({}), status=500
    )


# --- search -------------------------------------------------------------------------------------------------

FACET_TITLES = {"kind": "Kind", "status": "Lead status", "stage": "Deal stage", "owner": "Owner",
                "territory": "Territory", "created": "Created"}
SUGGESTIONS_PER_KIND = 5


def _search_answer(request, **overrides):
    """(params, answer) for the request's search parameters; answer is None when they are invalid."""
    data = request.GET.copy()
    for key, value in overrides.items():
        data[key] = value
    params = SearchParamsSerializer(data=data)
    if not params.is_valid():
        return params, None
    answer = search_records(user=request.user, request=params.search_request())
    access_log.record_search_hits(request, answer)
    return params, answer


@login_required
def search_view(request):
    """The search page: hits with highlights, facets to narrow by (each a link toggling its filter), pages."""
    params, answer = _search_answer(request)
    if answer is None:
        return render(request, "salesapp/search.html", {"errors": params.errors, "q": request.GET.get("q", "")},
                      status=400)
    current = {k: v for k, v in request.GET.items() if k != "page" and v}
    facets = []
    for name, buckets in answer["facets"].items():
        options = []
        for bucket in buckets:
            chosen = str(current.get(name, "")) == str(bucket["value"])
            link = {k: v for k, v in current.items() if k != name}
            if not chosen:
                link[name] = bucket["value"]
            options.append({**bucket, "chosen": chosen, "href": "?" + urlencode(link)})
        if options:
            facets.append({"name": name, "title": FACET_TITLES.get(name, name), "options": options})
    page_link = {k: v for k, v in current.items()}
    return render(request, "salesapp/search.html", {
        "q": answer["query"], "answer": answer, "facets": facets, "hits": _marked(answer["results"]),
        "previous_href": "?" + urlencode({**page_link, "page": answer["page"] - 1}) if answer["page"] > 1 else "",
        "next_href": "?" + urlencode({**page_link, "page": answer["next_page"]}) if answer["next_page"] else "",
    })


@login_required
def search_suggest_view(request):
    """The top bar's as-you-type suggestions: the best hits grouped by kind, each a link to its page."""
    if not request.GET.get("q", "").strip():
        return HttpResponse("")
    params, answer = _search_answer(request, page="1", page_size="20")
    if answer is None:
        return HttpResponse("", status=400)
    groups: dict[str, dict] = {}
    labels = {kind.key: kind.label for kind in search_kinds()}
    for hit in _marked(answer["results"]):
        group = groups.setdefault(hit["kind"], {"label": labels[hit["kind"]], "hits": []})
        if len(group["hits"]) < SUGGESTIONS_PER_KIND:
            group["hits"].append(hit)
    return render(request, "salesapp/_search_suggest.html", {
        "groups": list(groups.values()), "q": answer["query"], "total": answer["total"],
        "all_href": reverse("search") + "?" + urlencode({"q": answer["query"]}),
    })


def _marked(hits: list[dict]) -> list[dict]:
    """Hits with their highlighted name ready to show (the engines escape everything but the <em> marks)."""
    # Security review 2026-12-02 (bandit B308/B703): Elasticsearch highlights with encoder "html" and the database
    # fallback escapes every part but its own <em> marks (salesapp.search), so only those marks stay markup.
    return [{**hit, "name_html": mark_safe(hit["highlight"].get("name") or escape(hit["title"]))}  # nosec B308 B703
            for hit in hits]


# --- saved views of lists ---------------------------------------------------------------------------------------

def _back_to_list(request):
    """The list page the form came from (only a path of this site)."""
    target = request.POST.get("next", "")
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts=None) and target.startswith("/") else "/"


@login_required
@require_POST
def saved_view_save_view(request):
    """Save the list's current filters, sort and columns under a name, and open it."""
    try:
        view = services.saved_view_save(actor=request.user, list_key=request.POST.get("list_key", "")[:40],
                                        name=request.POST.get("name", ""), query=request.POST.get("query", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_back_to_list(request))
    messages.success(request, f"View “{view.name}” saved.")
    return redirect(f"{_back_to_list(request)}?{view.query}{'&' if view.query else ''}view={view.pk}")


@login_required
@require_POST
def saved_view_delete_view(request, pk):
    """Delete one of your own saved views (another's answers 404)."""
    view = get_object_or_404(SavedView, pk=pk, user=request.user)
    services.saved_view_delete(actor=request.user, view=view)
    messages.success(request, f"View “{view.name}” deleted.")
    return redirect(_back_to_list(request))


# --- the command palette ----------------------------------------------------------------------------------------

# (label, url name or "#action", permission needed, icon, words it also answers to)
PALETTE_ACTIONS = [
    ("New lead", "leads:create", "lead:write", "person-plus", "create add lead"),
    ("New deal", "opportunities:create", "opportunity:write", "briefcase", "create add opportunity deal"),
    ("New account", "opportunities:account-create", "opportunity:write", "building-add", "create add company"),
    ("New contact", "opportunities:contact-new", "opportunity:write", "person-vcard", "create add person"),
    ("Log a call", "#log-call", "activity:write", "telephone", "log call activity phone"),
    ("My tasks", "activities:my-tasks", "activity:read", "check2-square", "todo due"),
]
RECENT_RECORDS = 6


def _palette_actions(user, q: str) -> list[dict]:
    words = q.lower().split()
    actions = []
    for label, target, needed, icon, synonyms in PALETTE_ACTIONS:
        if not has_permission(user, needed):
            continue
        text = f"{label} {synonyms}".lower()
        if all(word in text for word in words):
            url = target if target.startswith("#") else reverse(target)
            actions.append({"label": label, "url": url, "icon": icon, "action": target.removeprefix("#")
                            if target.startswith("#") else ""})
    return actions


def _recent_records(user) -> list[dict]:
    """The records the user last opened (their data-access log), newest first, that they may still see."""
    kinds = {kind.model._meta.label_lower: kind for kind in search_kinds()}
    seen: list[tuple[str, int]] = []
    for model, ids in DataAccess.objects.filter(user=user, kind=DataAccess.Kind.DETAIL, model__in=kinds).order_by(
            "-at").values_list("model", "object_ids")[:50]:
        for pk in ids:
            if (model, pk) not in seen:
                seen.append((model, pk))
    seen = seen[:RECENT_RECORDS]
    names = {}
    for model in {m for m, _ in seen}:
        kind = kinds[model]
        ids = [pk for m, pk in seen if m == model]
        names.update({(model, obj.pk): (kind, str(obj)) for obj in kind.visible(user).filter(pk__in=ids)})
    return [{"label": names[key][1], "url": names[key][0].url(key[1]), "kind": names[key][0].label}
            for key in seen if key in names]


@login_required
def search_palette_view(request):
    """The command palette (`/` or Ctrl-K): quick actions matching what is typed, then the records the user
    opened last (nothing typed) or the search's best hits (something typed)."""
    q = request.GET.get("q", "").strip()
    context = {"q": q, "actions": _palette_actions(request.user, q), "recent": [], "groups": []}
    if not q:
        context["recent"] = _recent_records(request.user)
        return render(request, "salesapp/_palette.html", context)
    params, answer = _search_answer(request, page="1", page_size="8")
    if answer is not None:
        labels = {kind.key: kind.label for kind in search_kinds()}
        context["hits"] = [{**hit, "kind_label": labels[hit["kind"]]} for hit in _marked(answer["results"])]
    return render(request, "salesapp/_palette.html", context)

@login_required
@require_GET
def state_choices_view(request):
    """The options of a form's state picker for the country just chosen (?country=US, or any field named
    *country), so the list always matches the country."""
    country = next((value for key, value in request.GET.items() if key.endswith("country")), "")
    return render(request, "salesapp/_options.html", {"choices": state_choices(country)})


@login_required
@require_GET
def profile_view(request):
    """Who you are here: name, email, role, manager and the people who report to you."""
    user = request.user
    return render(request, "salesapp/profile.html", {
        "profile": user, "reports": user.reports.filter(is_active=True).order_by("first_name", "last_name"),
    })


@login_required
@require_GET
def api_access_view(request):
    """How to call the REST API as yourself: get a token pair with your email and password, send the access
    token as a bearer token, refresh it before it expires."""
    base = request.build_absolute_uri("/api/v1/")
    return render(request, "salesapp/api_access.html", {
        "base": base, "token_url": request.build_absolute_uri(reverse("token_obtain_pair")),
        "refresh_url": request.build_absolute_uri(reverse("token_refresh")),
        "docs_url": reverse("api-docs"), "access_hours": settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() / 3600,
    })
