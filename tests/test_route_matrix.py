"""Every page and API list, walked as each role on the demo data, answers without a server error.

The permission matrix (tests/permissions/) checks who may do what on a small world
built for it; this walk renders the same routes over the demo's volume and variety
of records, where a page can break on data the small world does not have. It takes
every GET route without path arguments, from the URLconf and the OpenAPI schema.
"""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from salesapp.models import User
from tests.permissions.mixin import api_operations, page_routes

# Signing out would end the walk's session half-way.
ENDS_THE_SESSION = {"logout", "admin:logout"}
ARGUMENT = re.compile(r"<|\(\?P|\{")


def no_argument_paths() -> list[tuple[str, str]]:
    """(route, path) of every page and API GET operation that takes no path argument."""
    pages = [(name, reverse(name)) for name, pattern in sorted(page_routes().items())
             if not ARGUMENT.search(pattern) and name not in ENDS_THE_SESSION]
    api = [(route.key, route.template) for route in api_operations()
           if route.method == "GET" and not ARGUMENT.search(route.template)]
    return pages + api


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)
    return {u.role: u for u in User.objects.filter(email__endswith="@demo.example").order_by("id")}


@pytest.mark.parametrize("role", ["admin", "sales_manager", "sales_rep", "read_only"])
def test_every_route_answers_each_role_without_server_error(client, demo, role):
    client.force_login(demo[role])
    client.raise_request_exception = False  # collect every failing route, not the first one

    failures = [f"{name} {path} -> {response.status_code}" for name, path in no_argument_paths()
                if (response := client.get(path)).status_code >= 500]

    assert failures == []


def test_the_walk_covers_pages_and_api_lists():
    walked = dict(no_argument_paths())

    assert {"home", "leads:list", "opportunities:board", "admin:index", "v1_leads_list", "metrics"} <= set(walked)
