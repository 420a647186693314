"""Kernel pages: home, sign-in, error pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from salesapp import home


@login_required
def home_view(request):
    return render(request, "salesapp/home.html", {"panels": home.panels_for(request)})


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_500(request):
    return render(request, "500.html", status=500)
