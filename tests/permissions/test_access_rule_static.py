"""Code that serves users reads domain records only through the access rule (a static check).

Views, API views, selectors, dashboards, panels, timelines, exports and search
read a domain model (one with a registered access rule) only as
`Model.objects.restrict(user, action)`; system reads (services, consumers,
tasks) live elsewhere. And the rule's internals (`restrict_queryset`,
`visible_q`) are called by the kernel's queryset alone: everyone else goes
through `.restrict()`.

The modules are parsed, not imported, so the check sees every line, taken or not.
"""

import ast
from pathlib import Path

from salesapp.access import registered_models

ROOT = Path(__file__).resolve().parents[2]
APPS = ("salesapp", "leads", "opportunities", "territories", "quotas", "intelligence", "activities")

# The modules that answer users: pages, API views, reads, dashboards and panels, timelines, exports, search.
USER_FACING = (
    "views.py", "*_views.py", "api/views.py", "api/imports.py", "selectors.py", "home.py", "panels.py",
    "timeline.py", "exports.py", "search.py", "analytics.py",
)
MANAGERS = {"objects", "_default_manager", "_base_manager"}
# `.none()` reads nothing (DRF's class-level `queryset` placeholder).
HARMLESS = {"restrict", "none"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}
RULE_INTERNALS = {"restrict_queryset", "visible_q"}
RULE_HOMES = {ROOT / "salesapp" / "access.py", ROOT / "salesapp" / "querysets.py"}


def user_facing_modules() -> list[Path]:
    found = set()
    for app in APPS:
        for pattern in USER_FACING:
            found.update((ROOT / app).glob(pattern))
    return sorted(found)


def app_modules() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _domain_model_names(tree: ast.Module, package: str) -> set[str]:
    """Local names that a module binds to a registered domain model (`from leads.models import Lead as L`)."""
    domain = {(model.__module__, model.__name__) for model in registered_models()}
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names |= {alias.asname or alias.name for alias in node.names if (module, alias.name) in domain}
    return names


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def unrestricted_reads(path: Path, *, root: Path = ROOT) -> list[str]:
    """`file:line what` for each read of a domain model that does not start with `.restrict(...)`.

    Reads: `Model.objects` (or `_default_manager`, `_base_manager`) not followed at once by
    `.restrict(...)`, and `get_object_or_404(Model, ...)` / `get_list_or_404(Model, ...)`.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    models = _domain_model_names(tree, ".".join(path.relative_to(root).parent.parts))
    parent_of = _parents(tree)
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SHORTCUTS
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in models):
            found.append((node.lineno, f"{node.func.id}({node.args[0].id}, ...)"))
        if not (isinstance(node, ast.Attribute) and node.attr in MANAGERS
                and isinstance(node.value, ast.Name) and node.value.id in models):
            continue
        parent = parent_of.get(node)
        then = parent.attr if isinstance(parent, ast.Attribute) and parent.value is node else None
        if then in HARMLESS and isinstance(parent_of.get(parent), ast.Call):
            continue
        found.append((node.lineno, f"{node.value.id}.{node.attr}.{then or ''}"))
    return [f"{path.relative_to(root)}:{line} {what}" for line, what in sorted(found)]


def rule_internal_uses(path: Path) -> list[str]:
    """`file:line name` for each use of the rule's internals."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names if a.name in RULE_INTERNALS]
        elif isinstance(node, ast.Attribute):
            names = [node.attr] if node.attr in RULE_INTERNALS else []
        elif isinstance(node, ast.Name):
            names = [node.id] if node.id in RULE_INTERNALS else []
        else:
            names = []
        found += [f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names]
    return found


def test_the_check_walks_the_modules_that_serve_users():
    walked = {str(p.relative_to(ROOT)) for p in user_facing_modules()}

    assert {"leads/views.py", "leads/api/views.py", "opportunities/selectors.py", "activities/timeline.py",
            "quotas/panels.py", "salesapp/home.py", "salesapp/exports.py", "salesapp/search.py"} <= walked


def test_the_check_flags_a_read_without_the_rule(tmp_path):
    """Given API views reading leads with and without restrict(), when the check reads them, it names the lines."""
    view = tmp_path / "leads" / "api" / "views.py"
    view.parent.mkdir(parents=True)
    view.write_text(
        "from leads.models import Lead as L\n"
        "from ..models import Lead\n"
        "def ok(request):\n    return L.objects.restrict(request.user, 'view').filter(status='new')\n"
        "def leak(request):\n    return L.objects.filter(status='new').restrict(request.user, 'view')\n"
        "def placeholder():\n    return L.objects.none()\n"
        "def detail(request, pk):\n    return get_object_or_404(Lead, pk=pk)\n"
    )

    assert unrestricted_reads(view, root=tmp_path) == [
        "leads/api/views.py:6 L.objects.filter", "leads/api/views.py:10 get_object_or_404(Lead, ...)"]


def test_views_and_selectors_read_domain_models_only_through_restrict():
    offenders = [hit for path in user_facing_modules() for hit in unrestricted_reads(path)]

    assert offenders == [], (
        "domain model read without .objects.restrict(user, action) (a system read, with no user, belongs in a "
        "module that does not serve users: services, engine, tasks):\n" + "\n".join(offenders))


def test_only_the_kernel_queryset_calls_the_rule_internals():
    offenders = [hit for path in app_modules() if path not in RULE_HOMES for hit in rule_internal_uses(path)]

    assert offenders == [], "use Model.objects.restrict(user, action) instead of:\n" + "\n".join(offenders)
