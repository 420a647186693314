"""The API: the issue's walk-through, validation naming fields, and the access rule on every route."""

import pytest
from django.utils import timezone

from opportunities.models import StageHistory
from tests.opportunities.factories import AccountFactory, OpportunityFactory


@pytest.mark.django_db
def test_account_contact_opportunity_then_patch_close(api, rep):
    client = api.as_user(rep)
    account = client.post("/api/v1/accounts/", {"name": "Acme, Inc.", "website_domain": "https://www.acme.com",
                                                 "billing_country": "US"}, format="json")
    assert account.status_code == 201, account.json()
    assert account.json()["website_domain"] == "acme.com"
    dup = client.post("/api/v1/accounts/", {"name": "ACME inc"}, format="json")
    assert dup.status_code == 400
    assert "name" in dup.json()["error"]["fields"]
    contact = client.post("/api/v1/contacts/", {"account_id": account.json()["id"], "first_name": "Jo",
                                                "last_name": "Doe", "email": "Jo@Acme.com",
                                                "buying_role": "champion"}, format="json")
    assert contact.status_code == 201, contact.json()
    opp = client.post("/api/v1/opportunities/", {"account_id": account.json()["id"], "name": "Acme platform",
                                                 "amount": "12000", "expected_close_date": "2026-12-15",
                                                 "contact_ids": [contact.json()["id"]]}, format="json")
    assert opp.status_code == 201, opp.json()
    body = opp.json()
    assert (body["stage"], body["probability"], body["owner_id"]) == ("discovery", 10, rep.pk)
    oid = body["id"]

    patched = client.patch(f"/api/v1/opportunities/{oid}/", {"stage": "proposal"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["stage"], patched.json()["probability"]) == ("proposal", 50)
    assert StageHistory.objects.filter(opportunity_id=oid, from_stage="discovery", to_stage="proposal").exists()
    history = client.get(f"/api/v1/opportunities/{oid}/history/").json()
    assert [h["to_stage"] for h in history] == ["proposal", "discovery"]

    lost = client.post(f"/api/v1/opportunities/{oid}/close/", {"outcome": "lost"}, format="json")
    assert lost.status_code == 400
    assert "reason" in lost.json()["error"]["fields"]
    assert lost.json()["error"]["message"].startswith("reason")

    won = client.post(f"/api/v1/opportunities/{oid}/close/", {"outcome": "won"}, format="json")
    assert won.status_code == 200, won.json()
    assert won.json()["actual_close_date"] == timezone.localdate().isoformat()
    assert won.json()["stage"] == "closed_won"

    assert client.post(f"/api/v1/opportunities/{oid}/reopen/", {}, format="json").status_code == 403


@pytest.mark.django_db
def test_put_validates_stage_moves(api, rep):
    opp = OpportunityFactory(owner=rep)
    client = api.as_user(rep)
    body = client.get(f"/api/v1/opportunities/{opp.pk}/").json()
    body.update(stage="closed_won")
    resp = client.put(f"/api/v1/opportunities/{opp.pk}/", body, format="json")
    assert resp.status_code == 400
    assert "stage" in resp.json()["error"]["fields"]
    body.update(stage="negotiation", probability=None)
    resp = client.put(f"/api/v1/opportunities/{opp.pk}/", body, format="json")
    assert resp.status_code == 200, resp.json()
    assert resp.json()["probability"] == 75


@pytest.mark.django_db
def test_manager_reopens_and_stage_list(api, manager, rep):
    opp = OpportunityFactory(owner=rep, stage="proposal")
    api.as_user(rep).post(f"/api/v1/opportunities/{opp.pk}/close/", {"outcome": "lost", "reason": "Timing"},
                          format="json")
    resp = api.as_user(manager).post(f"/api/v1/opportunities/{opp.pk}/reopen/", {}, format="json")
    assert resp.status_code == 200, resp.json()
    assert resp.json()["stage"] == "proposal"
    stages = api.get("/api/v1/opportunity-stages/").json()
    assert [(s["key"], s["default_probability"]) for s in stages][:2] == [("discovery", 10), ("qualification", 20)]


@pytest.mark.django_db
def test_bulk_stage_api(api, rep, other_rep):
    mine = [OpportunityFactory(owner=rep) for _ in range(2)]
    hidden = OpportunityFactory(owner=other_rep)
    resp = api.as_user(rep).post("/api/v1/opportunities/bulk-stage/",
                                 {"ids": [o.pk for o in mine] + [hidden.pk], "stage": "negotiation"}, format="json")
    assert resp.status_code == 200, resp.json()
    assert sorted(resp.json()["updated"]) == sorted(o.pk for o in mine)
    assert resp.json()["errors"] == {str(hidden.pk): "Not found."}
    hidden.refresh_from_db()
    assert hidden.stage_id == "discovery"


@pytest.mark.django_db
def test_list_filters(api, rep):
    a = OpportunityFactory(owner=rep, expected_close_date="2026-02-10")
    OpportunityFactory(owner=rep, stage="proposal", expected_close_date="2026-05-10")
    client = api.as_user(rep)
    rows = client.get("/api/v1/opportunities/?stage=discovery").json()["results"]
    assert [r["id"] for r in rows] == [a.pk]
    rows = client.get("/api/v1/opportunities/?close_period=Q1_2026").json()["results"]
    assert [r["id"] for r in rows] == [a.pk]
    rows = client.get("/api/v1/opportunities/?category=best_case").json()["results"]
    assert len(rows) == 1 and rows[0]["stage"] == "proposal"


ROUTES = [
    ("get", "/api/v1/opportunities/{opp}/"),
    ("patch", "/api/v1/opportunities/{opp}/"),
    ("get", "/api/v1/opportunities/{opp}/history/"),
    ("post", "/api/v1/opportunities/{opp}/close/"),
    ("get", "/api/v1/accounts/{account}/"),
    ("patch", "/api/v1/accounts/{account}/"),
    ("get", "/api/v1/contacts/{contact}/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_records_of_others_answer_404(api, rep, other_rep, manager, viewer, admin_user, method, route):  # noqa: PLR0917
    """A rep outside the owner's subtree gets 404; the owner's manager and admins see it; viewers read only."""
    from opportunities.services import contacts

    opp = OpportunityFactory(owner=rep)
    contact = contacts.contact_create(actor=rep, account=opp.account, last_name="Doe")
    url = route.format(opp=opp.pk, account=opp.account_id, contact=contact.pk)
    body = {"outcome": "lost", "reason": "Price"} if "close" in url else {"next_step": "call"}
    call = lambda user: getattr(api.as_user(user), method)(url, body, format="json")  # noqa: E731
    assert call(other_rep).status_code == 404
    expected_ok = 200
    assert call(manager).status_code == expected_ok
    if method == "get":
        assert call(viewer).status_code == 404  # not in the viewer's subtree
        assert call(admin_user).status_code == 200
    else:
        assert call(viewer).status_code == 403


@pytest.mark.django_db
def test_lists_show_only_visible_records(api, rep, other_rep, manager):
    OpportunityFactory(owner=rep)
    OpportunityFactory(owner=other_rep)
    for path in ("/api/v1/opportunities/", "/api/v1/accounts/"):
        assert len(api.as_user(rep).get(path).json()["results"]) == 1
        assert len(api.as_user(manager).get(path).json()["results"]) == 1
    assert api.as_user(other_rep).get("/api/v1/contacts/").json()["results"] == []


@pytest.mark.django_db
def test_delete_needs_opportunity_delete(api, rep, manager):
    opp = OpportunityFactory(owner=rep)
    assert api.as_user(rep).delete(f"/api/v1/opportunities/{opp.pk}/").status_code == 403
    assert api.as_user(manager).delete(f"/api/v1/opportunities/{opp.pk}/").status_code == 204


@pytest.mark.django_db
def test_account_for_invisible_account_is_refused(api, rep, other_rep):
    theirs = AccountFactory(owner=other_rep)
    resp = api.as_user(rep).post("/api/v1/opportunities/", {"account_id": theirs.pk, "name": "X"}, format="json")
    assert resp.status_code == 400
    assert "account_id" in resp.json()["error"]["fields"]


@pytest.mark.django_db
def test_read_only_reads_but_never_writes(api, viewer, rep):
    client = api.as_user(viewer)
    for path in ("/api/v1/pipeline/summary/", "/api/v1/forecasts/?period=Q1_2026", "/api/v1/forecasts/adjustments/",
                 "/api/v1/opportunity-stages/", "/api/v1/loss-reasons/", "/api/v1/opportunities/",
                 "/api/v1/accounts/", "/api/v1/contacts/"):
        assert client.get(path).status_code == 200, path
    for path, body in (("/api/v1/forecasts/", {"period": "Q1_2026", "commit": 1, "best_case": 1}),
                       ("/api/v1/opportunities/bulk-stage/", {"ids": [1], "stage": "proposal"}),
                       ("/api/v1/accounts/", {"name": "X"}),
                       ("/api/v1/forecasts/adjustments/", {})):
        assert client.post(path, body, format="json").status_code == 403, path
    assert api.as_user(rep).patch("/api/v1/opportunity-stages/discovery/", {"default_probability": 5},
                                  format="json").status_code == 403


@pytest.mark.django_db
def test_admin_changes_stage_default(api, admin_user):
    resp = api.as_user(admin_user).patch("/api/v1/opportunity-stages/proposal/", {"default_probability": 55},
                                         format="json")
    assert resp.status_code == 200, resp.json()
    assert resp.json()["default_probability"] == 55


@pytest.mark.django_db
def test_put_round_trip_by_manager_does_not_pin_probability_or_category(api, manager, rep):
    opp = OpportunityFactory(owner=rep)
    client = api.as_user(manager)
    body = client.get(f"/api/v1/opportunities/{opp.pk}/").json()
    resp = client.put(f"/api/v1/opportunities/{opp.pk}/", {**body, "stage": "proposal"}, format="json")
    assert resp.status_code == 200, resp.json()
    got = resp.json()
    assert (got["probability"], got["probability_is_manual"]) == (50, False)
    assert (got["forecast_category"], got["forecast_category_is_manual"]) == ("best_case", False)
