"""Search through the backend switch: database everywhere, PostgreSQL extras, a configured server that is down."""

import elasticsearch
import pytest
from django.db import connection

from leads.models import Lead
from salesapp import search
from tests.leads.factories import LeadFactory


@pytest.mark.django_db
def test_database_search_matches_name_email_company_and_phone_within_the_restricted_set(rep, other_rep):
    mine = LeadFactory(assigned_to=rep, first_name="Ingrid", last_name="Bergman", company="Nordic Timber",
                       email="ib.1915@fjord-mail.example", phone="+46 555 0101")
    LeadFactory(assigned_to=other_rep, first_name="Ingrid", last_name="Other")
    visible = Lead.objects.filter(assigned_to=rep)
    # Email and phone are encrypted: found whole (any case, any phone punctuation), never by a piece.
    for text in ("ingrid", "Bergman", "nordic", "ib.1915@fjord-mail.example", "IB.1915@Fjord-Mail.example ",
                 "+46 (555) 0101"):
        assert list(search.search_filter(visible, text)) == [mine], text
    for piece in ("fjord-mail", "ib.1915", "555 0101"):
        assert list(search.search_filter(visible, piece)) == [], piece
    assert list(search.search_filter(visible, "")) == [mine]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text and trigram search are PostgreSQL's")
def test_postgres_search_is_full_text_and_typo_tolerant():
    lead = LeadFactory(first_name="Margaret", last_name="Hamilton", company="Apollo Guidance Systems")
    assert search.backend_name() == "postgresql"
    assert list(search.search_filter(Lead.objects.all(), "margaret apollo")) == [lead]  # words anywhere
    assert list(search.search_filter(Lead.objects.all(), "Hamiltn")) == [lead]  # trigram similarity
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'leads_lead'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"lead_search_fts_gin", "lead_company_trgm", "lead_last_name_trgm"} <= names


def test_a_configured_search_server_that_is_down_raises_never_falls_back(settings, rep):
    # Nothing listens on port 9: the configured engine is down, which is an error, not a database search.
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    assert search.backend_name() == "elasticsearch"
    with pytest.raises(elasticsearch.ConnectionError):
        list(search.search_filter(Lead.objects.restrict(rep), "ingrid", user=rep))
