"""Territory writes: models (versions), territories and their rules, members, grants.

Every write takes the acting user, validates first, runs in one transaction and
publishes what happened to a territory: `territory.created`, `territory.updated`
(naming the changed `fields`; `members` and `grants` for its people) or
`territory.deleted`. The compiled assignment index is dropped at once and again
after commit, so no process keeps matching against the old rules.

A territory's owner is a record owner: the acting user picks one under the
kernel's assignment policy, as they pick a member (members receive the
territory's routed leads). The parent is a territory pick: only among those the
actor can see. Grants give access without records and are not assignments.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from salesapp.assignment import assignee_check, territory_check
from salesapp.changes import apply_changes
from salesapp.events import publish
from salesapp.locks import rows_lock
from territories.engine import RULE_FIELDS, parse_zip_entry
from territories.matching import assignment_index_invalidate
from territories.models import Territory, TerritoryGroupGrant, TerritoryMember, TerritoryModel, TerritoryUserGrant
from territories.selectors import ACCESS_PERM

EDITABLE_FIELDS = ("name", "type", "owner", "parent", "priority", "is_active", "routing_policy", *RULE_FIELDS)


def _index_changed() -> None:
    """Matching must see the change: drop the index now and once more after commit (other processes)."""
    assignment_index_invalidate()
    transaction.on_commit(assignment_index_invalidate)


def _published(name: str, *, actor, territory_id: int, model_id: int, **extra) -> None:
    publish(name, {"territory_id": territory_id, "model_id": model_id, **extra}, actor=actor)
    _index_changed()


def check_picks(*, actor, clean: dict, instance: Territory | None = None) -> None:
    """Refuse an owner or a parent the actor may not pick (only when it changes; actor None: system work)."""
    if actor is None:
        return
    owner = clean.get("owner")
    if "owner" in clean and (instance is None or (owner.pk if owner else None) != instance.owner_id):
        assignee_check(actor=actor, assignee=owner, field="owner")
    parent = clean.get("parent")
    if "parent" in clean and (instance is None or (parent.pk if parent else None) != instance.parent_id):
        territory_check(actor=actor, territory=parent, field="parent")


def _clean_list(value, field: str, *, upper: bool = True) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in value.replace("\n", ",").split(",")]
    if not isinstance(value, (list, tuple)):
        raise ValidationError({field: ["Give a list of values."]})
    out = []
    for v in value:
        text = str(v).strip()
        if text:
            text = text.upper() if upper else text
            if text not in out:
                out.append(text)
    return out


def _saved(instance: Territory | None, name: str):
    """The saved value of a field, or None for a territory not created yet."""
    return getattr(instance, name) if instance is not None else None


def territory_validate(data: dict, *, instance: Territory | None = None) -> dict:
    """Normalise and check territory fields; raises ValidationError naming the field."""
    errors: dict[str, list[str]] = {}
    clean = dict(data)
    if "name" in clean:
        clean["name"] = (clean["name"] or "").strip()
        if not clean["name"]:
            errors["name"] = ["A territory needs a name."]
    for f in ("countries", "states"):
        if f in clean:
            try:
                clean[f] = _clean_list(clean[f], f)
            except ValidationError as e:
                errors.update(e.message_dict)
    if "countries" in clean:
        bad = [c for c in clean["countries"] if len(c) != 2 or not c.isalpha()]
        if bad:
            errors["countries"] = [f"Use two-letter country codes (not {', '.join(bad)})."]
    if "zip_codes" in clean:
        try:
            clean["zip_codes"] = _clean_list(clean["zip_codes"], "zip_codes")
            for z in clean["zip_codes"]:
                parse_zip_entry(z)
        except ValidationError as e:
            errors.update(e.message_dict)
        except ValueError as e:
            errors["zip_codes"] = [f"Not a postal code rule: {e}."]
    if "industry" in clean:
        clean["industry"] = " ".join((clean["industry"] or "").split())
    for lo_f, hi_f in (("min_employee_count", "max_employee_count"), ("min_annual_revenue", "max_annual_revenue")):
        lo = clean.get(lo_f, _saved(instance, lo_f))
        hi = clean.get(hi_f, _saved(instance, hi_f))
        for f, v in ((lo_f, lo), (hi_f, hi)):
            if v is not None and Decimal(str(v)) < 0:
                errors[f] = ["Must not be negative."]
        if lo is not None and hi is not None and Decimal(str(lo)) > Decimal(str(hi)):
            errors[hi_f] = ["The upper bound is below the lower bound."]
    if "type" in clean and clean["type"] not in Territory.Type.values:
        errors["type"] = [f"Choose one of {', '.join(Territory.Type.values)}."]
    model = clean.get("model") or _saved(instance, "model")
    parent = clean.get("parent", _saved(instance, "parent"))
    if parent is not None and model is not None and parent.model_id != model.pk:
        errors["parent"] = ["The parent belongs to another territory model."]
    if parent is not None and instance is not None and instance.pk:
        node, seen = parent, set()
        while node is not None and node.pk not in seen:
            if node.pk == instance.pk:
                errors["parent"] = ["That parent lies inside this territory: the hierarchy would loop."]
                break
            seen.add(node.pk)
            node = node.parent
    if errors:
        raise ValidationError(errors)
    return clean


def territory_model_default() -> TerritoryModel:
    """The active model; created on first use if a database has none."""
    model = TerritoryModel.objects.filter(state=TerritoryModel.State.ACTIVE).first()
    if model is None:
        model = TerritoryModel.objects.create(
            name="Current plan", state=TerritoryModel.State.ACTIVE, activated_at=timezone.now()
        )
    return model


@transaction.atomic
def territory_model_create(*, actor, name: str) -> TerritoryModel:
    """A new, empty planning model."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["A territory model needs a name."]})
    return TerritoryModel.objects.create(name=name, state=TerritoryModel.State.PLANNING)


