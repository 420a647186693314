"""The one fixture world the permission matrix walks.

Who is in it:
- `admin`;
- `manager` with two reps in their team: `rep` (owns every record below) and `teammate`;
- `other_rep`, a rep of another team under `other_manager`;
- `read_only`, holding the rep's territory (a guardian grant), so their refusals come from
  their role (403), not from the records being out of sight (404).

What is in it: a territory the rep holds (member, so a guardian grant) in the active
territory model, and, owned by the rep in that territory, a lead, an account with a
contact, an opportunity on that account, an activity on the deal, a quota, an advice on
the deal, an import job; plus a planning territory model with a realignment job, a
scoring model, a web-to-lead form, a loss reason and one published event.

Rows go straight to the tables: this world is the ground the matrix walks; what the
services do with them is tested in each app's folder.
"""

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone
from guardian.shortcuts import assign_perm

from activities.models import Activity
from intelligence.models import Recommendation, ScoringModel
from leads.models import Lead, WebToLeadForm
from opportunities.models import Account, ArchiveJob, Contact, LossReason, Opportunity, Stage
from quotas.models import Quota
from salesapp.crypto import blind_index
from salesapp.models import ImportJob, OutboxEvent, PrivacyRequest, SavedView, User
from salesapp.periods import current_quarter
from salesapp.services import user_create
from territories.models import RealignmentJob, Territory, TerritoryMember, TerritoryModel

PASSWORD = "matrix-pass-123"


@dataclass
class World:
    admin: User
    manager: User
    rep: User
    teammate: User
    other_manager: User
    other_rep: User
    read_only: User
    territory: Territory
    territory_model: TerritoryModel
    realignment_job: RealignmentJob
    lead: Lead
    duplicate_lead: Lead
    account: Account
    contact: Contact
    opportunity: Opportunity
    archived_opportunity: Opportunity
    archive_job: ArchiveJob
    stage: Stage
    activity: Activity
    quota: Quota
    recommendation: Recommendation
    scoring_model: ScoringModel
    import_job: ImportJob
    privacy_request: PrivacyRequest
    web_form: WebToLeadForm
    loss_reason: LossReason
    event: OutboxEvent
    group: Group
    saved_view: SavedView


def _user(email, role, manager=None) -> User:
    return user_create(email=f"{email}@matrix.example", password=PASSWORD, role=role, manager=manager,
                       first_name=email.replace("_", " ").title(), last_name="Matrix")


def build_world() -> World:
    admin = _user("admin", "admin")
    manager = _user("manager", "sales_manager")
    rep = _user("rep", "sales_rep", manager)
    rep.calendar_token = secrets.token_urlsafe(24)
    rep.save(update_fields=["calendar_token"])
    teammate = _user("teammate", "sales_rep", manager)
    other_manager = _user("other_manager", "sales_manager")
    other_rep = _user("other_rep", "sales_rep", other_manager)
    read_only = _user("read_only", "read_only")

    active_model = TerritoryModel.objects.get(state=TerritoryModel.State.ACTIVE)
    territory = Territory.objects.create(model=active_model, name="Matrix West", countries=["US"], states=["CA"])
    TerritoryMember.objects.create(territory=territory, user=rep)
    assign_perm("access_territory", rep, territory)
    assign_perm("access_territory", read_only, territory)
    planning = TerritoryModel.objects.create(name="Matrix plan", state=TerritoryModel.State.PLANNING)
    job = RealignmentJob.objects.create(model=planning, status=RealignmentJob.Status.PREVIEWED, created_by=admin)

    lead = Lead.objects.create(first_name="Lena", last_name="Lead", email="lena@prospect.example",
                               email_blind_index=blind_index("email", "lena@prospect.example"), company="Prospect Inc",
                               country="US", state="CA", assigned_to=rep, territory=territory)
    duplicate_lead = Lead.objects.create(first_name="Lena", last_name="Lead", email="lena.lead@prospect.example",
                                         email_blind_index=blind_index("email", "lena.lead@prospect.example"), company="Prospect Inc",
                                         country="US", state="CA", assigned_to=rep, territory=territory)
    account = Account.objects.create(name="Matrix Corp", normalized_name="matrix corp", billing_country="US",
                                     billing_state="CA", owner=rep, territory=territory)
    contact = Contact.objects.create(account=account, first_name="Cora", last_name="Contact",
                                     email="cora@matrix-corp.example", owner=rep)
    stage = Stage.objects.get(key="discovery")
    opportunity = Opportunity.objects.create(name="Matrix deal", account=account, stage=stage, owner=rep,
                                             territory=territory, amount=Decimal("10000"), probability=20,
                                             expected_close_date=timezone.localdate() + dt.timedelta(days=30))
    closed_long_ago = timezone.localdate() - dt.timedelta(days=3 * 365)
    archived_opportunity = Opportunity.objects.create(
        name="Matrix archived deal", account=account, stage=Stage.objects.get(key="closed_won"), owner=rep,
        territory=territory, amount=Decimal("5000"), probability=100, actual_close_date=closed_long_ago,
        archived_at=timezone.now())
    archive_job = ArchiveJob.objects.create(closed_before=closed_long_ago, created_by=manager)
    activity = Activity.objects.create(type="task", subject="Send the proposal", user=rep, created_by=rep,
                                       opportunity_id=opportunity.pk, account_id=account.pk,
                                       due_at=timezone.now() + dt.timedelta(days=2))
    quarter = current_quarter()
    quota = Quota.objects.create(user=rep, period=quarter.key, period_kind=quarter.kind, start_date=quarter.start,
                                 end_date=quarter.end, quota_amount=Decimal("50000"), status="published",
                                 created_by=manager)
    recommendation = Recommendation.objects.create(opportunity=opportunity, code="no_recent_activity",
                                                   action="Call the champion", reason="No activity for 14 days")
    scoring_model = ScoringModel.objects.create(kind="deal", version=1, algorithm="naive_bayes", blob="{}")
    import_job = ImportJob.objects.create(kind="leads", filename="leads.csv", content=b"email\n", created_by=rep)
    privacy_request = PrivacyRequest.objects.create(kind="access", email="someone@matrix.example",
                                                    archive=b"PK", status="succeeded", requested_by=admin)
    web_form = WebToLeadForm.objects.create(name="Pricing page", key="matrix-pricing", source="Website")
    loss_reason = LossReason.objects.create(name="Matrix: budget")
    event = OutboxEvent.objects.create(name="lead.created", payload={"lead_id": lead.pk}, actor=rep)
    group = Group.objects.get(name="sales_rep")
    saved_view = SavedView.objects.create(user=rep, list_key="deals", name="Matrix: my open deals", query="is_open=true")
    return World(admin=admin, manager=manager, rep=rep, teammate=teammate, other_manager=other_manager,
                 other_rep=other_rep, read_only=read_only, territory=territory, territory_model=planning,
                 realignment_job=job, lead=lead, duplicate_lead=duplicate_lead, account=account, contact=contact, opportunity=opportunity,
                 archived_opportunity=archived_opportunity, archive_job=archive_job,
                 stage=stage, activity=activity, quota=quota, recommendation=recommendation,
                 scoring_model=scoring_model, import_job=import_job,
                 privacy_request=privacy_request, web_form=web_form, loss_reason=loss_reason,
                 event=event, group=group, saved_view=saved_view)
