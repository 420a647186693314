"""Kernel pages: home, sign-in, error pages, search."""

from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from salesapp import access_log, home
from salesapp.api.search import SearchParamsSerializer
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