@transaction.atomic
def territory_model_update(*, actor, model: TerritoryModel, name: str) -> TerritoryModel:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["A territory model needs a name."]})
    model.name = name
    model.save(update_fields=["name", "updated_at"])
    return model


@transaction.atomic
def territory_model_delete(*, actor, model: TerritoryModel) -> None:
    """Only a planning or archived model may go; the active one carries the records. Its territories go too."""
    if model.state == TerritoryModel.State.ACTIVE:
        raise ValidationError({"state": ["The active territory model cannot be deleted."]})
    territory_ids = list(model.territories.order_by("pk").values_list("pk", flat=True))
    model_id = model.pk
    model.delete()
    for tid in territory_ids:
        _published("territory.deleted", actor=actor, territory_id=tid, model_id=model_id)


@transaction.atomic
def territory_model_clone(*, actor, source: TerritoryModel, name: str) -> TerritoryModel:
    """Copy a model (hierarchy, rules, members and grants) into a new planning model to re-plan.

    A copy of picks already made: owners and members are not judged again.
    """
    target = territory_model_create(actor=actor, name=name)
    mapping: dict[int, Territory] = {}
    pending = list(source.territories.order_by("id"))
    # Parents before children, whatever the ids.
    while pending:
        progressed = False
        for t in list(pending):
            if t.parent_id is None or t.parent_id in mapping:
                copy = Territory.objects.create(
                    model=target, parent=mapping.get(t.parent_id), name=t.name, type=t.type, owner=t.owner,
                    priority=t.priority, is_active=t.is_active, routing_policy=t.routing_policy,
                    **{f: getattr(t, f) for f in RULE_FIELDS},
                )
                mapping[t.pk] = copy
                pending.remove(t)
                progressed = True
        if not progressed:  # a broken hierarchy: copy the rest as roots
            for t in pending:
                t.parent_id = None
    for m in TerritoryMember.objects.filter(territory__model=source):
        TerritoryMember.objects.create(territory=mapping[m.territory_id], user=m.user, daily_capacity=m.daily_capacity)
    for g in TerritoryUserGrant.objects.filter(content_object__model=source):
        TerritoryUserGrant.objects.get_or_create(content_object=mapping[g.content_object_id], user=g.user,
                                                 permission=g.permission)
    for g in TerritoryGroupGrant.objects.filter(content_object__model=source):
        TerritoryGroupGrant.objects.get_or_create(content_object=mapping[g.content_object_id], group=g.group,
                                                  permission=g.permission)
    for t in mapping.values():
        _published("territory.created", actor=actor, territory_id=t.pk, model_id=target.pk)
    return target


@transaction.atomic
def territory_model_activate_now(*, actor, model: TerritoryModel) -> TerritoryModel:
    """Make `model` the active one and archive the previous (records move in the realignment job).

    No territory changes, so no territory event: the state changes are audited and
    every moved record publishes `territory.assignment_changed` as the job applies it.
    """
    if model.state == TerritoryModel.State.ACTIVE:
        return model
    for previous in rows_lock(TerritoryModel.objects.filter(state=TerritoryModel.State.ACTIVE)):
        previous.state = TerritoryModel.State.ARCHIVED
        previous.save(update_fields=["state", "updated_at"])
    model.state = TerritoryModel.State.ACTIVE
    model.activated_at = timezone.now()
    model.save(update_fields=["state", "activated_at", "updated_at"])
    _index_changed()
    return model


