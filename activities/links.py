"""What activities can be linked to, and the one rule of who may see, change and delete an activity.

Activities import only the kernel. The apps that own leads, opportunities,
accounts and contacts register their models in their `AppConfig.ready()`:

    register_link("opportunity", Opportunity, parents=("account",))

`parents` names the link kinds a record sits under, each reached through the
record's foreign key of that name: a call on a deal also carries the deal's
account, so the account's timeline shows it. Every kind of KINDS must be
registered: using one that is not raises ImproperlyConfigured, and the system
check of activities.checks reports it at start-up.

The access rule is `access_cond`, written once in the activity store's
condition language: both stores (SQL and MongoDB) run it, and
`Activity.objects.restrict(user, action)` is its translation to a Q
(`access_q`, registered with the kernel as the Activity rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model, Q
from django.http import Http404

from activities.store import cond_q
from salesapp.access import ACTIONS, DELETE, VIEW, can_write, user_reach
from salesapp.roles import Role

KINDS = ("lead", "opportunity", "account", "contact")
# Most specific first: the first link an activity has decides who sees it.
PRECEDENCE = ("opportunity", "lead", "contact", "account")
NOTHING = ("in", "id", [])


@dataclass(frozen=True)
class Link:
    """A record kind activities link to: its model, and the kinds it sits under (through foreign keys)."""

    kind: str
    model: type[Model]
    parents: tuple[str, ...] = ()


_links: dict[str, Link] = {}


def register_link(kind: str, model: type[Model], *, parents: tuple[str, ...] = ()) -> None:
    """Let activities link to records of `model` under `kind`; `parents` are the kinds it sits under."""
    if kind not in KINDS:
        raise ImproperlyConfigured(f"unknown activity link kind {kind!r}; use one of {', '.join(KINDS)}")
    for parent in parents:
        if parent not in KINDS:
            raise ImproperlyConfigured(f"unknown parent kind {parent!r} of {kind} links")
        model._meta.get_field(parent)  # FieldDoesNotExist at start-up when the model has no such foreign key
    _links[kind] = Link(kind, model, tuple(parents))


def link_for(kind: str) -> Link:
    """The registration of `kind` (ImproperlyConfigured when its app did not register it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown activity link kind {kind!r}")
    try:
        return _links[kind]
    except KeyError:
        raise ImproperlyConfigured(f"no app registered activity links to {kind} records; call register_link()") from None


def missing_kinds() -> list[str]:
    """The kinds of KINDS no app registered (each one a start-up error)."""
    return [k for k in KINDS if k not in _links]


def _visible_records(kind: str, user):
    return link_for(kind).model.objects.restrict(user, VIEW)


def record_get(*, user, kind: str, record_id) -> Model:
    """The `kind` record if the user may see it; 404 otherwise."""
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        raise Http404(f"No such {kind}") from None
    obj = _visible_records(kind, user).filter(pk=record_id).first()
    if obj is None:
        raise Http404(f"No such {kind}")
    return obj


def fill_links(*, user, given: dict, memo: dict | None = None) -> dict:
    """Check the link ids the user gave and fill in their parents' ids.

    Refuses, naming the field, a link to a record that does not exist or that
    the user may not see. Answers a dict with the `<kind>_id` key of every kind.
    `memo` (a dict the caller keeps for one user, e.g. across an import's rows) remembers the records looked up.
    """
    memo = {} if memo is None else memo
    out = {f"{k}_id": given.get(f"{k}_id") for k in KINDS}
    errors = {}
    for kind in PRECEDENCE:
        field = f"{kind}_id"
        if given.get(field) is None:
            continue
        try:
            value = int(given[field])
        except (TypeError, ValueError):
            errors[field] = [f"Enter the id of a {kind}."]
            continue
        out[field] = value
        if (kind, value) not in memo:
            parents = [f"{p}_id" for p in link_for(kind).parents]
            memo[(kind, value)] = _visible_records(kind, user).filter(pk=value).values(*parents, "pk").first()
        obj = memo[(kind, value)]
        if obj is None:
            errors[field] = [f"No {kind} with id {value}, or you may not see it."]
            continue
        for parent in link_for(kind).parents:
            if out[f"{parent}_id"] is None:
                out[f"{parent}_id"] = obj[f"{parent}_id"]
    if errors:
        raise ValidationError(errors)
    return out


def remember_links(*, user, ids: dict[str, set[int]], memo: dict) -> None:
    """Look up, one query per kind, the linked records `fill_links` will check (a batch of an import), into
    the `memo` it reads: what `user` may see, with the parents' ids."""
    for kind, wanted in ids.items():
        todo = {pk for pk in wanted if (kind, pk) not in memo}
        if not todo:
            continue
        parents = [f"{p}_id" for p in link_for(kind).parents]
        found = {row["pk"]: row for row in _visible_records(kind, user).filter(pk__in=todo).values(*parents, "pk")}
        memo.update({(kind, pk): found.get(pk) for pk in todo})


def primary_link(doc: dict) -> tuple[str, int] | None:
    """The link that decides who sees the activity (the record it is about)."""
    for kind in PRECEDENCE:
        if doc.get(f"{kind}_id") is not None:
            return kind, doc[f"{kind}_id"]
    return None


def _mine(user) -> tuple:
    """Owned by the user or someone in their reporting subtree, or written by the user."""
    return ("or", [("in", "user_id", list(user_reach(user).owners)), ("eq", "created_by_id", user.pk)])


def access_cond(user, action: str = VIEW) -> tuple:
    """The activities `user` may do `action` on, as a store condition: the one copy of the activity rule.

    - See and change: the most specific record the activity is linked to decides, in the order
      opportunity, lead, contact, account: the activity is visible when that record is (its model's
      `restrict(user, "view")`, implicit parent access included), so a rep who cannot see a deal
      cannot see its activities even when they see its account. An activity linked to nothing is
      visible to its owner, the owner's managers and its author.
    - Delete: of those, the ones the user wrote, owns, or that someone in their subtree owns.
    - Admins may do everything; read-only users only see; signed-out and inactive users nothing.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    if not (user and user.is_authenticated and user.is_active):
        return NOTHING
    if action != VIEW and not can_write(user):
        return NOTHING
    if user.role == Role.ADMIN:
        return ("all",)
    mine = _mine(user)
    branches, earlier_empty = [], []
    for kind in PRECEDENCE:
        field = f"{kind}_id"
        visible = ("in", field, _visible_records(kind, user).values("pk"))
        branches.append(("and", [*earlier_empty, ("null", field, False), visible]))
        earlier_empty.append(("null", field, True))
    branches.append(("and", [*earlier_empty, mine]))
    seen = ("or", branches)
    return ("and", [seen, mine]) if action == DELETE else seen


def access_q(user, action: str) -> Q:
    """`access_cond` as a Q: the RecordRule of Activity, so `Activity.objects.restrict()` means the same."""
    return cond_q(access_cond(user, action))


def child_ids(*, user, kind: str, parent_kind: str, parent_id: int) -> list[int]:
    """Ids of the `kind` records under a `parent_kind` record that the user may see (an account's deals).

    A kind that does not sit under `parent_kind` (see `register_link(parents=...)`) has none.
    """
    if parent_kind not in link_for(kind).parents:
        return []
    return list(_visible_records(kind, user).filter(**{f"{parent_kind}_id": parent_id}).values_list("pk", flat=True))


def record_names(*, user, refs) -> dict[tuple[str, int], str]:
    """The names of linked records, {(kind, id): name}, for those the user may see; one query per kind.

    Timelines and task lists name records ("Acme Corp", not "account #5"); a record the user may not see
    stays unnamed there.
    """
    wanted: dict[str, set[int]] = {}
    for kind, pk in refs:
        wanted.setdefault(kind, set()).add(int(pk))
    names = {}
    for kind, ids in wanted.items():
        for obj in _visible_records(kind, user).filter(pk__in=ids):
            names[(kind, obj.pk)] = str(obj)
    return names
