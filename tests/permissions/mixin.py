"""The permission test mixin: every API operation and every page, walked as each identity.

As NetBox's `utilities/testing` view test cases do, a test class mixes in
`PermissionMatrixMixin` and gets one check per (route, identity): the request is
sent as that identity and the answer's status class is compared with the cell of
the expected table.

The routes come from the code, not from a list kept by hand: API operations from
the OpenAPI schema (drf-spectacular), pages from the URLconf. Every route must
have a row in the expected table, so a new route without one fails
(`test_every_route_has_an_entry`); nothing is skipped.

Cells (one letter per identity):
    O  allowed: 2xx, or a 3xx that is not "sign in first"
    W  a write the identity may make: answered without 5xx, 401, 403, 404 or 405
       (400 for an incomplete body is fine)
    L  sign in first: 401 on the API, a redirect to the sign-in page on pages
    D  refused by role: 403
    H  the record is out of this identity's sight: 404
"""

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache

import jwt
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework_simplejwt.tokens import AccessToken

# The identities, in the order of the table's columns.
IDENTITIES = ("anonymous", "admin", "manager", "rep", "other_rep", "read_only", "bad_token")
CODES = set("OWLDHT")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Route:
    """One thing to call: an API operation (keyed by operationId) or a page (keyed by route name)."""

    key: str
    method: str
    template: str  # the path with {placeholders}
    api: bool


# --- discovery --------------------------------------------------------------------------------------------

@cache
def api_operations() -> tuple[Route, ...]:
    """Every operation of the OpenAPI schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return tuple(
        Route(op["operationId"], method.upper(), path, api=True)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    )


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (f"{namespace}{p.name}" if p.name else None), p


API_PREFIX = "api/v1/"
# The admin site's unnamed catch-all redirects (`<path:object_id>/` -> change view, unknown URL -> index)
# lead to named admin routes, which are walked themselves.
_ADMIN_REDIRECTS = re.compile(r"^admin/(.*<path:object_id>/|\(\?P<url>\.\*\)\$)$")


@cache
def page_routes() -> dict[str, str]:
    """Route name -> route pattern of every page: the URLconf outside the API's operations.

    The API's operations are the schema's (above); the router's browsable root is a page.
    """
    routes = {}
    for pattern, name, _ in _walk(get_resolver().url_patterns):
        if pattern.startswith(API_PREFIX) and name != "api-root":
            continue
        if name is None:
            assert _ADMIN_REDIRECTS.match(pattern), f"the URL pattern {pattern!r} has no name: name it"
            continue
        routes.setdefault(name, pattern)
    return routes


# --- identities -------------------------------------------------------------------------------------------

def access_token(user) -> str:
    return str(AccessToken.for_user(user))


def bad_tokens(world) -> dict[str, str]:
    """A forged token (the admin's claims signed with another key) and an expired one of the admin."""
    genuine = AccessToken.for_user(world.admin)
    forged = jwt.encode(dict(genuine.payload), "not-" + settings.SECRET_KEY, algorithm="HS256")
    expired = AccessToken.for_user(world.admin)
    expired.set_exp(from_time=expired.current_time - dt.timedelta(hours=9), lifetime=dt.timedelta(hours=1))
    return {"forged": forged, "expired": str(expired)}


# Identities that stand for more than one caller: each of them must get the cell's answer.
CALLERS = {
    "other_rep": ("other_rep", "teammate"),  # a rep who does not own the records: of another team, or of the same
    "bad_token": ("forged", "expired"),
}


# --- the checks -------------------------------------------------------------------------------------------

def _is_login_redirect(response, *, admin_site_page: bool = False) -> bool:
    login = reverse("admin:login") if admin_site_page else resolve_url(settings.LOGIN_URL)
    return response.status_code == 302 and response["Location"].split("?")[0] == login


def outcome_matches(code: str, response, *, api: bool, admin_site_page: bool = False) -> bool:
    """Whether `response` is what the cell `code` expects."""
    status = response.status_code
    login = status == 401 if api else _is_login_redirect(response, admin_site_page=admin_site_page)
    if code == "O":
        return 200 <= status < 400 and not login
    if code == "W":
        return status < 500 and status not in (401, 403, 404, 405) and not login
    if code == "L":
        return login
    if code == "D":
        return status == 403
    if code == "H":
        return status == 404
    if code == "T":
        return status == 401 and not api
    raise ValueError(f"unknown cell {code!r}")


class PermissionMatrixMixin:
    """Send one request as one identity and compare the status class with the expected cell."""

    def request_as(self, client, world, identity: str, *, method: str, path: str, api: bool, body=None):
        """(caller, response) for each caller `identity` stands for (see CALLERS)."""
        answers = []
        for caller in CALLERS.get(identity, (identity,)):
            headers = {}
            if identity == "bad_token":
                headers["HTTP_AUTHORIZATION"] = f"Bearer {bad_tokens(world)[caller]}"
            elif identity != "anonymous" and api:
                headers["HTTP_AUTHORIZATION"] = f"Bearer {access_token(getattr(world, caller))}"
            elif identity != "anonymous":
                client.force_login(getattr(world, caller))
            answers.append((caller, self._send(client, method, path, body, api, **headers)))
        return answers

    @staticmethod
    def _send(client, method, path, body, api, **headers):
        """API writes carry JSON; page writes a form (empty unless a body is given)."""
        if method in WRITE_METHODS and api:
            return client.generic(method, path, data=json.dumps(body or {}), content_type="application/json",
                                  **headers)
        if method == "POST":
            return client.post(path, data=body or {}, **headers)
        return client.generic(method, path, **headers)

    def assert_cell(self, client, world, identity: str, *, route: Route, path: str, code: str, body=None,
                    admin_site_page: bool = False):
        assert code in CODES, f"{route.key}: unknown cell {code!r}"
        for caller, response in self.request_as(client, world, identity, method=route.method, path=path,
                                                api=route.api, body=body):
            where = response.get("Location", "")
            assert outcome_matches(code, response, api=route.api, admin_site_page=admin_site_page), (
                f"{route.key} ({route.method} {path}) as {caller}: expected {code} ({_MEANING[code]}), "
                f"got {response.status_code} {where}".rstrip()
            )


_MEANING = {"O": "allowed", "W": "write accepted", "L": "sign in first", "D": "403", "H": "404",
            "T": "401: the metrics token only"}


# --- paths ------------------------------------------------------------------------------------------------

def api_path(route: Route, values: dict) -> str:
    """The operation's path with its placeholders filled from `values` (a missing one fails: add it)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), route.template)


def page_path(name: str, kwargs: dict) -> str:
    return reverse(name, kwargs=kwargs)
