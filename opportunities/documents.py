"""Accounts, contacts and deals in the search index: the documents, and the event consumers that keep them.

The index is a read model (CQRS): each consumer writes the records an event touched, read again from
the database, versioned by their `updated_at` (so a repeated or late event never leaves an older
version behind); a record gone from the database is removed. Signals never index. Contacts and deals
show their account's name, so an account's rename rewrites them too. Each document carries the ids
its access rule decides by: a contact its account, accounts and deals their owner and territory.
"""

from django.urls import reverse
from django_elasticsearch_dsl import fields
from django_elasticsearch_dsl.registries import registry

from opportunities.models import Account, Contact, Opportunity, Stage
from opportunities.selectors import account_list, contact_list, opportunity_list
from salesapp.events import consumer
from salesapp.search_engine import RecordDocument, document_meta, index_records, search_configured
from salesapp.search_kinds import Facet, SearchKind, register_search_kind, user_labels
from territories.selectors import territory_names


@registry.register_document
class AccountDocument(RecordDocument):
    website = fields.KeywordField()

    Index, Django = document_meta(Account, "account")

    def get_queryset(self):
        return Account.objects.all()

    def prepare_company(self, account) -> str:
        return account.name

    def prepare_website(self, account) -> str:
        return account.website_domain


@registry.register_document
class ContactDocument(RecordDocument):
    account = fields.IntegerField()

    Index, Django = document_meta(Contact, "contact")

    def get_queryset(self):
        return Contact.objects.select_related("account")

    def prepare_name(self, contact) -> str:
        return f"{contact.first_name} {contact.last_name}".strip()

    def prepare_company(self, contact) -> str:
        return contact.account.name

    def prepare_account(self, contact):
        return contact.account_id


@registry.register_document
class DealDocument(RecordDocument):
    stage = fields.KeywordField()
    account = fields.IntegerField()
    amount = fields.DoubleField()
    expected_close_date = fields.DateField()

    Index, Django = document_meta(Opportunity, "deal")

    def get_queryset(self):
        return Opportunity.objects.select_related("account")

    def prepare_company(self, deal) -> str:
        return deal.account.name

    def prepare_stage(self, deal) -> str:
        return deal.stage_id

    def prepare_account(self, deal):
        return deal.account_id

    def prepare_amount(self, deal):
        return float(deal.amount) if deal.amount is not None else None


ACCOUNT_EVENTS = ("account.created", "account.updated", "account.deleted")
CONTACT_EVENTS = ("contact.created", "contact.updated", "contact.deleted")
DEAL_EVENTS = ("opportunity.created", "opportunity.updated", "opportunity.deleted", "opportunity.stage_changed",
               "opportunity.won", "opportunity.lost", "opportunity.reopened", "opportunity.archived",
               "opportunity.restored")
REALIGNED = {"accounts": "account", "opportunities": "deal"}


@consumer("search.opportunities", *ACCOUNT_EVENTS, *CONTACT_EVENTS, *DEAL_EVENTS, "territory.assignment_changed",
          "activity.logged", "activity.completed", "activity.updated", "activity.deleted", "activity.imported")
def opportunities_index_on_event(event: dict) -> None:
    """Write the accounts, contacts and deals an event touched to the index (an account's rename also
    rewrites its contacts and deals, which show its name; realigned records; an activity's deal and account,
    whose last activity ranks them)."""
    if not search_configured():
        return
    payload, name = event["payload"], event["name"]
    entity = name.split(".")[0]
    if entity == "account":
        index_records("account", [payload["account_id"]])
        if name == "account.updated" and "name" in payload["fields"]:
            index_records("contact", Contact.objects.filter(account_id=payload["account_id"]).values_list("pk", flat=True))
            index_records("deal", Opportunity.objects.filter(account_id=payload["account_id"])
                          .values_list("pk", flat=True))
    elif entity == "contact":
        index_records("contact", [payload["contact_id"]])
    elif entity == "opportunity":
        index_records("deal", [payload["opportunity_id"]])
    elif name == "activity.imported":
        index_records("deal", [pk for pk, _when in payload["opportunity_last"]])
        index_records("account", [pk for pk, _when in payload["account_last"]])
    elif entity == "territory":
        if payload["record_type"] in REALIGNED:
            index_records(REALIGNED[payload["record_type"]], [payload["record_id"]])
    else:
        index_records("deal", [payload["opportunity_id"]] if payload["opportunity_id"] else [])
        index_records("account", [payload["account_id"]] if payload["account_id"] else [])


def _stage_labels(user, values) -> dict:
    return dict(Stage.objects.filter(key__in=values).values_list("key", "label"))


def _territory_labels(user, values) -> dict:
    return territory_names(user=user, ids=values)


def register() -> None:
    """Make accounts, contacts and deals searchable (from OpportunitiesConfig.ready)."""
    owner = Facet("owner", "owner_id", user_labels)
    territory = Facet("territory", "territory_id", _territory_labels)
    register_search_kind(SearchKind(
        key="contact", label="Contacts", model=Contact, visible=lambda user: contact_list(user=user),
        fields=("first_name", "last_name", "title"),
        blind_fields={"email": "email_blind_index", "phone": "phone_blind_index"},
        field_queries={"company": ("account__name",)}, facets=(owner,),
        document=ContactDocument, url=lambda pk: f"/contacts/{pk}/", subtitle=("company", "email"),
    ))
    register_search_kind(SearchKind(
        key="account", label="Accounts", model=Account, visible=lambda user: account_list(user=user),
        fields=("name", "website_domain", "industry"), fuzzy_fields=("name",),
        field_queries={"company": ("name",)}, facets=(owner, territory), document=AccountDocument,
        url=lambda pk: reverse("opportunities:account-detail", args=[pk]), subtitle=("industry", "website"),
    ))
    register_search_kind(SearchKind(
        key="deal", label="Deals", model=Opportunity, visible=lambda user: opportunity_list(user=user),
        fields=("name", "account__name"), fuzzy_fields=("name",), field_queries={"company": ("account__name",)},
        facets=(Facet("stage", "stage_id", _stage_labels), owner, territory), document=DealDocument,
        url=lambda pk: reverse("opportunities:detail", args=[pk]), subtitle=("company", "stage"),
    ))
