"""In a real browser: every page of the app, as each role sees it, passes axe-core (WCAG 2.2 A and AA)
with no serious or critical violation.

The pages are every GET page of the URLconf (the permission matrix's list, with its world's records
for the path arguments) that answers the role with a whole HTML page; htmx fragments are checked
inside the pages that load them. axe-core is vendored from npm in tests/e2e/vendor/.
"""

from pathlib import Path

import pytest
from django.test import Client

from territories.models import TerritoryModel
from tests.e2e.session import sign_in
from tests.permissions.mixin import page_path, page_routes
from tests.permissions.test_matrix import PAGES, page_kwargs, query
from tests.permissions.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _migrated_rows():
    """The matrix's world needs the rows the migrations add. A transactional test before this one emptied the
    tables: roles and stages come back by themselves (post_migrate), the active territory model does not.
    (Not serialized_rollback: it would insert the roles again under their old ids, beside the recreated ones.)"""
    TerritoryModel.objects.get_or_create(state="active", defaults={"name": "Current plan"})

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
ROLES = {"admin": "admin", "sales_manager": "manager", "sales_rep": "rep", "read_only": "read_only"}
# Pages of Django's own admin are checked at its index (the rest is Django's, not ours).
SKIPPED = ("admin:",)


def whole_pages(client: Client, world) -> list[str]:
    """Paths of the GET pages that answer this client with a whole HTML page (not a redirect or fragment)."""
    kwargs, queries = page_kwargs(world), query(world)
    paths = []
    for name, (method, _) in sorted(PAGES.items()):
        if method != "GET" or name.startswith(SKIPPED) or name not in page_routes():
            continue
        path = page_path(name, kwargs.get(name, {})) + queries.get(name, "")
        response = client.get(path)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html") \
                and b"<main" in response.content:
            paths.append(path)
    return [*paths, "/admin/"]


def settled(page) -> None:
    """Wait until the page's htmx panels (loaded on load, and the panels they bring) have all arrived."""
    for _ in range(3):
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        page.wait_for_timeout(50)


def violations(page) -> list[str]:
    """axe's serious and critical violations on the page now shown, one line each."""
    page.evaluate(AXE)  # through the DevTools protocol: the app's CSP allows no injected script
    result = page.evaluate("config => axe.run(document, config)", {"runOnly": {"type": "tag", "values": WCAG}})
    return [f"{v['impact']} {v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
            for v in result["violations"] if v["impact"] in BLOCKING]


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_passes_axe_for_each_role(live_server, browser_page, role):
    # Given the matrix's world, and a user of this role signed in
    world = build_world()
    user = getattr(world, ROLES[role])
    client = Client()
    client.force_login(user)
    paths = whole_pages(client, world)
    if not user.is_staff:
        paths.remove("/admin/")
    page = browser_page
    sign_in(page, live_server, user)
    # When each page is opened and its htmx panels have loaded
    found = {}
    for path in paths:
        page.goto(live_server.url + path)
        settled(page)
        if problems := violations(page):
            found[path] = problems
    # Then none has a serious or critical violation
    assert len(paths) > 10
    assert found == {}, "\n".join(f"{path}\n  " + "\n  ".join(p) for path, p in found.items())
