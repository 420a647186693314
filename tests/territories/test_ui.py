"""Territory pages: the tree, a territory, the form with per-field errors, members, match, realignment."""

import pytest
from django.urls import reverse

from territories import services
from territories.models import RealignmentJob, Territory, TerritoryMember
from tests.territories.conftest import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(admin_user, manager, rep):
    na = services.territory_create(actor=admin_user, name="North America", countries=["US", "CA"], owner=manager)
    west = services.territory_create(actor=admin_user, name="US West Tech", parent=na, states=["CA", "WA"],
                                     industry="technology", owner=manager)
    services.territory_member_add(actor=admin_user, territory=west, user=rep, daily_capacity=25)
    make_account("SF Tech", country="US", state="CA", industry="technology", territory=west)
    return {"na": na, "west": west}


def test_tree_shows_hierarchy_owners_rules_members_and_counts(client, manager, rep, plan):
    client.force_login(manager)
    page = client.get(reverse("territories:tree")).content.decode()
    assert page.index("North America") < page.index("US West Tech")
    assert "Country is US or CA" in page and "State is CA or WA; Industry is technology" in page
    assert f"{rep} (25)" in page
    assert "1 Accounts" in page
    assert str(manager) in page
    assert "Preview realignment to current rules" in page


def test_reps_see_their_territory_without_write_buttons(client, rep, plan):
    client.force_login(rep)
    page = client.get(reverse("territories:tree")).content.decode()
    assert "US West Tech" in page and "New territory" not in page and "Preview" not in page
    assert client.get(reverse("territories:detail", args=[plan["na"].pk])).status_code == 404
    assert client.get(reverse("territories:edit", args=[plan["west"].pk])).status_code == 403


def test_form_shows_errors_per_field(client, admin_user, plan):
    client.force_login(admin_user)
    response = client.post(reverse("territories:create"), {
        "name": "Bad", "type": "geographic", "countries": "USA", "zip_codes": "9*4", "priority": 0,
        "routing_policy": "round_robin", "min_employee_count": 10, "max_employee_count": 5,
    })
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"countries", "zip_codes", "max_employee_count"}
    assert "is-invalid" in response.content.decode()


def test_create_then_edit_saves(client, admin_user, plan):
    client.force_login(admin_user)
    response = client.post(reverse("territories:create"), {
        "name": "EMEA", "type": "geographic", "countries": "gb, de", "priority": 1, "routing_policy": "round_robin",
        "is_active": "on",
    })
    emea = Territory.objects.get(name="EMEA")
    assert response.status_code == 302 and emea.countries == ["GB", "DE"]
    page = client.get(reverse("territories:detail", args=[emea.pk])).content.decode()
    assert "Country is GB or DE" in page


def test_preview_impact_saves_nothing_until_applied(client, admin_user, plan, test_providers,
                                                    django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    west = plan["west"]
    portland = make_account("Portland Tech", country="US", state="OR", industry="technology", territory=plan["na"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("territories:edit", args=[west.pk]), {
            "name": west.name, "type": "industry", "parent": plan["na"].pk, "states": "CA, WA, OR",
            "industry": "technology", "priority": 0, "routing_policy": "round_robin", "is_active": "on",
            "preview": "1",
        })
    job = RealignmentJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("territories:job", args=[job.pk])
    assert Territory.objects.get(pk=west.pk).states == ["CA", "WA"]
    page = client.get(response["Location"]).content.decode()
    assert "Portland Tech" in page and "Apply 1 move and save the rules" in page
    assert 'role="progressbar"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("territories:job-apply", args=[job.pk]))
    portland.refresh_from_db()
    assert portland.territory_id == west.pk
    assert Territory.objects.get(pk=west.pk).states == ["CA", "WA", "OR"]
    progress = client.get(reverse("territories:job-progress", args=[job.pk])).content.decode()
    assert "100%" in progress and "Done" in progress


def test_members_are_added_and_removed_with_htmx(client, admin_user, other_rep, plan):
    client.force_login(admin_user)
    west = plan["west"]
    partial = client.post(reverse("territories:member-add", args=[west.pk]),
                          {"user": other_rep.pk, "daily_capacity": 5}, HTTP_HX_REQUEST="true")
    assert other_rep.email in partial.content.decode()
    assert TerritoryMember.objects.filter(territory=west, user=other_rep, daily_capacity=5).exists()
    client.post(reverse("territories:member-remove", args=[west.pk, other_rep.pk]))
    assert not TerritoryMember.objects.filter(territory=west, user=other_rep).exists()


def test_match_page_explains(client, rep, plan):
    client.force_login(rep)
    page = client.get(reverse("territories:match"), {"country": "US", "state": "CA", "industry": "technology"})
    text = page.content.decode()
    assert "territory US West Tech: state CA, industry technology" in text
    assert "deeper in the hierarchy" in text


def test_home_panel_lists_held_territories(client, rep, plan):
    client.force_login(rep)
    assert "My territories" in client.get(reverse("home")).content.decode()


def test_demo_loader_builds_the_plan(db):
    from salesapp.management.commands.seed_demo import Command
    from territories.demo import load_demo
    from territories.matching import territory_match

    load_demo(Command()._users())  # only this app's loader: others' data is theirs to test
    assert territory_match({"country": "US", "state": "CA", "industry": "technology"}).territory.name == "US West Tech"
    assert territory_match({"country": "US", "state": "NY"}).territory.name == "US East"
    assert territory_match({"country": "GB"}).territory.name == "EMEA"
    assert territory_match({"country": "GB", "employee_count": 5000}).territory.name == "EMEA Enterprise"
    west = Territory.objects.get(name="US West Tech", model__state="active")
    assert [m.user.email for m in west.members.all()] == ["rep1@demo.example"]