@transaction.atomic
def territory_create(*, actor, name: str, model: TerritoryModel | None = None, **fields) -> Territory:
    """A territory in `model`, or in the active model when none is given."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["Not a territory field."]})
    model = model or territory_model_default()
    if model.state == TerritoryModel.State.ARCHIVED:
        raise ValidationError({"model": ["An archived territory model cannot change."]})
    clean = territory_validate({"name": name, "model": model, **fields})
    check_picks(actor=actor, clean=clean)
    territory = Territory.objects.create(**clean)
    _published("territory.created", actor=actor, territory_id=territory.pk, model_id=model.pk)
    return territory


@transaction.atomic
def territory_update(*, actor, territory: Territory, **fields) -> Territory:
    """Change a territory's rules, hierarchy, owner, priority or status."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["Not a territory field that can change."]})
    if territory.model.state == TerritoryModel.State.ARCHIVED:
        raise ValidationError({"model": ["An archived territory model cannot change."]})
    clean = territory_validate(fields, instance=territory)
    check_picks(actor=actor, clean=clean, instance=territory)
    changed = apply_changes(territory, clean)
    if changed:
        territory.save()
        _published("territory.updated", actor=actor, territory_id=territory.pk, model_id=territory.model_id,
                   fields=sorted(changed))
    return territory


@transaction.atomic
def territory_delete(*, actor, territory: Territory) -> None:
    """Delete a territory without children; its records lose their territory."""
    if territory.children.exists():
        raise ValidationError({"parent": ["Move or delete this territory's child territories first."]})
    tid, model_id = territory.pk, territory.model_id
    territory.delete()
    _published("territory.deleted", actor=actor, territory_id=tid, model_id=model_id)


@transaction.atomic
def territory_member_add(*, actor, territory: Territory, user, daily_capacity: int | None = None) -> TerritoryMember:
    """Make `user` a member: they hold the territory (guardian grant) and receive its routed leads."""
    assignee_check(actor=actor, assignee=user, field="user")
    if daily_capacity is not None and daily_capacity < 0:
        raise ValidationError({"daily_capacity": ["Must not be negative."]})
    if TerritoryMember.objects.filter(territory=territory, user=user).exists():
        raise ValidationError({"user": ["Already a member of this territory."]})
    member = TerritoryMember.objects.create(territory=territory, user=user, daily_capacity=daily_capacity)
    assign_perm(ACCESS_PERM, user, territory)
    _published("territory.updated", actor=actor, territory_id=territory.pk, model_id=territory.model_id,
               fields=["members"], change="member_added", user_id=user.pk)
    return member


@transaction.atomic
def territory_member_update(*, actor, member: TerritoryMember, daily_capacity: int | None) -> TerritoryMember:
    if daily_capacity is not None and daily_capacity < 0:
        raise ValidationError({"daily_capacity": ["Must not be negative."]})
    if daily_capacity == member.daily_capacity:
        return member
    member.daily_capacity = daily_capacity
    member.save(update_fields=["daily_capacity", "updated_at"])
    _published("territory.updated", actor=actor, territory_id=member.territory_id,
               model_id=member.territory.model_id, fields=["members"], change="member_updated",
               user_id=member.user_id)
    return member


@transaction.atomic
def territory_member_remove(*, actor, member: TerritoryMember) -> None:
    """Remove a member; they stop holding the territory (their user grant goes with them)."""
    territory, user = member.territory, member.user
    member.delete()
    remove_perm(ACCESS_PERM, user, territory)
    _published("territory.updated", actor=actor, territory_id=territory.pk, model_id=territory.model_id,
               fields=["members"], change="member_removed", user_id=user.pk)


def _grantee(user, group):
    if (user is None) == (group is None):
        raise ValidationError({"user": ["Give either a user or a group."]})
    return user or group


@transaction.atomic
def territory_grant_add(*, actor, territory: Territory, user=None, group: Group | None = None) -> None:
    """Give a user or a group access to the territory's records, without routing leads to them."""
    grantee = _grantee(user, group)
    assign_perm(ACCESS_PERM, grantee, territory)
    _published("territory.updated", actor=actor, territory_id=territory.pk, model_id=territory.model_id,
               fields=["grants"], change="grant_added", user_id=user.pk if user else None,
               group_id=group.pk if group else None)


@transaction.atomic
def territory_grant_remove(*, actor, territory: Territory, user=None, group: Group | None = None) -> None:
    """Take access away from a user or a group (a member keeps membership but loses access too)."""
    grantee = _grantee(user, group)
    remove_perm(ACCESS_PERM, grantee, territory)
    _published("territory.updated", actor=actor, territory_id=territory.pk, model_id=territory.model_id,
               fields=["grants"], change="grant_removed", user_id=user.pk if user else None,
               group_id=group.pk if group else None)
