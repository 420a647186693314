"""Kernel pages: home, sign-in, error pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from salesapp import home


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
