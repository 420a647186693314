"""What activities can be linked to, and who may see an activity.

Activities import only the kernel. The apps that own leads, opportunities,
accounts and contacts tell this registry about their models in their
`AppConfig.ready()`:

    register_link("opportunity", Opportunity, parents=lambda o: {"account_id": o.account_id})

`parents(obj)` answers extra link ids to fill in (an opportunity's account, so
the account's timeline includes the deal's activities).

The access rule: an activity is visible to whoever can see the most specific
record it is linked to, in the order opportunity, lead, contact, account (so a
rep who cannot see a deal cannot see its activities, even when they can see
its account). An activity linked to nothing, or to a kind no app registered,
is visible to its owner (`user_id`), its author and the owner's managers.
Admins see all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model
from django.http import Http404

from salesapp.access import rule_for
from salesapp.hierarchy import user_subtree_ids
from salesapp.roles import Role

KINDS = ("lead", "opportunity", "account", "contact")
# Most specific first: the first link an activity has decides who sees it.
PRECEDENCE = ("opportunity", "lead", "contact", "account")
LABELS = {"lead": "lead", "opportunity": "opportunity", "account": "account", "contact": "contact"}


@dataclass(frozen=True)
class Link:
    kind: str
    model: type[Model]
    parents: Callable[[Model], dict] | None = None

    @property
    def field(self) -> str:
        return f"{self.kind}_id"


_links: dict[str, Link] = {}


def register_link(kind: str, model: type[Model], *, parents: Callable[[Model], dict] | None = None) -> None:
    """Let activities link to records of `model` under `kind` (lead, opportunity, account, contact)."""
    if kind not in KINDS:
        raise ImproperlyConfigured(f"unknown activity link kind {kind!r}; use one of {', '.join(KINDS)}")
    _links[kind] = Link(kind, model, parents)


def unregister_link(kind: str) -> None:
    """Forget a link (tests)."""
    _links.pop(kind, None)


def link_for(kind: str) -> Link | None:
    return _links.get(kind)


def registered_kinds() -> list[str]:
    return [k for k in KINDS if k in _links]


def _has_rule(model) -> bool:
    try:
        rule_for(model)
    except ImproperlyConfigured:
        return False
    return True


def visible_records(kind: str, user):
    """A queryset of the `kind` records the user may see (None: kind not registered)."""
    link = _links.get(kind)
    if link is None:
        return None
    qs = link.model._default_manager.all()
    if user.is_authenticated and user.role == Role.ADMIN:
        return qs
    if not _has_rule(link.model):
        return qs.none()  # an app that registered no access rule shows its records to admins only
    return qs.restrict(user)


def record_get(kind: str, record_id, user):
    """The record if the user may see it; 404 otherwise (also for unknown kinds)."""
    qs = visible_records(kind, user)
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        raise Http404("No such record")
    if qs is None:
        raise Http404(f"Activities cannot link to {kind} records yet")
    obj = qs.filter(pk=record_id).first()
    if obj is None:
        raise Http404(f"No such {kind}")
    return obj


def fill_links(user, links: dict) -> dict:
    """Validate the link ids the user gave and fill in their parents' ids.

    Refuses a link to a record that does not exist or the user may not see,
    naming the field. Answers a dict with every *_id key of KINDS.
    """
    out = {f"{k}_id": links.get(f"{k}_id") for k in KINDS}
    errors = {}
    explicit = {k for k in KINDS if out[f"{k}_id"] is not None}
    for kind in PRECEDENCE:
        field = f"{kind}_id"
        value = out[field]
        if value is None or kind not in explicit:
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            errors[field] = [f"Enter the id of a {LABELS[kind]}."]
            continue
        out[field] = value
        qs = visible_records(kind, user)
        if qs is None:
            continue  # nobody registered this kind yet: kept as a plain reference
        obj = qs.filter(pk=value).first()
        if obj is None:
            errors[field] = [f"No {LABELS[kind]} with id {value}, or you may not see it."]
            continue
        parents = _links[kind].parents
        for key, parent_id in ((parents(obj) or {}) if parents else {}).items():
            if key in out and out[key] is None and parent_id is not None:
                out[key] = parent_id
    if errors:
        raise ValidationError(errors)
    return out


def primary_link(doc: dict) -> tuple[str, int] | None:
    """The link that decides who sees the activity."""
    for kind in PRECEDENCE:
        if doc.get(f"{kind}_id") is not None:
            return kind, doc[f"{kind}_id"]
    return None


def _owner_cond(user, subtree: list[int]) -> tuple:
    return ("or", [("in", "user_id", subtree), ("eq", "created_by_id", user.pk)])


def visibility_cond(user) -> tuple:
    """The store condition selecting the activities the user may see."""
    if not (user and user.is_authenticated and user.is_active):
        return ("in", "id", [])
    if user.role == Role.ADMIN:
        return ("all",)
    owner = _owner_cond(user, user_subtree_ids(user.pk))
    branches, earlier_empty = [], []
    for kind in PRECEDENCE:
        field = f"{kind}_id"
        records = visible_records(kind, user)
        decide = owner if records is None else ("in", field, records.values("pk"))
        branches.append(("and", [*earlier_empty, ("null", field, False), decide]))
        earlier_empty.append(("null", field, True))
    branches.append(("and", [*earlier_empty, owner]))
    return ("or", branches)


def visible_docs(docs: list[dict], user) -> list[dict]:
    """Keep the activities the user may see (a few queries per page, not per row)."""
    if not (user and user.is_authenticated and user.is_active):
        return []
    if user.role == Role.ADMIN:
        return list(docs)
    wanted: dict[str, set] = {}
    for doc in docs:
        link = primary_link(doc)
        if link:
            wanted.setdefault(link[0], set()).add(link[1])
    seen: dict[str, set | None] = {}
    for kind, ids in wanted.items():
        records = visible_records(kind, user)
        seen[kind] = None if records is None else set(records.filter(pk__in=ids).values_list("pk", flat=True))
    subtree = None
    out = []
    for doc in docs:
        link = primary_link(doc)
        if link and seen.get(link[0]) is not None:
            if link[1] in seen[link[0]]:
                out.append(doc)
            continue
        if doc.get("created_by_id") == user.pk:
            out.append(doc)
            continue
        if subtree is None:
            subtree = set(user_subtree_ids(user.pk))
        if doc.get("user_id") in subtree:
            out.append(doc)
    return out


def can_see(doc: dict, user) -> bool:
    return bool(visible_docs([doc], user))


def child_ids(kind: str, parent_kind: str, parent_id: int, user) -> list[int]:
    """Ids of visible `kind` records under a parent (an account's opportunities), if the model has that field."""
    records = visible_records(kind, user)
    if records is None:
        return []
    field = parent_kind
    try:
        records.model._meta.get_field(field)
    except Exception:
        return []
    return list(records.filter(**{f"{field}_id": parent_id}).values_list("pk", flat=True)[:1000])
