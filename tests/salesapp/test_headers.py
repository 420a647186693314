"""Security headers on every answer: a Content-Security-Policy without inline scripts, Permissions-Policy;
and templates that need no inline script (the JS lives in static/js/)."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path

ROOT = Path(__file__).resolve().parents[2]


def _script_src(response) -> str:
    csp = response["Content-Security-Policy"]
    return next(d for d in csp.split(";") if d.strip().startswith("script-src ")).strip()


def _assert_secured(response):
    assert _script_src(response) == "script-src 'self'"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_every_kind_of_answer_carries_the_csp_and_permissions_policy(client, rep, bearer):
    answers = {
        "sign-in page": Client().get("/login/"),
        "page not found": Client().get("/no-such-page/"),
        "api anonymous": Client().get("/api/v1/users/me/"),
        "api not found": Client().get("/api/v1/no-such-thing/"),
        "api": bearer(rep).get("/api/v1/leads/"),
        "api schema": Client().get("/api/schema/"),
        "api docs": Client().get("/api/docs/"),
        "api docs script": Client().get("/api/docs/?script="),
        "health": Client().get("/healthz"),
    }
    client.force_login(rep)
    answers["home"] = client.get("/")
    answers["leads page"] = client.get("/leads/")
    answers["page not found signed in"] = client.get("/no-such-page/")
    for what, response in answers.items():
        assert response.status_code < 500, what
        _assert_secured(response)


def test_server_errors_carry_the_csp_too(settings):
    import salesapp.urls

    def boom(request):
        raise RuntimeError("kaboom")

    settings.ROOT_URLCONF = type("BoomUrls", (), {
        "urlpatterns": [path("boom/", boom), path("api/v1/boom/", boom), *salesapp.urls.urlpatterns],
        "handler500": "salesapp.views.error_500",
    })
    client = Client(raise_request_exception=False)
    for url in ("/boom/", "/api/v1/boom/"):
        response = client.get(url)
        assert response.status_code == 500
        _assert_secured(response)


def test_a_view_may_still_widen_its_own_policy(settings):
    # The policy is built once for all answers, yet django-csp's per-view decorators still apply
    from csp.decorators import csp_update
    from django.http import HttpResponse

    import salesapp.urls

    @csp_update({"img-src": "https://maps.example"})
    def with_map(request):
        return HttpResponse("map")

    settings.ROOT_URLCONF = type("MapUrls", (), {"urlpatterns": [path("map/", with_map), *salesapp.urls.urlpatterns]})
    widened = Client().get("/map/")["Content-Security-Policy"]
    assert "img-src 'self' data: https://maps.example" in widened
    assert "https://maps.example" not in Client().get("/login/")["Content-Security-Policy"]


def test_the_404_page_is_the_branded_one_not_a_debug_listing_of_urls():
    response = Client().get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "bootstrap.min.css" in html and "Not found" in html
    assert "URLconf" not in html and "api/v1/" not in html


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"javascript:|js:|hx-on", re.IGNORECASE)  # htmx's eval-ed attributes need 'unsafe-eval'
STYLE_ELEMENT = re.compile(r"<style", re.IGNORECASE)  # style-src allows files only (attributes are fine)


def test_no_template_has_an_inline_script_event_handler_or_style_element():
    templates = [p for d in TEMPLATE_DIRS for p in d.rglob("*.html")]
    assert len(templates) > 50
    offenders = {
        str(p.relative_to(ROOT)): pattern.pattern
        for p in templates
        for pattern in (INLINE_SCRIPT, HANDLER, JS_URL, STYLE_ELEMENT)
        if pattern.search(p.read_text())
    }
    assert offenders == {}
