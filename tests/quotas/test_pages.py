"""Quota pages: dashboard, planning tree with inline editing and the allocation dialog, admin bulk setup and import."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from quotas.models import Quota
from salesapp.periods import current_quarter
from tests.quotas.factories import committed, deal_won, quota, team

pytestmark = pytest.mark.django_db


@pytest.fixture
def current():
    return current_quarter()


def test_dashboard_shows_team_progress_and_the_chart(client, manager, admin_user, current):
    reps = team(manager)
    quota(admin_user, user=manager, amount=90000, period=current.key)
    quota(admin_user, user=reps[0], amount=30000, period=current.key)
    deal_won(reps[0], 15000, current.start)
    client.force_login(manager)
    page = client.get("/quotas/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "team quotas" in html and "15,000 / 30,000" in html and "50%" in html
    assert 'id="attainment-series"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert page.context["series"]["actual"][0] == 15000.0


def test_a_rep_sees_their_own_dashboard_and_not_others(client, rep, other_rep, admin_user, current):
    quota(admin_user, user=rep, amount=1000, period=current.key)
    client.force_login(rep)
    html = client.get("/quotas/").content.decode()
    assert "Attainment · " + str(rep) in html
    assert client.get(f"/quotas/?user={other_rep.pk}").status_code == 404
    assert client.get("/quotas/plan/").status_code == 403


def test_plan_tree_inline_edit_and_gap(client, manager, admin_user, current):
    reps = team(manager)
    quota(admin_user, user=manager, amount=100, period=current.key)
    client.force_login(manager)
    page = client.get("/quotas/plan/")
    assert page.status_code == 200
    assert [r["holder"] for r in page.context["rows"]] == [manager, *sorted(reps, key=lambda u: u.first_name)]
    # the inline editor, then a save that re-renders the table with the new gap
    cell = client.get(f"/quotas/plan/user/{reps[0].pk}/", {"period": current.key, "quota_type": "revenue"})
    assert 'name="quota_amount"' in cell.content.decode()
    with committed():
        saved = client.post(f"/quotas/plan/user/{reps[0].pk}/", {"period": current.key, "quota_type": "revenue",
                                                                 "quota_amount": "150"})
    html = saved.content.decode()
    assert "over-allocated by 50.00" in html
    assert Quota.objects.get(user=reps[0], period=current.key).quota_amount == Decimal(150)
    bad = client.post(f"/quotas/plan/user/{reps[0].pk}/", {"period": current.key, "quota_type": "revenue",
                                                           "quota_amount": "-1"})
    assert bad["HX-Retarget"] == f"#cell-user-{reps[0].pk}" and "greater than or equal to 0" in bad.content.decode()


def test_allocation_dialog_previews_then_allocates(client, manager, admin_user, current):
    team(manager)
    parent = quota(admin_user, user=manager, amount=300, period=current.key)
    client.force_login(manager)
    dialog = client.get(f"/quotas/{parent.pk}/allocate/")
    assert "By last period" in dialog.content.decode()
    preview = client.post(f"/quotas/{parent.pk}/allocate/", {"method": "even", "preview": "1"})
    assert "fully allocated" in preview.content.decode() and Quota.objects.count() == 1
    with committed():
        done = client.post(f"/quotas/{parent.pk}/allocate/", {"method": "even", "allocate": "1"})
    assert "quotasChanged" in done["HX-Trigger"]
    assert sorted(Quota.objects.filter(parent=parent).values_list("quota_amount", flat=True)) == [100, 100, 100]


def test_territory_plan_lists_territories(client, admin_user, current):
    from territories import services as territory_services

    west = territory_services.territory_create(actor=admin_user, name="West", countries=["DE"])
    territory_services.territory_create(actor=admin_user, name="West North", parent=west, countries=["DE"])
    client.force_login(admin_user)
    page = client.get("/quotas/plan/", {"dimension": "territories"})
    assert [str(r["holder"]) for r in page.context["rows"]] == ["West", "West North"]
    with committed():
        client.post(f"/quotas/plan/territory/{west.pk}/", {"period": current.key, "quota_type": "revenue",
                                                           "quota_amount": "5000", "dimension": "territories"})
    assert Quota.objects.get(territory=west).quota_amount == 5000


def test_home_panel_shows_my_quota(client, rep, admin_user, current):
    quota(admin_user, user=rep, amount=1000, period=current.key)
    client.force_login(rep)
    assert "My quotas" in client.get("/").content.decode()


def test_admin_bulk_setup_and_changelist(client, admin_user, manager):
    reps = team(manager)
    client.force_login(admin_user)
    assert client.get("/admin/quotas/quota/").status_code == 200
    with committed():
        response = client.post("/admin/quotas/quota/bulk-setup/", {
            "period": "Q2_2026", "quota_type": "deals", "quota_amount": "5", "status": "published",
            "users": [r.pk for r in reps]})
    assert response.status_code == 302
    assert Quota.objects.filter(period="Q2_2026", quota_type="deals", status="published").count() == 3
    bad = client.post("/admin/quotas/quota/bulk-setup/", {"period": "Q5", "quota_type": "deals",
                                                          "quota_amount": "5", "status": "draft"})
    assert "is not a period" in bad.content.decode() and "Choose at least one" in bad.content.decode()


def test_admin_add_form_reports_errors_on_the_form(client, admin_user, rep):
    client.force_login(admin_user)
    response = client.post("/admin/quotas/quota/add/", {"user": rep.pk, "period": "2026-13", "quota_type": "revenue",
                                                        "quota_amount": "10", "status": "draft"})
    assert response.status_code == 200 and "is not a period" in response.content.decode()
    with committed():
        ok = client.post("/admin/quotas/quota/add/", {"user": rep.pk, "period": "2026-03", "quota_type": "revenue",
                                                      "quota_amount": "10", "status": "draft"})
    assert ok.status_code == 302
    assert Quota.objects.get(user=rep).end_date == dt.date(2026, 3, 31)


def test_csv_import_reports_every_bad_row_and_writes_nothing(client, admin_user, rep):
    client.force_login(admin_user)
    csv = (f"user_email,period,quota_type,quota_amount\n{rep.email},Q1_2026,revenue,1000\n"
           "nobody@x.example,Q1_2026,revenue,5\n"
           f"{rep.email},Q9_2026,revenue,abc\n").encode()
    response = client.post("/admin/quotas/quota/import/", {"file": SimpleUploadedFile("q.csv", csv)})
    errors = response.context["job"].errors
    assert {(e["row"], e["column"]) for e in errors} == {(3, "user_email"), (4, "period"), (4, "quota_amount")}
    assert not Quota.objects.exists()
    good = f"user_email,period,quota_amount,status\n{rep.email},Q1_2026,1000,published\n".encode()
    with committed():
        client.post("/admin/quotas/quota/import/", {"file": SimpleUploadedFile("q.csv", good)})
    assert Quota.objects.get(user=rep).quota_amount == 1000


@pytest.mark.parametrize(("role", "plan_status", "may_post"), [
    ("admin", 200, True), ("sales_manager", 200, True), ("sales_rep", 403, False), ("read_only", 403, False)])
def test_who_reaches_which_page_and_route(client, api, role, plan_status, may_post):
    from tests.salesapp.factories import UserFactory

    user = UserFactory(role=role, email=f"{role}@matrix.example")
    client.force_login(user)
    assert client.get("/quotas/").status_code == 200
    assert client.get("/quotas/plan/").status_code == plan_status
    assert client.get("/quotas/plan/table/").status_code == plan_status
    assert api.as_user(user).get("/api/v1/quotas/").status_code == 200
    assert api.as_user(user).get("/api/v1/quotas/rollup/", {"period": "Q1_2026"}).status_code == 200
    created = api.as_user(user).post("/api/v1/quotas/", {"user_id": user.pk, "period": "Q1_2026",
                                                         "quota_amount": "1"})
    assert (created.status_code == 201) is may_post
