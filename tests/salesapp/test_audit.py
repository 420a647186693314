"""The audit trail records who changed what: API, admin console and bulk writes."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from salesapp.audit import audit_bulk
from salesapp.models import User
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


def _entries_for(user):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_pk=str(user.pk))


def test_api_update_with_a_bearer_token_is_audited_with_the_admin_as_actor(bearer, admin_user, rep):
    client = bearer(admin_user)  # a real JWT, so the audit middleware sees no session user
    response = client.patch(f"/api/v1/users/{rep.pk}/", {"first_name": "Audited"})
    assert response.status_code == 200
    entries = [e for e in _entries_for(rep).filter(action=LogEntry.Action.UPDATE) if "first_name" in e.changes_dict]
    assert [(e.actor, e.changes_dict["first_name"][1]) for e in entries] == [(admin_user, "Audited")]


def test_api_create_is_audited_with_the_admin_as_actor(bearer, admin_user):
    response = bearer(admin_user).post(
        "/api/v1/users/", {"email": "hired@test.example", "password": "a-long-secret-9", "role": "sales_rep"}
    )
    assert response.status_code == 201
    created = User.objects.get(email="hired@test.example")
    entry = _entries_for(created).get(action=LogEntry.Action.CREATE)
    assert entry.actor == admin_user


def test_passwords_never_reach_the_audit_log(bearer, admin_user, rep):
    bearer(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"password": "another-secret-55"})
    for entry in _entries_for(rep):
        assert "password" not in entry.changes_dict


def test_admin_console_update_is_audited_with_the_admin_as_actor(client, admin_user, rep):
    # Given the admin signed in to the admin console
    client.force_login(admin_user)
    url = f"/admin/salesapp/user/{rep.pk}/change/"
    assert client.get(url).status_code == 200
    # When they change the rep's last name there
    response = client.post(url, {
        "email": rep.email,
        "first_name": rep.first_name,
        "last_name": "Console",
        "role": "sales_rep",
        "manager": rep.manager_id or "",
        "groups": list(rep.groups.values_list("pk", flat=True)),
        "is_active": "on",
        "date_joined_0": rep.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": rep.date_joined.strftime("%H:%M:%S"),
    })
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    # Then the change is in the audit log under the admin's name
    rep.refresh_from_db()
    assert rep.last_name == "Console"
    entries = [e for e in _entries_for(rep).filter(action=LogEntry.Action.UPDATE) if "last_name" in e.changes_dict]
    assert [(e.actor, e.changes_dict["last_name"][1]) for e in entries] == [(admin_user, "Console")]


def test_admin_console_refuses_a_manager_cycle(client, admin_user):
    boss = UserFactory(email="boss@test.example", role="sales_manager")
    report = UserFactory(email="report@test.example", manager=boss)
    client.force_login(admin_user)
    response = client.post(f"/admin/salesapp/user/{boss.pk}/change/", {
        "email": boss.email, "first_name": "", "last_name": "", "role": "sales_manager",
        "manager": report.pk, "is_active": "on",
        "date_joined_0": boss.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": boss.date_joined.strftime("%H:%M:%S"),
    })
    assert response.status_code == 200  # the form comes back with the error
    assert "hierarchy would loop" in response.content.decode()
    boss.refresh_from_db()
    assert boss.manager_id is None


def test_admin_console_role_change_moves_the_group(client, admin_user, rep):
    client.force_login(admin_user)
    response = client.post(f"/admin/salesapp/user/{rep.pk}/change/", {
        "email": rep.email, "first_name": "", "last_name": "", "role": "read_only",
        "manager": "", "groups": list(rep.groups.values_list("pk", flat=True)), "is_active": "on",
        "date_joined_0": rep.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": rep.date_joined.strftime("%H:%M:%S"),
    })
    assert response.status_code == 302
    assert list(User.objects.get(pk=rep.pk).groups.values_list("name", flat=True)) == ["read_only"]


def test_audit_bulk_writes_one_entry_per_record(admin_user, rep, other_rep):
    before = LogEntry.objects.count()
    # Given a bulk update that bypassed model signals
    User.objects.filter(pk__in=[rep.pk, other_rep.pk]).update(role="read_only")
    # When the service records it
    written = audit_bulk(
        User,
        {rep.pk: {"role": ["sales_rep", "read_only"]}, other_rep.pk: {"role": ["sales_rep", "read_only"]}},
        actor=admin_user,
    )
    # Then each record has its entry, with the actor and the change
    assert written == 2
    assert LogEntry.objects.count() == before + 2
    for user in (rep, other_rep):
        entry = _entries_for(user).get(actor=admin_user)
        assert entry.actor == admin_user
        assert entry.changes_dict == {"role": ["sales_rep", "read_only"]}


def test_audit_bulk_with_nothing_changed_writes_nothing():
    assert audit_bulk(User, {}) == 0


def test_bulk_work_after_a_request_is_not_blamed_on_that_requests_user(bearer, admin_user, rep, other_rep):
    # Given an admin's API request has finished on this thread
    bearer(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"first_name": "Renamed"}, format="json")
    # When background work writes audit entries without an actor
    audit_bulk(User, {other_rep.pk: {"first_name": ["a", "b"]}})
    # Then nobody is named as its actor
    entry = LogEntry.objects.filter(object_pk=str(other_rep.pk)).latest("timestamp")
    assert entry.actor is None
