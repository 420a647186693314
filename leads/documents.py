"""Leads in the search index: the document, and the event consumers that keep it current.

The index is a read model (CQRS): the consumers below write each changed lead, read again from the
database, versioned by its `updated_at`, so a repeated or late event can never leave an older
version behind; a lead gone from the database (or merged away) is removed. Signals never index.
The document carries the ids the access rule decides by (owner, territory, the lead's own id for
shares), so every search filters by the user's visibility inside the engine.
"""

from django.urls import reverse
from django_elasticsearch_dsl import fields
from django_elasticsearch_dsl.registries import registry

from leads.models import Lead
from leads.selectors import lead_list
from salesapp.events import consumer
from salesapp.search_engine import RecordDocument, document_meta, index_records, search_configured
from salesapp.search_kinds import Facet, SearchKind, register_search_kind, user_labels
from territories.selectors import territory_names


@registry.register_document
class LeadDocument(RecordDocument):
    status = fields.KeywordField()
    source = fields.KeywordField()
    score = fields.IntegerField()

    Index, Django = document_meta(Lead, "lead")

    def get_queryset(self):
        """Leads that show in lists: merged-away leads are not searched."""
        return Lead.objects.filter(merged_into__isnull=True)

    def prepare_name(self, lead) -> str:
        return f"{lead.first_name} {lead.last_name}".strip()

    def prepare_company(self, lead) -> str:
        return lead.company

    def prepare_owner(self, lead):
        return lead.assigned_to_id


LEAD_EVENTS = ("lead.created", "lead.updated", "lead.deleted", "lead.qualified", "lead.assigned")


@consumer("search.leads", *LEAD_EVENTS, "lead.merged", "lead.converted", "territory.assignment_changed",
          "activity.logged", "activity.updated", "activity.deleted", "lead.imported", "activity.imported")
def lead_index_on_event(event: dict) -> None:
    """Write the leads an event touched to the index (both leads of a merge; the lead and the account,
    contact and deal a conversion made; a lead moved by realignment; a lead whose activity changed)."""
    if not search_configured():
        return
    payload, name = event["payload"], event["name"]
    if name in ("lead.imported", "activity.imported"):
        index_records("lead", payload["lead_ids"])
        return
    if name == "territory.assignment_changed":
        ids = [payload["record_id"]] if payload["record_type"] == "leads" else []
    elif name.startswith("activity."):
        ids = [payload["lead_id"]] if payload["lead_id"] else []
    else:
        ids = [payload["lead_id"]] + ([payload["merged_lead_id"]] if name == "lead.merged" else [])
    index_records("lead", ids)
    if name == "lead.converted":
        index_records("account", [payload["account_id"]])
        index_records("contact", [payload["contact_id"]])
        index_records("deal", [payload["opportunity_id"]])


def _status_labels(user, values) -> dict:
    return {value: label for value, label in Lead.Status.choices if value in values}


def register() -> None:
    """Make leads searchable: the database fields, the facets, the page, the document (from LeadsConfig.ready)."""
    register_search_kind(SearchKind(
        key="lead", label="Leads", model=Lead, visible=lambda user: lead_list(user=user),
        # The order of `fields` is the PostgreSQL full-text index's expression (migration 0005).
        fields=("first_name", "last_name", "company"), fuzzy_fields=("company", "last_name"),
        blind_fields={"email": "email_blind_index", "phone": "phone_blind_index"}, field_queries={"company": ("company",)},
        facets=(Facet("status", "status", _status_labels), Facet("owner", "assigned_to_id", user_labels),
                Facet("territory", "territory_id", _territory_labels)),
        document=LeadDocument, access_fields={"assigned_to": "owner"},
        url=lambda pk: reverse("leads:detail", args=[pk]), subtitle=("company", "email"),
    ))


def _territory_labels(user, values) -> dict:
    return territory_names(user=user, ids=values)
